/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulated world: gateways running the real protocol core, producers,
 * consumers with the history checker, and the fault schedule.
 *
 * Records are proto/record.h's test records (a pure function of stream, seq,
 * length and stamp, so a producer keeps none and a replay makes the same
 * bytes), with lengths drawn here from (stream, seq). Every fragment a
 * consumer is handed goes through the one history checker (proto/history.h),
 * per stream and consumer incarnation (a consumer restarts with its
 * gateway, from its applied watermark): duplicated, reordered, gaps and
 * corrupt_accepted are its counters. What it cannot know, the simulator
 * adds: a fragment whose record length is not the one the producer made, or
 * whose version is not 1, is corrupt_accepted and its record not checked; a
 * delivery of a stream nobody made is corrupt_accepted; and at the end,
 * every record a producer made and its consumer did not apply is lost.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_impl.h"
#include "stab.h"

#define PRODUCE_TICK_NS   (1 * RG_NS_PER_MS)
#define CONSUME_TICK_NS   (2 * RG_NS_PER_MS)
#define CHECK_TICK_NS     (10 * RG_NS_PER_MS)
#define PUBLISH_BURST_MAX 256  /* per stream per produce tick */
#define GREEDY_AHEAD      16   /* greedy producers: records made but not yet taken */
#define SEND_BURST_MAX    512  /* packets per gateway per wake */
#define SPINS_MAX         1000 /* consecutive wakes that found the core due but idle */
#define LAN_PKT_BYTES     1472 /* relay topology: a client's hop (1500-byte MTU) */
#define WAN_PKT_BYTES     8972 /* ... and a hop between gateways (9000) */
#define RELAY_STAGE_MAX   256

/* ---- records: a pure function of (stream, seq) ---- */

static uint64_t
rec_seed(uint64_t id, uint64_t seq)
{
	uint64_t x = id * 0x9e3779b97f4a7c15ull ^ seq;

	return rg_splitmix64(&x);
}

static uint32_t
rec_len(const struct sim *s, const struct sim_stream *st, uint64_t seq)
{
	uint64_t h = rec_seed(st->id, seq), h2 = rg_splitmix64(&h);
	uint64_t r = h2 % 1000;

	if (st->record_bytes != 0)
		return st->record_bytes;
	if (s->cfg.record_bytes != 0)
		return s->cfg.record_bytes;
	if (s->cfg.large_every && (h >> 8) % s->cfg.large_every == 0)
		return 65536 + (uint32_t)(h2 % (RG_RECORD_BYTES_MAX - 65536 + 1));
	if (r < 10)
		return 0;
	if (r < 700)
		return 1 + (uint32_t)(h2 >> 20) % 64;
	if (r < 950)
		return 65 + (uint32_t)(h2 >> 20) % 960;
	return 1025 + (uint32_t)(h2 >> 20) % 7168;
}

/*
 * Writes record (st, seq) of len bytes. A stamped stream's records (latency
 * scenarios, 32 bytes or more) carry the ns at which they were scheduled to
 * be made, which the checker hands back when the record is right.
 */
static void
rec_make(const struct sim *s, const struct sim_stream *st, uint64_t seq, uint32_t len, uint8_t *out)
{
	rg_record_make(&s->rec, st->id, seq, len, st->made_ns != NULL ? st->made_ns[seq] : 0, out);
}

static struct sim_stream *
stream_of(struct sim *s, uint64_t id)
{
	uint64_t idx = (id & 0xffffffffu) - 1;

	RG_ASSERT(idx < (uint64_t)s->nstreams && s->streams[idx].id == id);
	return &s->streams[idx];
}

static void
violation(struct sim *s, const char *what, uint64_t a, uint64_t b)
{
	if (s->res.anomalies[SIM_ANOM_violations]++ == 0)
		snprintf(s->res.violation, sizeof(s->res.violation), "%s (%llu, %llu) at t=%.6fs",
			 what, (unsigned long long)a, (unsigned long long)b, s->now / 1e9);
}

/* ---- the consumer and the history checker ---- */

/*
 * One checked stamped record: its latency from the schedule it carries
 * (c_stamp, verified against the producer's), and the part the producer
 * waited for publish to take it. Only records scheduled while measuring.
 */
static void
latency_sample(struct sim *s, struct sim_stream *st, uint64_t seq, uint64_t stamp)
{
	uint64_t from = (uint64_t)(s->cfg.measure_from_s * 1e9);
	uint64_t to = (uint64_t)(s->cfg.duration_s * 1e9);
	struct sim_result *r = &s->res;
	int ns = st->ns;

	if (stamp < from || stamp >= to)
		return;
	if (r->ns_n[ns] == s->ns_cap[ns]) {
		s->ns_cap[ns] = s->ns_cap[ns] ? 2 * s->ns_cap[ns] : 4096;
		r->ns_lat[ns] = realloc(r->ns_lat[ns], s->ns_cap[ns] * sizeof(uint64_t));
		r->ns_wait[ns] = realloc(r->ns_wait[ns], s->ns_cap[ns] * sizeof(uint64_t));
		RG_ASSERT(r->ns_lat[ns] != NULL && r->ns_wait[ns] != NULL);
	}
	r->ns_lat[ns][r->ns_n[ns]] = s->now - stamp;
	r->ns_wait[ns][r->ns_n[ns]] = st->pub_ns[seq] - st->made_ns[seq];
	r->ns_n[ns]++;
}

static void
check_fragment(struct sim *s, struct sim_stream *st, const struct rg_rx_frag *f)
{
	uint64_t stamp = RG_RECORD_NO_STAMP;
	enum rg_history_class c;
	int before = f->seq < st->h.next || (f->seq == st->h.next && f->off < st->h.rec.off);

	if (f->record_len != rec_len(s, st, f->seq) || f->version != 1) {
		s->res.anomalies[SIM_ANOM_corrupt_accepted]++;
		if (!before)
			st->c_bad = 1; /* the checker takes it into the record it is checking */
	}
	c = rg_history_deliver(&s->hist, &st->h, f, &stamp);
	if (!rg_history_completes(c))
		return;
	s->res.delivered++;
	if (c == RG_HISTORY_CHECKED && !st->c_bad) {
		int measuring = s->faults_on && s->now >= (uint64_t)(s->cfg.measure_from_s * 1e9);

		s->res.checked++;
		s->res.bytes_checked += f->record_len;
		if (st->src == 0 && st->lane < SIM_LANES_MAX && measuring)
			s->res.lane_bytes[st->lane] += f->record_len;
		if (st->ns >= 0 && measuring)
			s->res.ns_bytes[st->ns] += f->record_len;
		if (st->made_ns != NULL && stamp != RG_RECORD_NO_STAMP)
			latency_sample(s, st, f->seq, stamp);
	}
	st->c_bad = 0;
}

