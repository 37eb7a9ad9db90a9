/* SPDX-License-Identifier: Apache-2.0 */
/*
 * librepgate (repgate.h): the client's protocol core, its gateways, its
 * streams and the callbacks, around the socket of net.c.
 *
 * The core's callbacks never re-enter the core, and neither may the app's
 * callbacks run inside it (the app may publish from its replay callback).
 * So replay, applied and events are recorded in the stream (or the event
 * ring) while the core runs, and dispatched after it returned (dispatch());
 * only deliver runs inside, because its data points into a packet the core
 * holds, and during it rg_client_applied is deferred the same way.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client_impl.h"
#include "keys.h"

static_assert(RG_CLIENT_PUBKEY_CHARS == RG_KEY_B64_CHARS, "repgate.h's pubkey is keys.h's base64");

uint64_t
rg_client_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * RG_NS_PER_S + (uint64_t)ts.tv_nsec;
}

void
rg_client_config_default(struct rg_client_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->streams_max = 1024;
	cfg->stream_records_max = 1024;
	cfg->records_max = 65536;
	cfg->bytes_max = 64ull << 20;
	cfg->window_records = 256;
	cfg->pkt_bytes_max = 1472;
	cfg->connect_timeout_ns = 5 * RG_NS_PER_S;
	cfg->dead_after_ns = 1500 * RG_NS_PER_MS;
}

const char *
rg_client_strerror(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case -EAGAIN:
		return "EAGAIN (backpressure: poll and try again)";
	case -ENOTCONN:
		return "ENOTCONN (the stream is resyncing: wait for the replay callback)";
	case -EINVAL:
		return "EINVAL (invalid argument)";
	case -ENOENT:
		return "ENOENT (no such stream)";
	case -EEXIST:
		return "EEXIST (already there)";
	case -ENOSPC:
		return "ENOSPC (a table is full)";
	case -ENOMEM:
		return "ENOMEM (out of memory)";
	case -EDEADLK:
		return "EDEADLK (not allowed inside deliver)";
	case -ETIMEDOUT:
		return "ETIMEDOUT (timed out)";
	case -EPERM:
		return "EPERM (not permitted: from rg_client_create, a key file others may read)";
	case -EIO:
		return "EIO (I/O error, or the crypto library failed)";
	case RG_CLIENT_ENOTACTIVE:
		return "ENOTACTIVE (the namespace is not active here)";
	default:
		return "another errno (see strerror)";
	}
}

/* ---- small pieces ---- */

static struct cl_stream *
stream_of(struct rg_client *c, uint64_t id)
{
	uint32_t i = rg_stab_get(&c->tab, id);

	return i == RG_STAB_NONE ? NULL : &c->streams[i];
}

static struct cl_stream *
stream_add(struct rg_client *c, uint64_t id, enum cl_stream_kind kind)
{
	struct cl_stream *s;

	if (c->nstreams >= c->cfg.streams_max || rg_stab_put(&c->tab, id, c->nstreams) != 0)
		return NULL;
	s = &c->streams[c->nstreams++];
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->kind = (uint8_t)kind;
	return s;
}

static void
defer(struct rg_client *c, struct cl_stream *s, uint8_t what)
{
	s->pending |= what;
	if (!s->dirty) {
		s->dirty = 1;
		c->dirty[c->ndirty++] =
		    (uint32_t)(s - c->streams); /* inv. 2: once, <= streams_max */
	}
}

static void
event(struct rg_client *c, const struct rg_client_event *ev)
{
	if (c->ev_tail - c->ev_head >= CL_EVENTS_MAX)
		c->ev_head++; /* a full ring keeps the newest: events are rare, progress is not */
	c->events[c->ev_tail++ % CL_EVENTS_MAX] = *ev;
}

static int
gw_index(const struct rg_client *c, uint16_t id)
{
	for (uint16_t i = 0; i < c->ngws; i++) /* bounded by RG_CLIENT_GATEWAYS_MAX */
		if (c->gws[i].id == id)
			return i;
	return -1;
}

int
cl_gw_of(const struct rg_client *c, const struct sockaddr_in *sa)
{
	for (uint16_t i = 0; i < c->ngws; i++)
		if (c->gws[i].sa.sin_addr.s_addr == sa->sin_addr.s_addr &&
		    c->gws[i].sa.sin_port == sa->sin_port)
			return i;
	return -1;
}

static uint16_t
serving_id(const struct rg_client *c)
{
	return c->serving < 0 ? 0 : c->gws[c->serving].id;
}

/* ---- receive buffers (the core's packet handles; inv. 4) ---- */

struct cl_rxbuf *
cl_rxbuf_get(struct rg_client *c)
{
	struct cl_rxbuf *b = c->rx_free;

	if (b == NULL)
		return NULL;
	c->rx_free = b->next_free;
	c->rx_free_n--;
	b->next_free = NULL;
	b->refs = 1;
	return b;
}