static int
cb_deliver(void *ctx, uint16_t peer_gw, uint64_t stream, const struct rg_rx_frag *f)
{
	struct sim_gw *g = ctx;
	struct sim *s = g->sim;
	struct sim_stream *st = stream_of(s, stream);

	if (st->dst != g->idx || st->down != peer_gw - 1)
		violation(s, "delivered at the wrong node", stream, peer_gw);
	if (s->faults_on && sim_chance(s, s->cfg.stall)) {
		s->res.faults[SIM_FAULT_consumer_stall]++;
		return -EAGAIN;
	}
	check_fragment(s, st, f);
	return 0;
}

static void
consumer_restart(struct sim_stream *st)
{
	/* What was delivered but not applied is gone with the process. */
	rg_history_restart(&st->h, st->c_applied);
	st->c_bad = 0;
}

static int
cb_rx_open(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t *applied)
{
	struct sim_gw *g = ctx;
	uint64_t idx = (stream & 0xffffffffu) - 1;
	struct sim_stream *st;

	if (idx >= (uint64_t)g->sim->nstreams || g->sim->streams[idx].id != stream) {
		/* No stream of ours: a corrupted id got past the CRC (the skip_crc canary). */
		rg_history_foreign(&g->sim->hist);
		return -EPERM;
	}
	st = &g->sim->streams[idx];
	if (st->dst != g->idx || st->down != peer_gw - 1)
		return -EPERM;
	*applied = st->c_applied;
	return 0;
}

static void
cb_rx_hold(void *ctx, void *handle)
{
	(void)ctx;
	((struct sim_pkt *)handle)->refs++;
}

static void
cb_rx_release(void *ctx, void *handle)
{
	struct sim_gw *g = ctx;

	sim_pkt_put(g->sim, handle);
}

/* A consumer client's subscription: one consumer per stream here, so anything but OK is a bug. */
static void
cb_sub_reply(void *ctx, uint16_t peer_gw, uint8_t kind, uint64_t key, uint8_t status)
{
	struct sim_gw *g = ctx;

	(void)peer_gw, (void)kind;
	if (status != RG_SUB_OK)
		violation(g->sim, "subscription refused", key, status);
}

/* ---- a relay gateway's ops (proto/relay.h) ---- */

/* A producer client's stream goes to its consumer's gateway; 0 (refused) if it is not ours. */
static uint16_t
relay_route(void *ctx, uint16_t client, uint64_t stream)
{
	struct sim_gw *g = ctx;
	struct sim *s = g->sim;
	uint64_t idx = (stream & 0xffffffffu) - 1;
	const struct sim_stream *st;

	if (idx >= (uint64_t)s->nstreams || s->streams[idx].id != stream)
		return 0; /* a corrupted id got past the CRC (skip_crc): nowhere to go */
	st = &s->streams[idx];
	if (st->src != client - 1 || st->up != g->idx)
		return 0;
	return (uint16_t)(st->down + 1);
}

static uint8_t *
relay_buf_alloc(void *ctx, uint32_t len, void **handle)
{
	struct sim_gw *g = ctx;
	uint8_t *b = malloc(len + 1);

	RG_ASSERT(b != NULL);
	g->sim->bufs_live++;
	*handle = b;
	return b;
}

static void
relay_buf_free(void *ctx, void *handle)
{
	struct sim_gw *g = ctx;

	g->sim->bufs_live--;
	free(handle);
}

/* ---- the producer ---- */

struct sim_rec {
	uint32_t len;
	uint8_t data[];
};

static void
cb_tx_release(void *ctx, void *handle)
{
	(void)ctx;
	free(handle);
}

static void
cb_replay(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t from)
{
	struct sim_gw *g = ctx;
	struct sim *s = g->sim;
	struct sim_stream *st = stream_of(s, stream);

	(void)peer_gw;
	if (from <= st->trim) {
		/* The producer threw those records away: they can never be delivered. */
		violation(s, "replay asks for trimmed records", stream, from);
		st->next_pub = 0;
		return;
	}
	if (from > st->head + 1)
		violation(s, "replay from beyond what was made", stream, from);
	st->next_pub = from;
}

static void
cb_acked(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t acked)
{
	struct sim_gw *g = ctx;
	struct sim_stream *st = stream_of(g->sim, stream);

	(void)peer_gw;
	if (RG_CANARY_IS(TRIM_ON_ACK) && acked > st->trim)
		st->trim = acked; /* canary: trust the gateway's ack, not the consumer's apply */
}

static void
cb_applied(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t applied)
{
	struct sim_gw *g = ctx;
	struct sim_stream *st = stream_of(g->sim, stream);

	(void)peer_gw;
	if (applied > st->head)
		violation(g->sim, "applied beyond what was made", stream, applied);
	if (applied > st->trim)
		st->trim = applied;
}

static void
publish(struct sim *s, struct sim_gw *g, struct sim_stream *st)
{
	for (int n = 0; n < PUBLISH_BURST_MAX && st->next_pub != 0 && st->next_pub <= st->head;
	     n++) {
		uint32_t len = rec_len(s, st, st->next_pub);
		struct sim_rec *r = malloc(sizeof(*r) + len);
		int rc;

		RG_ASSERT(r != NULL);
		r->len = len;
		rec_make(s, st, st->next_pub, len, r->data);
		rc = rg_core_publish(g->core, st->id, st->next_pub, 1, r->data, len, r);
		if (rc != 0) {
			free(r);
			if (rc != -EAGAIN && rc != -ENOTCONN)
				violation(s, "publish failed", st->id, (uint64_t)-rc);
			return;
		}
		if (st->pub_ns != NULL && st->pub_ns[st->next_pub] == 0)
			st->pub_ns[st->next_pub] = s->now;
		st->next_pub++;
	}
}

/* ---- gateways ---- */

static uint64_t
core_rng(void *ctx)
{
	struct sim_gw *g = ctx;
	uint64_t x = rg_splitmix64(&g->rng);

	/* Half the lanes start numbering at the top of the allowed range (just below 2^31). */
	return (x & 1) ? (1ull << 31) - 1 - (x >> 1) % 50000 : x >> 1;
}