void
cl_rxbuf_put(struct rg_client *c, struct cl_rxbuf *b)
{
	RG_ASSERT(b->refs > 0);
	if (--b->refs > 0)
		return;
	b->next_free = c->rx_free;
	c->rx_free = b;
	c->rx_free_n++;
}

/* ---- the core's callbacks (inside a core call) ---- */

static void
cb_rx_hold(void *ctx, void *h)
{
	(void)ctx;
	((struct cl_rxbuf *)h)->refs++;
}

static void
cb_rx_release(void *ctx, void *h)
{
	cl_rxbuf_put(ctx, h);
}

static void
cb_tx_release(void *ctx, void *h)
{
	struct rg_client *c = ctx;
	struct cl_txrec *r = h;

	c->held_records--;
	c->held_bytes -= r->len;
	c->st.acked++;
	free(r);
}

static void
cb_replay(void *ctx, uint16_t gw, uint64_t stream, uint64_t from)
{
	struct rg_client *c = ctx;
	struct cl_stream *s = stream_of(c, stream);

	(void)gw;
	if (s == NULL || s->kind != CS_TX)
		return;
	s->ready = 0; /* inv. 3: until the app has heard where to publish from */
	s->replay_from = from;
	defer(c, s, CS_P_REPLAY);
}

static void
cb_applied(void *ctx, uint16_t gw, uint64_t stream, uint64_t applied)
{
	struct rg_client *c = ctx;
	struct cl_stream *s = stream_of(c, stream);

	(void)gw;
	if (s == NULL || s->kind != CS_TX || applied <= s->applied)
		return;
	c->st.applied += applied - s->applied;
	s->applied = applied;
	defer(c, s, CS_P_APPLIED);
}

static int
ns_subscribed(const struct rg_client *c, uint32_t ns)
{
	for (uint32_t i = 0; i < c->nns; i++) /* bounded by CL_NS_MAX */
		if (c->ns[i].ns == ns)
			return 1;
	return 0;
}

/*
 * The gateway wants to send us stream: where our consumer stands. A stream
 * the app has not asked for (yet: a consumer that restarted may subscribe
 * to it later, or never) waits (-EINPROGRESS): its request is acked, so the
 * lane it shares with the streams we do want stays clean (a refusal would
 * leave its packets unacked, data and all), and a later subscribe takes it.
 */
static int
cb_rx_open(void *ctx, uint16_t gw, uint64_t stream, uint64_t *applied)
{
	struct rg_client *c = ctx;
	struct cl_stream *s = stream_of(c, stream);
	uint64_t a = 0;

	(void)gw;
	if (s != NULL) {
		if (s->kind != CS_RX)
			return -EPERM;
		if (s->offered)
			return -EINPROGRESS;
		*applied = s->applied;
		return 0;
	}
	if (!ns_subscribed(c, (uint32_t)(stream >> 32)) ||
	    (c->cb.stream_applied != NULL && c->cb.stream_applied(c->cb.ctx, stream, &a) != 0)) {
		if ((s = stream_add(c, stream, CS_RX)) == NULL)
			return -ENOSPC;
		s->offered = 1;
		return -EINPROGRESS;
	}
	if (a == UINT64_MAX || (s = stream_add(c, stream, CS_RX)) == NULL)
		return -ENOSPC;
	s->by_ns = 1;
	s->applied = s->delivered = a;
	*applied = a;
	return 0;
}

/* The app asks for a stream the gateway offered already: it is taken from applied on. */
static void
take_offered(struct rg_client *c, struct cl_stream *s, uint64_t applied, int by_ns)
{
	s->offered = 0;
	s->by_ns = (uint8_t)by_ns;
	s->applied = s->delivered = applied;
	rg_core_rx_accept(c->core, s->id, applied); /* -EALREADY/-ENOENT: it asks again anyway */
}

static int
deliver_app(struct rg_client *c, struct cl_stream *s, uint64_t seq, uint32_t version,
	    const uint8_t *data, uint32_t len)
{
	uint64_t before = s->delivered;
	int rc;

	s->delivered = seq; /* so the app may apply it from inside deliver */
	rc = c->cb.deliver != NULL ? c->cb.deliver(c->cb.ctx, s->id, seq, version, data, len) : 0;
	if (rc != 0) {
		s->delivered = before; /* it comes again: it was not taken, so not applied either */
		if (s->applied > before)
			s->applied = before;
		c->st.refused++;
		return -EAGAIN;
	}
	c->st.delivered++;
	c->st.delivered_bytes += len;
	return 0;
}