static void
gw_config(struct sim *s, struct sim_gw *g, struct rg_core_config *c)
{
	rg_core_config_default(c);
	c->incarnation = g->inc;
	c->gateway_id = (uint16_t)(g->idx + 1);
	/* A relay holds a receive and a send stream of each stream through it. */
	c->streams_max = (uint32_t)s->nstreams * (g->kind == SIM_NODE_RELAY ? 2 : 1);
	c->lanes_max = (uint16_t)(s->cfg.lanes * (s->cfg.gateways - 1));
	if (g->kind == SIM_NODE_RELAY)
		c->lanes_max += 2; /* one to each of its clients */
	if (g->kind >= SIM_NODE_PRODUCER)
		c->lanes_max = 1;
	if (g->kind == SIM_NODE_RELAY)
		c->pkt_bytes_max = WAN_PKT_BYTES; /* its clients' hops: LAN_PKT_BYTES */
	c->subs_max = g->kind == SIM_NODE_CONSUMER ? (uint32_t)s->nstreams : 0;
	c->tx_records_max = 8192;
	c->tx_stream_records_max = 128;
	c->rx_window_records = 64;
	c->rx_frags_max = 8192;
	c->inflight_pkts_max = 1024;
	c->inflight_frames_max = 8192;
	c->inflight_bytes_max = 1u << 20;
	c->ack_delay_ns_max = RG_NS_PER_MS;
	c->initial_rtt_ns = 50 * RG_NS_PER_MS;
	c->granularity_ns = RG_NS_PER_MS;
	c->pto_ns_max = 500 * RG_NS_PER_MS;
	c->hello_interval_ns = 50 * RG_NS_PER_MS;
	c->pace_rate_bytes_per_s = (uint64_t)(s->cfg.pace_mbit_s * 1e6 / 8);
	c->pace_burst_bytes = 16 * c->pkt_bytes_max;
	c->pacing = (enum rg_pacing)s->cfg.pacing;
	if (s->cfg.window_records != 0) {
		/* A goodput run: queues and windows sized so that only the link and pacing bind. */
		c->rx_window_records = s->cfg.window_records;
		c->tx_stream_records_max = s->cfg.window_records;
		c->tx_records_max = (uint32_t)s->nstreams * c->tx_stream_records_max;
		c->rx_frags_max = (uint32_t)s->nstreams * s->cfg.window_records;
		c->inflight_pkts_max = 4096;
		c->inflight_frames_max = 16384;
		c->inflight_bytes_max = 4u << 20;
	}
	if (s->cfg.seal) {
		/*
		 * Sessions live about a second here, not two minutes, so every seed
		 * rekeys each lane a dozen times under its faults and crashes.
		 */
		c->ses.rekey_after_ns = SIM_REKEY_NS;
		c->ses.rekey_after_bytes = 4u << 20;
		c->ses.reject_after_ns = 3 * SIM_REKEY_NS;
	}
	c->rng = (struct rg_rng){ .next = core_rng, .ctx = g };
}

static void schedule_wake(struct sim *s, struct sim_gw *g, uint64_t t);

/* Adds node p as a peer of g's core with lanes lanes; a client of a relay is passive. */
static void
add_peer(struct sim *s, struct sim_gw *g, int p, uint16_t lanes)
{
	uint16_t id = (uint16_t)(p + 1);
	int client = s->gws[p].kind >= SIM_NODE_PRODUCER;

	RG_ASSERT(rg_core_add_peer(g->core, id, lanes) == 0);
	if (g->keys != NULL)
		RG_ASSERT(rg_keyring_add_peer(g->keys, id, s->gws[p].pub) == 0);
	if (g->kind == SIM_NODE_RELAY) {
		RG_ASSERT(rg_relay_add_peer(g->relay, id,
					    client ? RG_RELAY_CLIENT : RG_RELAY_GATEWAY) == 0);
		if (client) {
			RG_ASSERT(rg_core_peer_set_passive(g->core, id, 1) == 0);
			RG_ASSERT(rg_core_peer_set_pkt_bytes(g->core, id, LAN_PKT_BYTES) == 0);
		}
	}
	for (uint16_t l = 0; l < lanes; l++)
		RG_ASSERT(rg_core_add_lane(g->core, id, l, s->now) == 0);
}

/* The hops of node g (sim.h, Topologies). */
static void
add_peers(struct sim *s, struct sim_gw *g)
{
	if (g->kind >= SIM_NODE_PRODUCER) {
		add_peer(s, g, g->home, 1);
		return;
	}
	for (int p = 0; p < s->nnodes; p++) {
		if (p == g->idx)
			continue;
		if (s->gws[p].kind <= SIM_NODE_RELAY)
			add_peer(s, g, p, (uint16_t)s->cfg.lanes);
		else if (s->gws[p].home == g->idx)
			add_peer(s, g, p, 1);
	}
}

/* g's producers open their streams (and wait for the replay); its consumer subscribes. */
static void
open_streams(struct sim *s, struct sim_gw *g)
{
	for (int i = 0; i < s->nstreams; i++) {
		struct sim_stream *st = &s->streams[i];

		if (st->src == g->idx) {
			st->next_pub = 0; /* until the core says where to resume */
			RG_ASSERT(rg_core_tx_open(g->core, (uint16_t)(st->up + 1), st->id,
						  st->lane) == 0);
			if (st->ns >= 0 && s->cfg.ns[st->ns].cls != RG_CLASS_BULK)
				RG_ASSERT(rg_core_tx_set_class(
					      g->core, st->id,
					      (enum rg_class)s->cfg.ns[st->ns].cls) == 0);
		}
		if (st->dst == g->idx && g->kind == SIM_NODE_CONSUMER)
			RG_ASSERT(rg_core_subscribe(g->core, (uint16_t)(st->down + 1),
						    st->by_ns ? RG_SUB_NAMESPACE : RG_SUB_STREAM,
						    st->by_ns ? st->id & ~0xffffffffull : st->id,
						    s->now) == 0);
	}
}

/* A relay gateway's relay; cb becomes the callbacks that drive it. */
static void
relay_create(struct sim *s, struct sim_gw *g, struct rg_core_cb *cb)
{
	const struct rg_relay_config rc = { .streams_max = (uint32_t)s->nstreams,
					    .subs_max = (uint32_t)s->nstreams,
					    .stage_max = RELAY_STAGE_MAX,
					    .peers_max = (uint16_t)s->nnodes };
	const struct rg_relay_ops ops = { .route = relay_route,
					  .buf_alloc = relay_buf_alloc,
					  .buf_free = relay_buf_free,
					  .pkt_hold = cb_rx_hold,
					  .pkt_release = cb_rx_release,
					  .ctx = g };

	RG_ASSERT(rg_relay_create(&rc, &ops, NULL, rg_mem_default(), &g->relay) == 0);
	rg_relay_core_cb(g->relay, cb);
}

/*
 * cfg.seal: each node's identity key, drawn once from the run's seed (any 32
 * bytes are an X25519 private key) by a generator of its own, so the run's
 * faults and timings are those of the same seed in plaintext: sealing
 * changes only the bytes on the wire (and adds their tags).
 */
static void
node_keys(struct sim *s)
{
	uint64_t rng = s->cfg.seed ^ 0x6b6579736b657973ull; /* "keyskeys" */

	if (s->keys_made)
		return;
	for (int i = 0; i < s->nnodes; i++) {
		struct sim_gw *g = &s->gws[i];

		for (int k = 0; k < 32; k += 8) {
			uint64_t x = rg_splitmix64(&rng);

			memcpy(g->priv + k, &x, 8);
		}
		RG_ASSERT(rg_key_public(g->priv, g->pub) == 0);
	}
	s->keys_made = 1;
}