/* A piece of a record that came in several: put together, handed over when complete. */
static int
deliver_piece(struct rg_client *c, struct cl_stream *s, const struct rg_rx_frag *f)
{
	int rc;

	if (f->off == 0 && s->asm_buf == NULL) {
		if (c->held_bytes + f->record_len > c->cfg.bytes_max && c->held_bytes > 0)
			return -EAGAIN; /* inv. 1: comes again when something was released */
		s->asm_buf = malloc(f->record_len);
		if (s->asm_buf == NULL)
			return -EAGAIN;
		s->asm_seq = f->seq;
		s->asm_len = f->record_len;
		s->asm_got = 0;
		c->held_bytes += f->record_len;
	}
	/* The core delivers each byte once, in order (a refused piece comes again as it was). */
	RG_ASSERT(f->seq == s->asm_seq && f->off == s->asm_got);
	memcpy(s->asm_buf + f->off, f->data, f->len);
	s->asm_got += f->len;
	if (s->asm_got < s->asm_len)
		return 0;
	rc = deliver_app(c, s, f->seq, f->version, s->asm_buf, s->asm_len);
	if (rc != 0) {
		s->asm_got -= f->len; /* it comes again */
		return rc;
	}
	c->held_bytes -= s->asm_len;
	free(s->asm_buf);
	s->asm_buf = NULL;
	return 0;
}

static int
cb_deliver(void *ctx, uint16_t gw, uint64_t stream, const struct rg_rx_frag *f)
{
	struct rg_client *c = ctx;
	struct cl_stream *s = stream_of(c, stream);

	(void)gw;
	if (s == NULL || s->kind != CS_RX)
		return -EAGAIN; /* not reached: the core delivers only streams rx_open took */
	if (f->off == 0 && f->len == f->record_len && s->asm_buf == NULL)
		return deliver_app(c, s, f->seq, f->version, f->data, f->len); /* zero copy */
	return deliver_piece(c, s, f);
}

static void
cb_sub_reply(void *ctx, uint16_t gw, uint8_t kind, uint64_t key, uint8_t status)
{
	struct rg_client *c = ctx;
	struct rg_client_event ev = { .type = status == RG_SUB_OK ? RG_CLIENT_EV_SUBSCRIBED
								  : RG_CLIENT_EV_REFUSED,
				      .gateway = gw,
				      .namespace_sub = kind == RG_SUB_NAMESPACE,
				      .key = key,
				      .status = status };

	event(c, &ev);
}

/* ---- setup ---- */

static uint64_t
rng_next(void *ctx)
{
	return rg_splitmix64(ctx);
}

static uint64_t
new_incarnation(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* the wall clock in µs, then 12 bits of noise: a restarted client's is larger */
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000) << 12 |
	       ((uint64_t)getpid() ^ rg_client_now_ns()) % 4096;
}

/* Says why in err (NULL or errlen 0: not said) and returns rc. */
static int
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int
sizes_check(const struct rg_client_config *cfg, char *err, size_t errlen)
{
	if (cfg->streams_max == 0 || cfg->streams_max > (1u << 20))
		return fail(err, errlen, -EINVAL, "streams_max %u: want 1..%u", cfg->streams_max,
			    1u << 20);
	if (cfg->stream_records_max == 0 || cfg->records_max == 0 || cfg->bytes_max == 0)
		return fail(err, errlen, -EINVAL,
			    "stream_records_max, records_max and bytes_max must be nonzero");
	if (cfg->window_records < 2 || (cfg->window_records & (cfg->window_records - 1)) != 0)
		return fail(err, errlen, -EINVAL, "window_records %u: want a power of two, >= 2",
			    cfg->window_records);
	if (cfg->pkt_bytes_max < 256 || cfg->pkt_bytes_max > RG_PKT_BYTES_MAX)
		return fail(err, errlen, -EINVAL, "pkt_bytes_max %u: want 256..%u",
			    cfg->pkt_bytes_max, RG_PKT_BYTES_MAX);
	if (cfg->connect_timeout_ns == 0 || cfg->dead_after_ns == 0)
		return fail(err, errlen, -EINVAL,
			    "connect_timeout_ns and dead_after_ns must be nonzero");
	return 0;
}

/* One gateway's entry, i of cfg (the ones before it checked). */
static int
gateway_check(const struct rg_client_config *cfg, uint16_t i, char *err, size_t errlen)
{
	const struct rg_client_gateway *g = &cfg->gateways[i];
	int sealed = cfg->key_file[0] != '\0';
	struct in_addr a;

	if (g->id == 0 || g->id == cfg->id)
		return fail(err, errlen, -EINVAL,
			    "gateway %u: want an id 1..65535, not the client's", g->id);
	if (g->port == 0)
		return fail(err, errlen, -EINVAL, "gateway %u: port 0", g->id);
	if (memchr(g->addr, '\0', sizeof(g->addr)) == NULL || inet_pton(AF_INET, g->addr, &a) != 1)
		return fail(err, errlen, -EINVAL, "gateway %u: addr is not a dotted IPv4 address",
			    g->id);
	for (uint16_t k = 0; k < i; k++)
		if (cfg->gateways[k].id == g->id)
			return fail(err, errlen, -EINVAL, "gateway %u is listed twice", g->id);
	if (memchr(g->pubkey, '\0', sizeof(g->pubkey)) == NULL)
		return fail(err, errlen, -EINVAL, "gateway %u: pubkey is not NUL-terminated",
			    g->id);
	if (sealed && g->pubkey[0] == '\0')
		return fail(err, errlen, -EINVAL,
			    "gateway %u has no pubkey: with key_file set every gateway needs its "
			    "public key (`repgatectl pubkey` of its security.key)",
			    g->id);
	if (!sealed && g->pubkey[0] != '\0')
		return fail(err, errlen, -EINVAL,
			    "gateway %u has a pubkey but key_file is not set: set key_file to "
			    "seal, or clear the pubkeys for a gateway in security.mode \"none\"",
			    g->id);
	return 0;
}

/* Everything but the key file's contents. */
static int
config_check(const struct rg_client_config *cfg, char *err, size_t errlen)
{
	int rc;

	if (cfg->id == 0)
		return fail(err, errlen, -EINVAL, "id 0: set this client's id");
	if (cfg->ngateways == 0 || cfg->ngateways > RG_CLIENT_GATEWAYS_MAX)
		return fail(err, errlen, -EINVAL, "ngateways %u: want 1..%d", cfg->ngateways,
			    RG_CLIENT_GATEWAYS_MAX);
	if (memchr(cfg->key_file, '\0', sizeof(cfg->key_file)) == NULL)
		return fail(err, errlen, -EINVAL, "key_file is not NUL-terminated");
	if ((rc = sizes_check(cfg, err, errlen)) != 0)
		return rc;
	for (uint16_t i = 0; i < cfg->ngateways; i++)
		if ((rc = gateway_check(cfg, i, err, errlen)) != 0)
			return rc;
	return 0;
}

/*
 * The keyring of a sealed client (*out NULL for a plaintext one): the key
 * file's private key and every gateway's public key. The private key is
 * wiped from the stack on every exit; the keyring holds the only copy.
 */
static int
keyring_make(const struct rg_client_config *cfg, struct rg_keyring **out, char *err, size_t errlen)
{
	uint8_t priv[RG_KEY_BYTES], pub[RG_KEY_BYTES];
	struct rg_keyring *kr = NULL;
	int rc;

	*out = NULL;
	if (cfg->key_file[0] == '\0')
		return 0;
	rc = rg_key_load_file(cfg->key_file, priv, err, errlen);
	if (rc == 0 && (rc = rg_keyring_create(priv, cfg->ngateways,
					       (uint32_t)cfg->ngateways * CL_LANES_MAX, &kr)) != 0)
		rc = fail(err, errlen, rc, "%s: the keyring: %s", cfg->key_file, strerror(-rc));
	for (uint16_t i = 0; rc == 0 && i < cfg->ngateways; i++) {
		const struct rg_client_gateway *g = &cfg->gateways[i];

		if (rg_key_from_b64(g->pubkey, pub) != 0)
			rc = fail(err, errlen, -EINVAL,
				  "gateway %u: pubkey \"%s\" is not a public key (44 characters of "
				  "base64, as `repgatectl pubkey` prints)",
				  g->id, g->pubkey);
		else if (rg_keyring_add_peer(kr, g->id, pub) != 0)
			rc = fail(err, errlen, -EINVAL,
				  "gateway %u: pubkey \"%s\" is refused by X25519 (a low-order "
				  "point, not a gateway's key)",
				  g->id, g->pubkey);
	}
	explicit_bzero(priv, sizeof(priv));
	if (rc != 0) {
		rg_keyring_destroy(kr);
		return rc;
	}
	*out = kr;
	return 0;
}

int
rg_client_config_check(const struct rg_client_config *cfg, char *err, size_t errlen)
{
	struct rg_keyring *kr;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	rc = config_check(cfg, err, errlen);
	if (rc == 0 && (rc = keyring_make(cfg, &kr, err, errlen)) == 0)
		rg_keyring_destroy(kr);
	return rc;
}