static void
gw_start(struct sim *s, struct sim_gw *g)
{
	struct rg_core_config cfg;
	struct rg_core_cb cb = { .deliver = cb_deliver,
				 .rx_hold = cb_rx_hold,
				 .rx_release = cb_rx_release,
				 .tx_release = cb_tx_release,
				 .rx_open = cb_rx_open,
				 .replay = cb_replay,
				 .acked = cb_acked,
				 .applied = cb_applied,
				 .sub_reply = cb_sub_reply,
				 .ctx = g };
	int rc;

	gw_config(s, g, &cfg);
	if (s->cfg.seal) {
		node_keys(s);
		RG_ASSERT(rg_keyring_create(g->priv, cfg.peers_max, cfg.lanes_max, &g->keys) == 0);
		cfg.aead = rg_keyring_aead(g->keys);
	}
	g->rng = sim_rand(s);
	if (g->kind == SIM_NODE_RELAY)
		relay_create(s, g, &cb);
	rc = rg_core_create(&cfg, &cb, &g->core);
	RG_ASSERT(rc == 0);
	if (g->relay != NULL)
		rg_relay_attach(g->relay, g->core);
	if (s->cfg.deliver_cap != 0)
		rg_core_set_rx_deliver_cap(g->core, s->cfg.deliver_cap);
	add_peers(s, g);
	open_streams(s, g);
	g->alive = 1;
	g->wake_at = RG_NS_NEVER;
	schedule_wake(s, g, s->now);
}

/* Adds what g's relay counted to the run's (its counters die with it). */
static void
relay_count(struct sim *s, struct sim_gw *g)
{
	struct rg_relay_stats st;

	if (g->relay == NULL)
		return;
	rg_relay_stats(g->relay, &st);
	for (int i = 0; i < RG_RLY_CTR_MAX; i++)
		s->res.relay_ctr[i] += st.ctr[i];
}

/* Adds what g's core counted to the run's (they die with it too). */
static void
core_count(struct sim *s, struct sim_gw *g)
{
	struct rg_core_stats st;

	rg_core_stats(g->core, &st);
	s->res.retransmits += st.ctr[RG_CTR_rtx_frames];
	s->res.handshakes += st.ctr[RG_CTR_hs_done];
}

/* Stops node g: its core (which lets go of what it holds), then its relay. */
static void
node_stop(struct sim *s, struct sim_gw *g)
{
	core_count(s, g);
	relay_count(s, g);
	rg_core_destroy(g->core);
	if (g->relay != NULL)
		rg_relay_destroy(g->relay);
	rg_keyring_destroy(g->keys);
	g->core = NULL;
	g->relay = NULL;
	g->keys = NULL;
	g->alive = 0;
}

static void
gw_crash(struct sim *s, struct sim_gw *g)
{
	node_stop(s, g);
	g->wake_gen++;
	for (int i = 0; i < s->nstreams; i++)
		if (s->streams[i].dst == g->idx)
			consumer_restart(&s->streams[i]);
	/* Incarnations are ordered: the next one is larger (docs/protocol.md). */
	g->inc += 1 + sim_rand(s) % 1000;
}

static void
schedule_wake(struct sim *s, struct sim_gw *g, uint64_t t)
{
	if (g->wake_at != RG_NS_NEVER && g->wake_at >= s->now && g->wake_at <= t)
		return; /* an earlier wake is pending */
	g->wake_at = t;
	sim_heap_push(s, t, SIM_EV_WAKE, g->idx, NULL, ++g->wake_gen);
}

/* Sends what the core has, then sleeps until its next deadline. */
static void
pump(struct sim *s, struct sim_gw *g)
{
	struct rg_tx_meta meta;
	uint64_t d;
	int sent = 0;

	if (!g->alive)
		return;
	if (g->relay != NULL) {
		/* After every core entry point, as the worker: what the relay decided, then retries. */
		rg_relay_flush(g->relay, s->now);
		rg_core_drain(g->core);
		rg_relay_flush(g->relay, s->now);
	}
	for (; sent < SEND_BURST_MAX; sent++) {
		size_t n = rg_core_send(g->core, s->txbuf, sizeof(s->txbuf), &meta, s->now);

		if (n == 0)
			break;
		sim_net_send(s, g->idx, meta.peer_gw - 1, s->txbuf, n);
	}
	if (rg_core_check(g->core) != 0)
		violation(s, "core invariants broken at node", (uint64_t)g->idx, 0);
	if (g->relay != NULL && rg_relay_check(g->relay) != 0)
		violation(s, "relay invariants broken at node", (uint64_t)g->idx, 0);
	d = rg_core_next_deadline(g->core, s->now);
	if (d <= s->now) {
		/* Due now but nothing left: a deadline the core cannot act on is a bug. */
		if (sent == 0 && ++g->spins > SPINS_MAX) {
			violation(s, "core deadline is due but it sends nothing", (uint64_t)g->idx,
				  d);
			d = s->now + RG_NS_PER_MS;
			g->spins = 0;
		} else {
			d = s->now + RG_NS_PER_US;
		}
	} else {
		g->spins = 0;
	}
	schedule_wake(s, g, d);
}

/* ---- the fault schedule ---- */

static uint64_t
exp_ns(struct sim *s, double rate_per_s)
{
	return (uint64_t)(-log(1.0 - sim_uniform(s)) / rate_per_s * 1e9);
}

static uint64_t
fault_end_ns(const struct sim *s)
{
	return (uint64_t)(s->cfg.duration_s * 1e9);
}

static void
schedule_next(struct sim *s, enum sim_ev_type type, double rate)
{
	uint64_t t = s->now + exp_ns(s, rate);

	if (rate > 0 && t < fault_end_ns(s))
		sim_heap_push(s, t, type, 0, NULL, 0);
}

static void
on_crash(struct sim *s)
{
	/* relay: the kinds take turns (a gateway, a producer, a consumer), so each crashes */
	enum sim_node_kind want = s->cfg.relay
				      ? (enum sim_node_kind)(SIM_NODE_RELAY + s->crash_turn % 3)
				      : SIM_NODE_GATEWAY;
	int cand[SIM_NODES_MAX], n = 0, alive = 0;
	struct sim_gw *g;

	schedule_next(s, SIM_EV_CRASH, s->cfg.crashes_per_s);
	for (int i = 0; i < s->nnodes; i++)
		if (s->gws[i].alive) {
			alive++;
			if (s->gws[i].kind == want)
				cand[n++] = i;
		}
	if (!s->faults_on || alive < 2 || n == 0) /* keep one node up so the run makes progress */
		return;
	g = &s->gws[cand[sim_rand(s) % (uint64_t)n]];
	gw_crash(s, g);
	s->crash_turn++;
	s->res.faults[SIM_FAULT_crash]++;
	s->res.crashed[g->kind]++;
	sim_heap_push(s, s->now + 50 * RG_NS_PER_MS + sim_rand(s) % (950 * RG_NS_PER_MS),
		      SIM_EV_RESTART, g->idx, NULL, 0);
}