static int
make_core(struct rg_client *c)
{
	const struct rg_client_config *cfg = &c->cfg;
	struct rg_core_config cc;
	struct rg_core_cb cb = { .deliver = cb_deliver,
				 .rx_hold = cb_rx_hold,
				 .rx_release = cb_rx_release,
				 .tx_release = cb_tx_release,
				 .rx_open = cb_rx_open,
				 .replay = cb_replay,
				 .applied = cb_applied,
				 .sub_reply = cb_sub_reply,
				 .ctx = c };
	int rc;

	rg_core_config_default(&cc);
	cc.incarnation = cfg->incarnation != 0 ? cfg->incarnation : new_incarnation();
	cc.gateway_id = cfg->id;
	cc.peers_max = cfg->ngateways;
	cc.lanes_max = (uint16_t)(cfg->ngateways * CL_LANES_MAX);
	cc.streams_max = cfg->streams_max;
	cc.tx_records_max = cfg->records_max;
	cc.tx_stream_records_max = cfg->stream_records_max;
	cc.rx_window_records = cfg->window_records;
	cc.rx_frags_max = 1024;
	cc.pkt_bytes_max = cfg->pkt_bytes_max;
	cc.inflight_pkts_max = 4096;
	cc.inflight_frames_max = 16384;
	cc.ack_delay_ns_max = RG_NS_PER_MS;
	cc.initial_rtt_ns = 10 * RG_NS_PER_MS; /* a LAN hop */
	cc.granularity_ns = RG_NS_PER_MS;
	cc.hello_interval_ns = 100 * RG_NS_PER_MS;
	cc.subs_max = cfg->streams_max;
	cc.rng = (struct rg_rng){ .next = rng_next, .ctx = &c->rng };
	if (c->kr != NULL)
		cc.aead = rg_keyring_aead(c->kr); /* zeroed otherwise: plaintext */
	rc = rg_core_create(&cc, &cb, &c->core);
	for (uint16_t i = 0; rc == 0 && i < c->ngws; i++) {
		rc = rg_core_add_peer(c->core, c->gws[i].id, CL_LANES_MAX);
		if (rc == 0)
			rc = rg_core_add_lane(c->core, c->gws[i].id, 0, c->now_ns);
		c->gws[i].lanes = 1;
	}
	return rc;
}

static void
gws_init(struct rg_client *c)
{
	struct rg_detector_config dc;

	rg_detector_config_default(&dc);
	dc.dead_after_ns = c->cfg.dead_after_ns;
	dc.suspect_phi = 8;
	dc.acceptable_pause_ns = CL_IDLE_PAUSE_NS;
	for (uint16_t i = 0; i < c->cfg.ngateways; i++) {
		struct cl_gw *g = &c->gws[i];

		g->id = c->cfg.gateways[i].id;
		g->sa.sin_family = AF_INET;
		g->sa.sin_port = htons(c->cfg.gateways[i].port);
		inet_pton(AF_INET, c->cfg.gateways[i].addr, &g->sa.sin_addr);
		rg_detector_init(&g->det, &dc, c->now_ns);
	}
	c->ngws = c->cfg.ngateways;
	c->serving = -1;
}

static int
alloc_tables(struct rg_client *c)
{
	c->nrxbufs = 1024 + 2 * CL_RX_BATCH; /* the core holds at most rx_frags_max (1024) */
	c->streams = calloc(c->cfg.streams_max, sizeof(c->streams[0]));
	c->dirty = calloc(c->cfg.streams_max, sizeof(c->dirty[0]));
	c->rxbufs = calloc(c->nrxbufs, sizeof(c->rxbufs[0]));
	c->tx = calloc(1, sizeof(*c->tx));
	if (c->streams == NULL || c->dirty == NULL || c->rxbufs == NULL || c->tx == NULL ||
	    rg_stab_init(&c->tab, c->cfg.streams_max, rg_mem_default()) != 0)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->nrxbufs; i++) {
		c->rxbufs[i].next_free = c->rx_free;
		c->rx_free = &c->rxbufs[i];
	}
	c->rx_free_n = c->nrxbufs;
	return 0;
}

int
rg_client_create(const struct rg_client_config *cfg, const struct rg_client_cb *cb,
		 struct rg_client **out)
{
	struct rg_client *c;
	int rc;

	*out = NULL;
	if (config_check(cfg, NULL, 0) != 0)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->cfg = *cfg;
	if (cb != NULL)
		c->cb = *cb;
	c->fd = -1;
	c->now_ns = c->created_ns = rg_client_now_ns();
	c->rng = c->now_ns ^ (uint64_t)getpid() << 32;
	gws_init(c);
	rc = keyring_make(cfg, &c->kr, NULL, 0);
	if (rc == 0)
		rc = alloc_tables(c);
	if (rc == 0)
		rc = cl_net_open(c);
	if (rc == 0)
		rc = make_core(c);
	if (rc != 0) {
		rg_client_destroy(c);
		return rc;
	}
	*out = c;
	return 0;
}

void
rg_client_destroy(struct rg_client *c)
{
	if (c == NULL)
		return;
	rg_core_destroy(c->core);  /* releases every record and packet it holds */
	rg_keyring_destroy(c->kr); /* after the core, its only user; wipes the secrets */
	for (uint32_t i = 0; c->streams != NULL && i < c->nstreams; i++)
		free(c->streams[i].asm_buf);
	if (c->fd >= 0)
		close(c->fd);
	rg_stab_fini(&c->tab, rg_mem_default());
	free(c->streams);
	free(c->dirty);
	free(c->rxbufs);
	free(c->tx);
	free(c);
}

void
rg_client_close(struct rg_client *c)
{
	rg_core_close(c->core);
}

int
rg_client_fd(const struct rg_client *c)
{
	return c->fd;
}

uint16_t
rg_client_gateway(const struct rg_client *c)
{
	return serving_id(c);
}

/* ---- gateways: liveness, lanes, which one serves ---- */

/* The newest packet time from each gateway over its lanes: a heartbeat when it moved. */
static void
hear_gateways(struct rg_client *c)
{
	uint64_t heard[RG_CLIENT_GATEWAYS_MAX] = { 0 };
	struct rg_lane_info li;

	for (uint16_t i = 0; i < rg_core_lanes(c->core); i++) { /* bounded: lanes_max */
		int g;

		rg_core_lane_info(c->core, i, &li);
		g = gw_index(c, li.peer_gw);
		if (g >= 0 && li.last_rx_ns > heard[g])
			heard[g] = li.last_rx_ns;
	}
	for (uint16_t g = 0; g < c->ngws; g++)
		if (heard[g] > c->gws[g].heard_ns) {
			c->gws[g].heard_ns = heard[g];
			rg_detector_heartbeat(&c->gws[g].det, heard[g]);
		}
}

/* A gateway that announced its lane count gets that many lanes (one per worker of it). */
static void
add_lanes(struct rg_client *c, struct cl_gw *g)
{
	uint16_t want = RG_MIN(rg_core_peer_lanes(c->core, g->id), (uint16_t)CL_LANES_MAX);

	while (g->lanes < want && rg_core_add_lane(c->core, g->id, g->lanes, c->now_ns) == 0)
		g->lanes++;
}

static void
open_streams(struct rg_client *c)
{
	const struct cl_gw *g = &c->gws[c->serving];

	for (uint32_t i = 0; i < c->nstreams; i++) { /* bounded by streams_max */
		struct cl_stream *s = &c->streams[i];

		if (s->kind == CS_TX && !s->opened &&
		    rg_core_tx_open(c->core, g->id, s->id, rg_stream_lane(s->id, g->lanes)) == 0)
			s->opened = 1;
		if (s->kind == CS_RX && !s->by_ns && !s->subbed && !s->offered &&
		    rg_core_subscribe(c->core, g->id, RG_SUB_STREAM, s->id, c->now_ns) == 0)
			s->subbed = 1;
	}
	for (uint32_t i = 0; i < c->nns; i++)
		if (!c->ns[i].subbed &&
		    rg_core_subscribe(c->core, g->id, RG_SUB_NAMESPACE, (uint64_t)c->ns[i].ns << 32,
				      c->now_ns) == 0)
			c->ns[i].subbed = 1;
}

/* The first ready gateway in list order but skip, or -1. */
static int
pick(const struct rg_client *c, int skip)
{
	for (int i = 0; i < c->ngws; i++)
		if (i != skip && c->gws[i].ready)
			return i;
	return -1;
}

static void
choose_gateway(struct rg_client *c)
{
	struct rg_client_event ev = { 0 };
	int to;

	if (c->serving >= 0 && c->gws[c->serving].det.state != RG_LIVENESS_DEAD)
		return;
	to = pick(c, c->serving);
	if (to < 0) {
		if (!c->unreachable_said &&
		    (c->ever_connected || c->now_ns - c->created_ns >= c->cfg.connect_timeout_ns)) {
			c->unreachable_said = 1;
			ev.type = RG_CLIENT_EV_UNREACHABLE;
			ev.gateway = serving_id(c);
			event(c, &ev);
		}
		return;
	}
	if (c->serving >= 0) { /* it died: everything moves, resumes from applied */
		rg_core_peer_failover(c->core, c->gws[c->serving].id, c->gws[to].id, c->now_ns);
		c->st.moves++;
		ev.type = RG_CLIENT_EV_MOVED;
	} else {
		ev.type = RG_CLIENT_EV_CONNECTED;
	}
	c->serving = to;
	c->ever_connected = 1;
	c->unreachable_said = 0;
	ev.gateway = c->gws[to].id;
	event(c, &ev);
	open_streams(c);
}