static void
on_partition(struct sim *s)
{
	int a, b;

	schedule_next(s, SIM_EV_PARTITION, s->cfg.partitions_per_s);
	if (!s->faults_on)
		return;
	if (s->cfg.relay) { /* any hop: between gateways, or a client's */
		const int *e = s->edges[sim_rand(s) % (uint64_t)s->nedges];

		a = e[0], b = e[1];
	} else { /* any pair of gateways */
		a = (int)(sim_rand(s) % (uint64_t)s->cfg.gateways);
		b = (int)((uint64_t)a + 1 + sim_rand(s) % (uint64_t)(s->cfg.gateways - 1)) %
		    s->cfg.gateways;
	}
	if (sim_net_set_partition(s, a, b, 1))
		return; /* already cut */
	s->res.faults[SIM_FAULT_partition]++;
	sim_heap_push(s, s->now + 200 * RG_NS_PER_MS + sim_rand(s) % (2800 * RG_NS_PER_MS),
		      SIM_EV_HEAL_LINK, a, NULL, (uint64_t)b);
}

/* Gateway 0's lanes as the fault phase ends: the controller's view, for goodput reports. */
static void
snapshot_lanes(struct sim *s)
{
	struct sim_gw *g = &s->gws[0];

	s->res.measure_s = s->cfg.duration_s - s->cfg.measure_from_s;
	s->res.nlanes = 0;
	if (!g->alive)
		return;
	for (uint16_t i = 0; i < rg_core_lanes(g->core) && i < SIM_LANES_MAX; i++)
		rg_core_lane_info(g->core, i, &s->res.lanes[s->res.nlanes++]);
}

static void
on_phase_end(struct sim *s)
{
	snapshot_lanes(s);
	s->faults_on = 0;
	s->producing = 0;
	s->heal_start_ns = s->now;
	s->heal_deadline_ns = s->now + (uint64_t)(s->cfg.heal_bound_s * 1e9);
	sim_net_heal(s); /* also counts what the links injected */
	for (int i = 0; i < s->nnodes; i++)
		if (!s->gws[i].alive)
			gw_start(s, &s->gws[i]);
}

/* ---- progress and completion ---- */

static uint64_t
published(const struct sim *s)
{
	uint64_t n = 0;

	for (int i = 0; i < s->nstreams; i++)
		n += s->streams[i].head;
	return n;
}

static int
all_applied(const struct sim *s)
{
	for (int i = 0; i < s->nstreams; i++)
		if (s->streams[i].c_applied < s->streams[i].head)
			return 0;
	return 1;
}

/* The run's anomalies so far: the simulator's own and the history checker's. */
static void
anomalies(const struct sim *s, uint64_t out[SIM_ANOM_MAX])
{
	const uint64_t *h = s->hist.ctr;

	memcpy(out, s->res.anomalies, sizeof(s->res.anomalies));
	out[SIM_ANOM_duplicated] += h[RG_HISTORY_CTR_duplicated];
	out[SIM_ANOM_reordered] += h[RG_HISTORY_CTR_reordered];
	out[SIM_ANOM_gaps] += h[RG_HISTORY_CTR_gaps];
	out[SIM_ANOM_corrupt_accepted] += h[RG_HISTORY_CTR_corrupt_accepted];
	out[SIM_ANOM_violations] += h[RG_HISTORY_CTR_stale_accepted]; /* no fences here */
}

static void
progress(struct sim *s)
{
	uint64_t an[SIM_ANOM_MAX], sum = 0;
	struct rg_core_stats st;
	uint64_t rtx = 0;

	for (int i = 0; i < s->nnodes; i++) {
		if (!s->gws[i].alive)
			continue;
		rg_core_stats(s->gws[i].core, &st);
		rtx += st.ctr[RG_CTR_rtx_frames];
	}
	anomalies(s, an);
	for (int a = 0; a < SIM_ANOM_MAX; a++)
		sum += an[a];
	printf("  t=%5.1fs %s published %8llu delivered %8llu checked %8llu packets %9llu "
	       "rtx(live) %7llu crashes %llu partitions %llu anomalies %llu\n",
	       s->now / 1e9, s->faults_on ? "faults" : "healed", (unsigned long long)published(s),
	       (unsigned long long)s->res.delivered, (unsigned long long)s->res.checked,
	       (unsigned long long)s->res.packets, (unsigned long long)rtx,
	       (unsigned long long)s->res.faults[SIM_FAULT_crash],
	       (unsigned long long)s->res.faults[SIM_FAULT_partition], (unsigned long long)sum);
	fflush(stdout);
}

static void
on_check(struct sim *s)
{
	if (s->cfg.progress && s->now % RG_NS_PER_S < CHECK_TICK_NS)
		progress(s);
	if (!s->faults_on && s->now >= s->heal_start_ns && all_applied(s)) {
		s->done = 1;
		return;
	}
	if (!s->faults_on && s->now >= s->heal_deadline_ns) {
		violation(s, "healed phase did not apply everything within the bound", 0, 0);
		s->done = 1;
		return;
	}
	sim_heap_push(s, s->now + CHECK_TICK_NS, SIM_EV_CHECK, 0, NULL, 0);
}

/* Makes records up to seq head, scheduled now (stamped streams remember when). */
static void
make_upto(struct sim *s, struct sim_stream *st, uint64_t head)
{
	if (st->made_ns != NULL && head >= st->made_cap) {
		size_t n = RG_MAX((size_t)head + 1, 2 * st->made_cap);

		st->made_ns = realloc(st->made_ns, n * sizeof(uint64_t));
		st->pub_ns = realloc(st->pub_ns, n * sizeof(uint64_t));
		RG_ASSERT(st->made_ns != NULL && st->pub_ns != NULL);
		memset(st->made_ns + st->made_cap, 0, (n - st->made_cap) * sizeof(uint64_t));
		memset(st->pub_ns + st->made_cap, 0, (n - st->made_cap) * sizeof(uint64_t));
		st->made_cap = n;
	}
	for (; st->head < head; st->head++)
		if (st->made_ns != NULL)
			st->made_ns[st->head + 1] = s->now;
}

/* A paced producer's noise: its own stream in latency scenarios, so alone and noisy runs match. */
static double
producer_uniform(struct sim *s, struct sim_stream *st)
{
	if (st->ns < 0)
		return sim_uniform(s);
	return (double)(rg_splitmix64(&st->prng) >> 11) * (1.0 / 9007199254740992.0);
}