static void
manage(struct rg_client *c)
{
	if (c->now_ns < c->manage_next_ns)
		return;
	c->manage_next_ns = c->now_ns + CL_MANAGE_NS;
	hear_gateways(c);
	for (uint16_t i = 0; i < c->ngws; i++) {
		struct cl_gw *g = &c->gws[i];
		uint16_t lanes = rg_core_peer_lanes(c->core, g->id);

		add_lanes(c, g);
		rg_detector_update(&g->det, c->now_ns);
		g->ready = rg_core_peer_inc(c->core, g->id) != 0 && lanes > 0 &&
			   g->lanes >= lanes && g->det.state != RG_LIVENESS_DEAD;
	}
	choose_gateway(c);
}

/* ---- the loop ---- */

void
cl_on_datagram(struct rg_client *c, struct cl_rxbuf *b)
{
	int rc;

	c->in_core = 1;
	rc = rg_core_recv(c->core, b->data, b->len, b, c->now_ns);
	c->in_core = 0;
	c->st.drops_rx += rc != 0;
	cl_rxbuf_put(c, b); /* the core took its own references */
}

/* Runs the callbacks the core's ran up to, outside it (bounded by the dirty list and the ring). */
static void
dispatch(struct rg_client *c)
{
	c->in_dispatch = 1;
	for (uint32_t i = 0; i < c->ndirty; i++) {
		struct cl_stream *s = &c->streams[c->dirty[i]];
		uint8_t p = s->pending;

		s->pending = 0;
		s->dirty = 0;
		if (p & CS_P_APPLY)
			rg_core_applied(c->core, s->id, s->applied);
		if (p & CS_P_REPLAY) {
			s->ready = 1; /* inv. 3 */
			s->replays++;
			if (c->cb.replay != NULL)
				c->cb.replay(c->cb.ctx, s->id, s->replay_from);
		}
		if ((p & CS_P_APPLIED) && c->cb.applied != NULL)
			c->cb.applied(c->cb.ctx, s->id, s->applied);
	}
	c->ndirty = 0;
	while (c->ev_head != c->ev_tail) { /* bounded by CL_EVENTS_MAX */
		struct rg_client_event ev = c->events[c->ev_head++ % CL_EVENTS_MAX];

		if (c->cb.event != NULL)
			c->cb.event(c->cb.ctx, &ev);
	}
	c->in_dispatch = 0;
}

int
rg_client_poll(struct rg_client *c, uint64_t now_ns)
{
	int rc;

	if (c->in_core || c->in_dispatch)
		return -EDEADLK;
	c->now_ns = now_ns;
	rc = cl_net_recv(c);
	c->in_core = 1;
	rg_core_drain(c->core);
	if (rg_core_next_deadline(c->core, now_ns) <= now_ns)
		rg_core_on_timer(c->core, now_ns);
	c->in_core = 0;
	manage(c);
	dispatch(c);
	cl_net_send(c);
	dispatch(c); /* nothing new in general; cheap when empty */
	return rc < 0 ? rc : 0;
}

uint64_t
rg_client_next_deadline_ns(struct rg_client *c)
{
	uint64_t d = rg_core_next_deadline(c->core, c->now_ns);

	if (c->ndirty > 0 || c->ev_head != c->ev_tail)
		return c->now_ns;
	return RG_MIN(d, c->manage_next_ns);
}

int
rg_client_run(struct rg_client *c, uint64_t timeout_ns)
{
	uint64_t end = rg_client_now_ns() + timeout_ns;
	int rc;

	/* Bounded by timeout_ns: each round waits for the fd or the next deadline. */
	for (;;) {
		uint64_t now = rg_client_now_ns(), d = rg_client_next_deadline_ns(c), wait;
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		struct timespec ts;

		if ((rc = rg_client_poll(c, now)) != 0)
			return rc;
		now = rg_client_now_ns();
		if (now >= end)
			return 0;
		d = rg_client_next_deadline_ns(c);
		wait = RG_MIN(d > now ? d - now : 0, end - now);
		ts.tv_sec = (time_t)(wait / RG_NS_PER_S);
		ts.tv_nsec = (long)(wait % RG_NS_PER_S);
		if (wait > 0 && ppoll(&pfd, 1, &ts, NULL) < 0 && errno != EINTR)
			return -errno;
	}
}

/* ---- producer ---- */

int
rg_client_open(struct rg_client *c, uint64_t stream)
{
	struct cl_stream *s;

	if (stream == 0)
		return -EINVAL;
	if (stream_of(c, stream) != NULL)
		return -EEXIST;
	s = stream_add(c, stream, CS_TX);
	if (s == NULL)
		return -ENOSPC;
	if (c->serving >= 0 && !c->in_core)
		open_streams(c);
	return 0;
}

int
rg_client_publish(struct rg_client *c, uint64_t stream, uint64_t seq, uint32_t version,
		  const void *data, uint32_t len)
{
	struct cl_stream *s = stream_of(c, stream);
	struct cl_txrec *r;
	int rc;

	if (s == NULL || s->kind != CS_TX)
		return -ENOENT;
	if (len > RG_CLIENT_RECORD_MAX || (data == NULL && len > 0))
		return -EINVAL;
	if (c->in_core)
		return -EDEADLK;
	if (!s->opened || !s->ready)
		return -ENOTCONN;
	if (c->held_bytes + len > c->cfg.bytes_max && c->held_bytes > 0)
		return -EAGAIN;
	r = malloc(sizeof(*r) + len);
	if (r == NULL)
		return -EAGAIN;
	r->len = len;
	if (len > 0)
		memcpy(r->data, data, len);
	rc = rg_core_publish(c->core, stream, seq, version, r->data, len, r);
	if (rc != 0) {
		free(r);
		return rc;
	}
	c->held_records++;
	c->held_bytes += len;
	c->st.published++;
	c->st.published_bytes += len;
	return 0;
}

int
rg_client_publish_wait(struct rg_client *c, uint64_t stream, uint64_t seq, uint32_t version,
		       const void *data, uint32_t len, uint64_t timeout_ns)
{
	uint64_t end = rg_client_now_ns() + timeout_ns;
	struct cl_stream *s = stream_of(c, stream);
	uint32_t replays = s != NULL ? s->replays : 0;
	int rc;

	/* Bounded by timeout_ns: each round runs the loop for at most a millisecond. */
	for (;;) {
		if (s != NULL && s->replays != replays)
			return -ENOTCONN; /* a replay ran meanwhile: seq may be stale; it named where */
		rc = rg_client_publish(c, stream, seq, version, data, len);
		if (rc != -EAGAIN)
			return rc;
		if (rg_client_now_ns() >= end)
			return -ETIMEDOUT;
		rc = rg_client_run(c, RG_NS_PER_MS);
		if (rc != 0)
			return rc;
	}
}

/* ---- consumer ---- */

int
rg_client_subscribe(struct rg_client *c, uint64_t stream, uint64_t applied)
{
	struct cl_stream *s;

	if (stream == 0 || applied == UINT64_MAX)
		return -EINVAL;
	if (c->in_core)
		return -EDEADLK;
	s = stream_of(c, stream);
	if (s != NULL && s->kind == CS_RX && s->offered) {
		take_offered(c, s, applied, 0);
		if (c->serving >= 0)
			open_streams(c); /* the gateway records the subscription too */
		return 0;
	}
	if (s != NULL)
		return -EEXIST;
	s = stream_add(c, stream, CS_RX);
	if (s == NULL)
		return -ENOSPC;
	s->applied = s->delivered = applied;
	if (c->serving >= 0)
		open_streams(c);
	return 0;
}

int
rg_client_subscribe_ns(struct rg_client *c, uint32_t ns)
{
	if (ns == 0)
		return -EINVAL;
	if (c->in_core)
		return -EDEADLK;
	if (ns_subscribed(c, ns))
		return -EEXIST;
	if (c->nns >= CL_NS_MAX)
		return -ENOSPC;
	c->ns[c->nns++] = (struct cl_ns){ .ns = ns };
	for (uint32_t i = 0; i < c->nstreams; i++) { /* streams of it offered already */
		struct cl_stream *s = &c->streams[i];
		uint64_t a = 0;

		if (s->kind == CS_RX && s->offered && (uint32_t)(s->id >> 32) == ns &&
		    (c->cb.stream_applied == NULL ||
		     c->cb.stream_applied(c->cb.ctx, s->id, &a) == 0) &&
		    a != UINT64_MAX)
			take_offered(c, s, a, 1);
	}
	if (c->serving >= 0)
		open_streams(c);
	return 0;
}

int
rg_client_applied(struct rg_client *c, uint64_t stream, uint64_t seq)
{
	struct cl_stream *s = stream_of(c, stream);

	if (s == NULL || s->kind != CS_RX || s->offered)
		return -ENOENT;
	if (seq > s->delivered)
		return -EINVAL;
	if (seq <= s->applied)
		return 0;
	s->applied = seq;
	if (c->in_core)
		defer(c, s, CS_P_APPLY);
	else
		rg_core_applied(c->core, stream, seq);
	return 0;
}

void
rg_client_stats(const struct rg_client *c, struct rg_client_stats *out)
{
	struct rg_core_stats cs;
	struct rg_lane_info li;

	*out = c->st;
	rg_core_stats(c->core, &cs);
	out->rtx_frames = cs.ctr[RG_CTR_rtx_frames];
	out->held_records = c->held_records;
	out->held_bytes = c->held_bytes;
	for (uint16_t i = 0; c->serving >= 0 && i < rg_core_lanes(c->core); i++)
		if (rg_core_lane_info(c->core, i, &li) == 0 && li.peer_gw == serving_id(c) &&
		    li.srtt_ns > out->rtt_ns)
			out->rtt_ns = li.srtt_ns;
}