static void
on_produce(struct sim *s, struct sim_gw *g)
{
	sim_heap_push(s, s->now + PRODUCE_TICK_NS, SIM_EV_PRODUCE, g->idx, NULL, 0);
	for (int i = 0; i < s->nstreams; i++) {
		struct sim_stream *st = &s->streams[i];

		if (st->src != g->idx)
			continue;
		if (s->producing && st->greedy) {
			/* Always backlogged: made records stay GREEDY_AHEAD ahead of what the core took. */
			if (st->next_pub != 0)
				make_upto(s, st, RG_MAX(st->head, st->next_pub - 1 + GREEDY_AHEAD));
		} else if (s->producing) {
			/* Poisson-ish arrivals: the mean rate with ±50 % noise per tick. */
			st->owed += st->records_per_s * (PRODUCE_TICK_NS / 1e9) *
				    (0.5 + producer_uniform(s, st));
			while (st->owed >= 1.0) {
				make_upto(s, st, st->head + 1);
				st->owed -= 1.0;
			}
		}
		if (g->alive)
			publish(s, g, st);
	}
	pump(s, g);
}

static void
on_consume(struct sim *s, struct sim_gw *g)
{
	sim_heap_push(s, s->now + CONSUME_TICK_NS, SIM_EV_CONSUME, g->idx, NULL, 0);
	if (!g->alive)
		return;
	rg_core_drain(g->core);
	for (int i = 0; i < s->nstreams; i++) {
		struct sim_stream *st = &s->streams[i];

		if (st->dst != g->idx || st->h.next - 1 <= st->c_applied)
			continue;
		st->c_applied = st->h.next - 1; /* durable from here on */
		rg_core_applied(g->core, st->id, st->c_applied);
	}
	pump(s, g);
}

static void
on_event(struct sim *s, const struct sim_ev *ev)
{
	struct sim_gw *g = &s->gws[ev->gw];

	switch (ev->type) {
	case SIM_EV_ARRIVE:
		if (g->alive)
			rg_core_recv(g->core, ev->pkt->data, ev->pkt->len, ev->pkt, s->now);
		sim_pkt_put(s, ev->pkt);
		pump(s, g);
		break;
	case SIM_EV_WAKE:
		if (!g->alive || ev->arg != g->wake_gen)
			break;
		g->wake_at = RG_NS_NEVER;
		rg_core_on_timer(g->core, s->now);
		pump(s, g);
		break;
	case SIM_EV_PRODUCE:
		on_produce(s, g);
		break;
	case SIM_EV_CONSUME:
		on_consume(s, g);
		break;
	case SIM_EV_CRASH:
		on_crash(s);
		break;
	case SIM_EV_RESTART:
		if (!g->alive)
			gw_start(s, g);
		break;
	case SIM_EV_PARTITION:
		on_partition(s);
		break;
	case SIM_EV_HEAL_LINK:
		sim_net_set_partition(s, ev->gw, (int)ev->arg, 0);
		break;
	case SIM_EV_PHASE_END:
		on_phase_end(s);
		break;
	case SIM_EV_CHECK:
		on_check(s);
		break;
	case SIM_EV_LINK:
		sim_net_on_link(s, ev);
		break;
	}
}

/* ---- a run ---- */

static int goodput_verdict(const struct sim_config *cfg, const struct sim_result *res, char *msg,
			   size_t msglen);

static int
ns_stream_count(const struct sim_config *c)
{
	int k = 0;

	for (int n = 0; n < c->nns; n++)
		k += c->ns[n].flood && c->alone ? 0 : c->ns[n].streams;
	return k;
}

/*
 * A latency scenario's streams, gateway 0 to 1 on lane 0: the low-rate
 * namespaces first, then (unless alone) the floods, so the low-rate streams
 * get the same ids and producer randomness in the alone and the noisy run.
 */
static int
ns_streams(struct sim *s)
{
	const struct sim_config *c = &s->cfg;
	uint64_t key[SIM_NS_MAX] = { 0 };
	int k = 0;

	RG_ASSERT(c->gateways == 2 && c->one_way && c->lanes == 1 && c->nns <= SIM_NS_MAX);
	for (int pass = 0; pass < 2; pass++)
		for (int n = 0; n < c->nns; n++)
			for (int i = 0;
			     c->ns[n].flood == pass && !(pass && c->alone) && i < c->ns[n].streams;
			     i++, k++) {
				struct sim_stream *st = &s->streams[k];

				RG_ASSERT(k < s->nstreams &&
					  c->ns[n].record_bytes >= RG_RECORD_STAMPED_MIN);
				/* A namespace's streams share the high 32 bits (the core's convention). */
				while (key[n] == 0)
					key[n] = sim_rand(s) & 0xffffffff00000000ull;
				st->id = key[n] | (uint64_t)(k + 1);
				st->dst = 1;
				rg_history_stream_init(&st->h, st->id, 0);
				st->ns = n;
				st->greedy = c->ns[n].greedy;
				st->records_per_s = c->ns[n].records_per_s;
				st->record_bytes = c->ns[n].record_bytes;
				st->prng = c->seed ^ ((uint64_t)(n + 1) << 32 | (uint64_t)i);
				st->made_ns = calloc(1, sizeof(uint64_t));
				st->pub_ns = calloc(1, sizeof(uint64_t));
				st->made_cap = 1;
				RG_ASSERT(st->made_ns != NULL && st->pub_ns != NULL);
			}
	return k;
}

/*
 * The nodes (sim.h, Topologies): gateways 0 .. G-1; with relay, gateway g's
 * producer client is node G + 2g and its consumer client G + 2g + 1. The
 * hops: every pair of gateways, and each client with its gateway.
 */
static void
nodes_init(struct sim *s)
{
	const struct sim_config *c = &s->cfg;
	int G = c->gateways;

	s->nnodes = c->relay ? 3 * G : G;
	RG_ASSERT(s->nnodes <= SIM_NODES_MAX);
	for (int i = 0; i < s->nnodes; i++) {
		struct sim_gw *g = &s->gws[i];

		g->sim = s;
		g->idx = i;
		g->kind = i < G         ? (c->relay ? SIM_NODE_RELAY : SIM_NODE_GATEWAY)
			  : (i - G) % 2 ? SIM_NODE_CONSUMER
					: SIM_NODE_PRODUCER;
		g->home = i < G ? i : (i - G) / 2;
	}
	for (int a = 0; a < s->nnodes; a++)
		for (int b = a + 1; b < s->nnodes; b++)
			if (b < G || s->gws[b].home == a) {
				s->edges[s->nedges][0] = a;
				s->edges[s->nedges][1] = b;
				s->nedges++;
			}
}

/*
 * The relay topology's streams: streams_per_pair from each gateway's producer
 * client to each other gateway's consumer client. Those of one pair share a
 * namespace; a consumer takes them by stream from the gateway before it in
 * order and by namespace from the ones after, so both kinds are exercised.
 */
static int
relay_streams(struct sim *s)
{
	const struct sim_config *c = &s->cfg;
	int G = c->gateways, k = 0;

	for (int a = 0; a < G; a++)
		for (int b = 0; b < G; b++) {
			uint64_t key = 0;

			while (a != b && key == 0)
				key = sim_rand(s) & 0xffffffff00000000ull;
			for (int i = 0; a != b && i < c->streams_per_pair; i++, k++) {
				struct sim_stream *st = &s->streams[k];

				st->id = key | (uint64_t)(k + 1);
				st->src = G + 2 * a;
				st->dst = G + 2 * b + 1;
				st->up = a;
				st->down = b;
				st->by_ns = a > b;
				st->lane = 0; /* a client has one lane to its gateway here */
				rg_history_stream_init(&st->h, st->id, 0);
				st->ns = -1;
				st->greedy = c->greedy;
				st->records_per_s = c->records_per_s;
			}
		}
	return k;
}

/* The streams a run of c makes (every topology). */
static int
stream_count(const struct sim_config *c)
{
	if (c->nns > 0)
		return ns_stream_count(c);
	return (c->one_way ? 1 : c->gateways) * (c->gateways - 1) * c->streams_per_pair;
}

int
sim_config_check(const struct sim_config *c, char *msg, size_t len)
{
	int streams = stream_count(c);

	if (c->gateways < 2 || c->gateways > SIM_GW_MAX)
		snprintf(msg, len, "--gateways %d: 2..%d", c->gateways, SIM_GW_MAX);
	else if (c->relay && 3 * c->gateways > SIM_NODES_MAX)
		snprintf(msg, len,
			 "--gateways %d: the relay scenario runs 3 nodes a gateway, at most %d "
			 "gateways",
			 c->gateways, SIM_NODES_MAX / 3);
	else if (c->lanes < 1 || c->lanes > SIM_LANES_MAX)
		snprintf(msg, len, "--lanes %d: 1..%d", c->lanes, SIM_LANES_MAX);
	else if (c->nns > 0 && (c->gateways != 2 || c->lanes != 1 || !c->one_way))
		snprintf(
		    msg, len,
		    "scenario %s runs 2 gateways, one way, over 1 lane: not with --gateways %d "
		    "--lanes %d",
		    c->name, c->gateways, c->lanes);
	else if (c->nns > SIM_NS_MAX)
		snprintf(msg, len, "%d namespaces: at most %d", c->nns, SIM_NS_MAX);
	else if (c->relay && (c->nns > 0 || c->one_way))
		snprintf(msg, len,
			 "scenario %s: the relay topology has no namespaces and runs both ways",
			 c->name);
	else if (streams < 1 || streams > SIM_STREAMS_MAX)
		snprintf(msg, len,
			 "%d streams (--gateways %d, each to %d others, --streams %d each): 1..%d",
			 streams, c->gateways, c->one_way ? 1 : c->gateways - 1,
			 c->streams_per_pair, SIM_STREAMS_MAX);
	else
		return 0;
	return -EINVAL;
}

static void
world_init(struct sim *s)
{
	const struct sim_config *c = &s->cfg;
	int k = 0;

	s->rng = c->seed;
	s->nstreams = stream_count(c);
	RG_ASSERT(sim_config_check(c, NULL, 0) == 0); /* rg-sim refused the options otherwise */
	nodes_init(s);
	s->streams = calloc((size_t)s->nstreams, sizeof(s->streams[0]));
	RG_ASSERT(s->streams != NULL);
	rg_record_init(&s->rec, c->seed, 0, 0); /* lengths are rec_len()'s */
	rg_history_init(&s->hist);
	for (int a = 0; c->nns == 0 && !c->relay && a < (c->one_way ? 1 : c->gateways); a++)
		for (int b = 0; b < c->gateways; b++)
			for (int i = 0; a != b && i < c->streams_per_pair; i++, k++) {
				struct sim_stream *st = &s->streams[k];

				st->id = (sim_rand(s) & 0xffffffff00000000ull) | (uint64_t)(k + 1);
				st->src = a;
				st->dst = b;
				st->lane = c->one_way ? (uint16_t)(k % c->lanes)
						      : rg_stream_lane(st->id, (uint16_t)c->lanes);
				rg_history_stream_init(&st->h, st->id, 0);
				st->ns = -1;
				st->greedy = c->greedy;
				st->records_per_s = c->records_per_s;
			}
	if (c->nns > 0)
		k = ns_streams(s);
	if (c->relay)
		k = relay_streams(s);
	RG_ASSERT(k == s->nstreams);
	for (int i = 0; !c->relay && i < s->nstreams; i++) {
		s->streams[i].up = s->streams[i].dst; /* gateways talk to each other directly */
		s->streams[i].down = s->streams[i].src;
	}
	sim_net_init(s);
	s->faults_on = 1;
	s->producing = 1;
	for (int i = 0; i < s->nnodes; i++) {
		struct sim_gw *g = &s->gws[i];

		g->inc = 1000 + sim_rand(s) % 1000;
		gw_start(s, g);
		sim_heap_push(s, sim_rand(s) % PRODUCE_TICK_NS, SIM_EV_PRODUCE, i, NULL, 0);
		sim_heap_push(s, sim_rand(s) % CONSUME_TICK_NS, SIM_EV_CONSUME, i, NULL, 0);
	}
	/* Each enabled fault class fires at least once: the first event is early in the phase. */
	if (c->crashes_per_s > 0)
		sim_heap_push(s, (uint64_t)(sim_uniform(s) * c->duration_s * 0.5e9), SIM_EV_CRASH,
			      0, NULL, 0);
	if (c->partitions_per_s > 0)
		sim_heap_push(s, (uint64_t)(sim_uniform(s) * c->duration_s * 0.5e9),
			      SIM_EV_PARTITION, 0, NULL, 0);
	sim_heap_push(s, fault_end_ns(s), SIM_EV_PHASE_END, 0, NULL, 0);
	sim_heap_push(s, CHECK_TICK_NS, SIM_EV_CHECK, 0, NULL, 0);
}

static void
world_fini(struct sim *s)
{
	struct sim_ev ev;

	for (int i = 0; i < s->nnodes; i++)
		if (s->gws[i].alive)
			node_stop(s, &s->gws[i]);
	while (sim_heap_pop(s, &ev))
		if (ev.pkt != NULL)
			sim_pkt_put(s, ev.pkt);
	if (sim_net_fini(s) != 0)
		violation(s, "a link emulator broke an invariant or dropped for its packet limit",
			  0, 0);
	if (s->pkts_live != 0)
		violation(s, "packet references leaked", s->pkts_live, 0);
	if (s->bufs_live != 0)
		violation(s, "relay reassembly buffers leaked", s->bufs_live, 0);
	for (int i = 0; i < s->nstreams; i++) {
		free(s->streams[i].made_ns);
		free(s->streams[i].pub_ns);
	}
	free(s->streams);
	free(s->heap);
}

int
sim_run(const struct sim_config *cfg, struct sim_result *res)
{
	struct sim *s = calloc(1, sizeof(*s));
	uint64_t an[SIM_ANOM_MAX];
	struct sim_ev ev;
	char msg[256];
	int rc;

	RG_ASSERT(s != NULL);
	s->cfg = *cfg;
	world_init(s);
	while (!s->done && sim_heap_pop(s, &ev)) {
		s->now = ev.t;
		s->res.events++;
		on_event(s, &ev);
	}
	for (int i = 0; i < s->nstreams; i++) {
		const struct sim_stream *st = &s->streams[i];

		s->res.published += st->head;
		s->res.anomalies[SIM_ANOM_lost] += rg_history_lost(st->head, st->c_applied);
	}
	for (int i = 0; i < s->nnodes; i++)
		if (s->gws[i].alive)
			core_count(s, &s->gws[i]);
	anomalies(s, an);
	memcpy(s->res.anomalies, an, sizeof(an));
	s->res.sim_seconds = s->now / 1e9;
	s->res.heal_seconds = (s->now - s->heal_start_ns) / 1e9;
	world_fini(s);
	*res = s->res;
	free(s);
	rc = sim_verdict(cfg, res, msg, sizeof(msg));
	return rc;
}

int
sim_verdict(const struct sim_config *cfg, const struct sim_result *res, char *msg, size_t msglen)
{
	const int enabled[SIM_FAULT_MAX] = {
		[SIM_FAULT_jitter] = cfg->jitter_ms > 0,
		[SIM_FAULT_loss] = cfg->loss > 0,
		[SIM_FAULT_burst_loss] = cfg->burst_enter > 0 && cfg->burst_loss > 0,
		[SIM_FAULT_duplication] = cfg->dup > 0,
		[SIM_FAULT_reordering] = cfg->reorder > 0,
		[SIM_FAULT_corruption] = cfg->corrupt > 0,
		[SIM_FAULT_partition] = cfg->partitions_per_s > 0,
		[SIM_FAULT_crash] = cfg->crashes_per_s > 0,
		[SIM_FAULT_consumer_stall] = cfg->stall > 0,
	};

	for (int a = 0; a < SIM_ANOM_MAX; a++)
		if (res->anomalies[a] != 0) {
			snprintf(msg, msglen, "%s = %llu%s%s", sim_anomaly_name(a),
				 (unsigned long long)res->anomalies[a],
				 res->violation[0] ? "; first violation: " : "", res->violation);
			return -1;
		}
	for (int f = 0; f < SIM_FAULT_MAX; f++)
		if (enabled[f] && res->faults[f] == 0) {
			snprintf(msg, msglen, "fault class %s is enabled but injected nothing",
				 sim_fault_name(f));
			return -1;
		}
	if (res->checked == 0 || res->published == 0) {
		snprintf(msg, msglen, "nothing was checked");
		return -1;
	}
	if (cfg->seal && res->handshakes < (uint64_t)(res->sim_seconds * 1e9 / SIM_REKEY_NS)) {
		snprintf(msg, msglen, "sealed, but only %llu handshakes in %.1f s: rekeys untested",
			 (unsigned long long)res->handshakes, res->sim_seconds);
		return -1;
	}
	if (goodput_verdict(cfg, res, msg, msglen) != 0)
		return -1;
	snprintf(msg, msglen, "ok");
	return 0;
}

void
sim_result_free(struct sim_result *res)
{
	for (int n = 0; n < SIM_NS_MAX; n++) {
		free(res->ns_lat[n]);
		free(res->ns_wait[n]);
		res->ns_lat[n] = res->ns_wait[n] = NULL;
		res->ns_n[n] = 0;
	}
}

double
sim_ref_rate(const struct sim_config *cfg)
{
	double mbit = cfg->bottleneck_mbit_s > 0 ? cfg->bottleneck_mbit_s : cfg->pace_mbit_s;

	return mbit * 125000.0;
}

double
sim_lane_goodput(const struct sim_result *res, int l)
{
	return res->measure_s > 0 ? (double)res->lane_bytes[l] / res->measure_s : 0;
}

/*
 * The goodput criteria of a pacing scenario (sim.h: goal_*). The goodput
 * counts record payload bytes checked in order at the consumer, so packet
 * and frame headers, ACKs and retransmissions all count against it.
 */
static int
goodput_verdict(const struct sim_config *cfg, const struct sim_result *res, char *msg,
		size_t msglen)
{
	double ref = sim_ref_rate(cfg), total = 0, lo = -1, hi = 0;
	double bdp = ref * 2 * cfg->delay_ms / 1e3;

	for (int l = 0; l < cfg->lanes && l < SIM_LANES_MAX; l++) {
		double g = sim_lane_goodput(res, l);

		total += g;
		lo = lo < 0 ? g : RG_MIN(lo, g);
		hi = RG_MAX(hi, g);
	}
	if (cfg->goal_goodput > 0 && !(total >= cfg->goal_goodput * ref)) {
		snprintf(msg, msglen, "goodput %.0f B/s is below %.2f x %.0f B/s", total,
			 cfg->goal_goodput, ref);
		return -1;
	}
	if (cfg->goal_share > 0 && !(hi > 0 && lo >= cfg->goal_share * hi)) {
		snprintf(msg, msglen, "lane goodputs %.0f .. %.0f B/s: share below %.2f", lo, hi,
			 cfg->goal_share);
		return -1;
	}
	if (cfg->goal_queue_bdp > 0 &&
	    !((double)res->queue_max_measured <= cfg->goal_queue_bdp * bdp)) {
		snprintf(msg, msglen,
			 "bottleneck queue reached %llu bytes, above %.2f x BDP (%.0f)",
			 (unsigned long long)res->queue_max_measured, cfg->goal_queue_bdp, bdp);
		return -1;
	}
	return 0;
}

static const char *const fault_names[SIM_FAULT_MAX] = {
#define SIM_X(name) [SIM_FAULT_##name] = #name,
	SIM_FAULTS(SIM_X)
#undef SIM_X
};

static const char *const anomaly_names[SIM_ANOM_MAX] = {
#define SIM_X(name) [SIM_ANOM_##name] = #name,
	SIM_ANOMALIES(SIM_X)
#undef SIM_X
};

const char *
sim_fault_name(enum sim_fault f)
{
	return fault_names[f];
}

const char *
sim_anomaly_name(enum sim_anomaly a)
{
	return anomaly_names[a];
}
