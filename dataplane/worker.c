/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "keys.h"
#include "worker.h"

#define PUBLISH_EVERY_NS (1 * RG_NS_PER_MS)

static const char *const counter_names[RG_WCTR_MAX] = {
#define RG_X(name) [RG_WCTR_##name] = #name,
	RG_WORKER_COUNTERS(RG_X)
#undef RG_X
};

const char *
rg_worker_counter_name(enum rg_worker_counter c)
{
	return (unsigned)c < RG_WCTR_MAX ? counter_names[c] : "?";
}

#define WCTR(w, name) ((w)->st.ctr[RG_WCTR_##name])

/* TSC ticks since tsc0; 0 if this core's TSC reads a little behind the one that took tsc0. */
static uint64_t
ticks_since(uint64_t tsc0)
{
	int64_t d = (int64_t)(rte_rdtsc() - tsc0);

	return d > 0 ? (uint64_t)d : 0;
}

static uint64_t
now_ns(const struct rg_worker *w)
{
	return (uint64_t)(((unsigned __int128)ticks_since(w->tsc0) * w->ns_mult) >> 32);
}

static uint64_t
ns_mult(void)
{
	return (uint64_t)(((unsigned __int128)RG_NS_PER_S << 32) / rte_get_tsc_hz());
}

uint64_t
rg_worker_clock_ns(uint64_t tsc0)
{
	return (uint64_t)(((unsigned __int128)ticks_since(tsc0) * ns_mult()) >> 32);
}

/* ---- core callbacks (on the worker's thread) ---- */

static int
cb_deliver(void *ctx, uint16_t peer_gw, uint64_t stream, const struct rg_rx_frag *f)
{
	struct rg_worker *w = ctx;
	struct rg_delivery *d;

	if (w->nstage >= w->stage_room) {
		WCTR(w, delivery_full)++;
		return -EAGAIN;
	}
	d = &w->stage[w->nstage++];
	*d = (struct rg_delivery){ .stream = stream,
				   .seq = f->seq,
				   .data = f->data,
				   .mbuf = f->handle,
				   .off = f->off,
				   .len = f->len,
				   .record_len = f->record_len,
				   .version = f->version,
				   .peer_gw = peer_gw };
	rte_mbuf_refcnt_update(f->handle, 1); /* the consumer's reference */
	return 0;
}

static void
cb_rx_hold(void *ctx, void *handle)
{
	(void)ctx;
	rte_mbuf_refcnt_update(handle, 1);
}

static void
cb_free(void *ctx, void *handle)
{
	(void)ctx;
	rte_pktmbuf_free(handle);
}

static int
cb_rx_open(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t *applied)
{
	struct rg_worker *w = ctx;

	if (w->cfg.hooks.rx_open == NULL)
		return -EPERM;
	return w->cfg.hooks.rx_open(w->cfg.hooks.ctx, peer_gw, stream, applied);
}

static void
cb_replay(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t from)
{
	struct rg_worker *w = ctx;

	if (w->cfg.hooks.replay != NULL)
		w->cfg.hooks.replay(w->cfg.hooks.ctx, peer_gw, stream, from);
}

static void
cb_acked(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t acked)
{
	struct rg_worker *w = ctx;

	if (w->cfg.hooks.acked != NULL)
		w->cfg.hooks.acked(w->cfg.hooks.ctx, peer_gw, stream, acked);
}

static void
cb_applied(void *ctx, uint16_t peer_gw, uint64_t stream, uint64_t applied)
{
	struct rg_worker *w = ctx;

	if (w->cfg.hooks.applied != NULL)
		w->cfg.hooks.applied(w->cfg.hooks.ctx, peer_gw, stream, applied);
}

/* ---- the WAN emulator's packet operations on mbufs ---- */

static void *
wan_copy(void *ctx, void *pkt)
{
	struct rg_worker *w = ctx;

	return rte_pktmbuf_copy(pkt, w->cfg.pool, 0, UINT32_MAX);
}

static uint8_t *
wan_bytes(void *ctx, void *pkt, uint32_t *len)
{
	(void)ctx;
	*len = rte_pktmbuf_data_len((struct rte_mbuf *)pkt);
	return rte_pktmbuf_mtod((struct rte_mbuf *)pkt, uint8_t *);
}

/* ---- setup ---- */

static void *
mem_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return rte_zmalloc_socket("rg_core", size, RG_CACHE_LINE, (int)rte_socket_id());
}

static void
mem_free(void *ctx, void *p)
{
	(void)ctx;
	rte_free(p);
}

static uint64_t
rng_next(void *ctx)
{
	return rg_splitmix64(ctx);
}

/* ---- the relay's ops (on the worker's thread) ---- */

static uint16_t
relay_route(void *ctx, uint16_t client, uint64_t stream)
{
	struct rg_worker *w = ctx;

	(void)client, (void)stream;
	return w->cfg.relay_peer;
}

/* A reassembly buffer: rte_malloc'd, within the worker's asm_bytes_max. */
static uint8_t *
relay_buf_alloc(void *ctx, uint32_t len, void **handle)
{
	struct rg_worker *w = ctx;
	uint8_t *b;

	if (w->asm_bytes + len > w->cfg.asm_bytes_max)
		return NULL;
	b = rte_malloc_socket("rg_asm", (size_t)len + RG_CACHE_LINE, RG_CACHE_LINE,
			      (int)rte_socket_id());
	if (b == NULL)
		return NULL;
	memcpy(b, &len, sizeof(len)); /* its size, for the free: the record starts a line later */
	w->asm_bytes += len;
	*handle = b;
	return b + RG_CACHE_LINE;
}

static void
relay_buf_free(void *ctx, void *handle)
{
	struct rg_worker *w = ctx;
	uint32_t len;

	memcpy(&len, handle, sizeof(len));
	w->asm_bytes -= len;
	rte_free(handle);
}

static void
relay_pkt_hold(void *ctx, void *pkt)
{
	(void)ctx;
	rte_mbuf_refcnt_update(pkt, 1);
}

/* ---- setup ---- */

static int
add_peers(struct rg_worker *w)
{
	const struct rg_worker_config *c = &w->cfg;
	uint64_t now = now_ns(w);
	int rc;

	for (uint16_t i = 0; i < c->npeers; i++) {
		const struct rg_worker_peer *p = &c->peers[i];

		rc = rg_core_add_peer(w->core, p->gw, p->lanes);
		if (rc == 0 && p->client)
			rc = rg_core_peer_set_passive(w->core, p->gw, 1);
		if (rc == 0 && p->pkt_bytes != 0)
			rc = rg_core_peer_set_pkt_bytes(w->core, p->gw, p->pkt_bytes);
		if (rc == 0)
			rc = rg_relay_add_peer(w->relay, p->gw,
					       p->client ? RG_RELAY_CLIENT : RG_RELAY_GATEWAY);
		if (rc != 0)
			return rc;
		for (uint16_t l = c->index; l < p->lanes; l += c->workers)
			if ((rc = rg_core_add_lane(w->core, p->gw, l, now)) != 0)
				return rc;
	}
	return 0;
}

static int
make_relay(struct rg_worker *w, const struct rg_core_cb *local, struct rg_core_cb *cb)
{
	const struct rg_relay_ops ops = { .route = relay_route,
					  .buf_alloc = relay_buf_alloc,
					  .buf_free = relay_buf_free,
					  .pkt_hold = relay_pkt_hold,
					  .pkt_release = cb_free,
					  .ctx = w };
	struct rg_relay_config rc = w->cfg.relay;
	int err;

	rc.peers_max = (uint16_t)RG_MAX(w->cfg.npeers, 1u);
	err = rg_relay_create(&rc, &ops, local, &w->cfg.core.mem, &w->relay);
	if (err == 0)
		rg_relay_core_cb(w->relay, cb);
	return err;
}

/* Sealed: a keyring with this gateway's key and every peer's, the core's AEAD (keys.h). */
static int
make_keys(struct rg_worker *w, struct rg_core_config *cc)
{
	int rc;

	if (!w->cfg.sealed)
		return 0;
	rc = rg_keyring_create(w->cfg.key, cc->peers_max, cc->lanes_max, &w->keys);
	for (uint16_t i = 0; rc == 0 && i < w->cfg.npeers; i++)
		rc = rg_keyring_add_peer(w->keys, w->cfg.peers[i].gw, w->cfg.peers[i].pubkey);
	memset(w->cfg.key, 0, sizeof(w->cfg.key)); /* the keyring has it now */
	if (rc == 0)
		cc->aead = rg_keyring_aead(w->keys);
	return rc;
}

/* The bench instrument's peer events: only a peer in the other security mode is worth a line. */
static void
cb_peer_event(void *ctx, uint16_t peer_gw, enum rg_peer_event ev, uint64_t inc)
{
	struct rg_worker *w = ctx;

	(void)inc;
	if (ev == RG_PEER_MODE_MISMATCH)
		fprintf(stderr,
			"repgate: worker %u: peer %u sends %s packets but this gateway's "
			"security.mode is \"%s\": its packets are dropped (MODE_MISMATCH); give "
			"both the same security.mode\n",
			w->cfg.index, peer_gw, w->cfg.sealed ? "plaintext" : "sealed",
			w->cfg.sealed ? "aead" : "none");
}

int
rg_worker_init(struct rg_worker *w, const struct rg_worker_config *cfg, char *err, size_t errlen)
{
	struct rg_core_config cc = cfg->core;
	/* The bench instrument's endpoints (the in-daemon load roles): the relay's local streams. */
	const struct rg_core_cb local = { .deliver = cb_deliver,
					  .rx_hold = cb_rx_hold,
					  .rx_release = cb_free,
					  .tx_release = cb_free,
					  .rx_open = cb_rx_open,
					  .replay = cb_replay,
					  .acked = cb_acked,
					  .applied = cb_applied,
					  .peer_event = cb_peer_event,
					  .ctx = w };
	struct rg_wanem_ops ops = {
		.copy = wan_copy, .drop = cb_free, .bytes = wan_bytes, .ctx = w
	};
	struct rg_core_cb cb;
	int rc;

	memset(w, 0, sizeof(*w));
	w->cfg = *cfg;
	w->tsc0 = cfg->tsc0 != 0 ? cfg->tsc0 : rte_rdtsc();
	w->ns_mult = ns_mult();
	/* each worker its own randomness: no state shared between lcores */
	w->rng_state = rte_rdtsc() ^ (uint64_t)getpid() << 32 ^ (uint64_t)cfg->index << 48;
	cc.mem = (struct rg_mem){ .alloc = mem_alloc, .free = mem_free, .ctx = NULL };
	cc.rng = (struct rg_rng){ .next = rng_next, .ctx = &w->rng_state };
	rc = make_keys(w, &cc);
	w->cfg.core = cc; /* rg_worker_fini frees with the same allocator */
	if (rc == 0)
		rc = rg_core_config_check(&cc, err, errlen);
	if (rc == 0)
		rc = make_relay(w, &local, &cb);
	if (rc == 0)
		rc = rg_core_create(&cc, &cb, &w->core);
	if (rc == 0) {
		rg_relay_attach(w->relay, w->core);
		rc = add_peers(w);
	}
	if (rc == 0 && cfg->wan_on)
		rc = rg_wanem_init(&w->wan, &cfg->wan, &ops, &cc.mem);
	if (rc == -ENOMEM)
		snprintf(
		    err, errlen,
		    "worker %u: out of memory for its protocol core (proto.* pools and windows "
		    "are taken at start-up): give DPDK more (-m, hugepages) or shrink them",
		    cfg->index);
	else if (rc != 0 && err[0] == '\0')
		snprintf(err, errlen, "worker %u: %s", cfg->index, strerror(-rc));
	return rc;
}

int
rg_worker_tx_open(struct rg_worker *w, uint16_t peer_gw, uint64_t stream, enum rg_class cls)
{
	int rc;

	for (uint16_t i = 0; i < w->cfg.npeers; i++)
		if (w->cfg.peers[i].gw == peer_gw) {
			rc = rg_core_tx_open(w->core, peer_gw, stream,
					     rg_stream_lane(stream, w->cfg.peers[i].lanes));
			return rc != 0 ? rc : rg_core_tx_set_class(w->core, stream, cls);
		}
	return -ENOENT;
}

void
rg_worker_fini(struct rg_worker *w)
{
	for (uint16_t i = 0; i < w->npend; i++)
		rte_pktmbuf_free(w->pend[(w->pend_head + i) % RG_WORKER_BURST_MAX]);
	rte_pktmbuf_free_bulk(w->txb, w->ntx);
	for (uint16_t p = 0; p < RG_WORKER_PORTS_MAX; p++) {
		rte_pktmbuf_free_bulk(w->out[p], w->nout[p]);
		w->nout[p] = 0;
	}
	rte_pktmbuf_free_bulk(w->spare, w->nspare);
	w->npend = w->ntx = w->nspare = 0;
	if (w->cfg.wan_on)
		rg_wanem_fini(&w->wan, &w->cfg.core.mem);
	rg_core_destroy(w->core); /* releases the relay's records through its callbacks */
	rg_relay_destroy(w->relay);
	rg_keyring_destroy(w->keys); /* wipes the keys */
	w->core = NULL;
	w->relay = NULL;
	w->keys = NULL;
}

void
rg_worker_stop(struct rg_worker *w)
{
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE); /* W1 */
}

void
rg_worker_port_hold(struct rg_worker *w, int on)
{
	__atomic_store_n(&w->port_hold, on, __ATOMIC_RELEASE); /* P1 */
}

int
rg_worker_port_held(struct rg_worker *w)
{
	return __atomic_load_n(&w->port_held, __ATOMIC_ACQUIRE); /* pairs with P2 */
}

/* ---- the loop's steps; each returns how much work it did ---- */

static struct rg_worker_peer *
peer_by_gw(struct rg_worker *w, uint16_t gw)
{
	for (uint16_t i = 0; i < w->cfg.npeers; i++) /* bounded by npeers, a handful to dozens */
		if (w->cfg.peers[i].gw == gw)
			return &w->cfg.peers[i];
	return NULL;
}

/*
 * A client's packets tell where it is: its port (the IP was checked against
 * the profile). A newer incarnation, or the same, wins (rg_worker_learned).
 */
static void
learn(struct rg_worker_peer *p, uint16_t src_port, uint64_t src_inc)
{
	struct rg_worker_learned *l = p->learned;
	uint64_t inc = __atomic_load_n(&l->inc, __ATOMIC_RELAXED);

	if (src_inc < inc)
		return; /* a straggler of an older process */
	if (src_inc > inc)
		__atomic_store_n(&l->inc, src_inc, __ATOMIC_RELAXED);
	if (__atomic_load_n(&l->port, __ATOMIC_RELAXED) != src_port)
		__atomic_store_n(&l->port, src_port, __ATOMIC_RELAXED);
}

/*
 * A client's UDP source port rides with its packet in the mbuf (hash.usr:
 * RX_FROM_CLIENT | port), so whichever worker the lane's owner is learns it,
 * and only from a packet the core took as the client's own: its tag checked
 * and its incarnation not stale. Sealed, that is a packet the core opened:
 * accepted, refused, early in the handshake, or addressed to an older us (a
 * restarted gateway learns where its clients are from those); in plaintext
 * also a duplicate, which the CRC alone vouches for (sealed, a duplicate is
 * dropped before its tag is looked at).
 */
#define RX_FROM_CLIENT 0x10000u

static int
rx_identified(int rc, int sealed)
{
	if (rc == RG_DROP_NONE || rc == RG_WIRE_DROP_MAX + RG_DROP_NO_HANDSHAKE ||
	    rc == RG_WIRE_DROP_MAX + RG_DROP_REFUSED || rc == RG_WIRE_DROP_MAX + RG_DROP_WRONG_DST)
		return 1;
	return !sealed && rc == RG_WIRE_DROP_MAX + RG_DROP_DUP_PACKET;
}

/* Hands the core one RGP packet whose mbuf data starts at the RGP header; the relay follows. */
static void
recv_rgp(struct rg_worker *w, struct rte_mbuf *m, uint64_t now)
{
	uint8_t *pkt = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t from = m->hash.usr;
	int rc = rg_core_recv(w->core, pkt, rte_pktmbuf_data_len(m), m, now);

	if ((from & RX_FROM_CLIENT) && rx_identified(rc, rg_core_sealing(w->core))) {
		uint16_t gw, lane;
		uint64_t inc;
		struct rg_worker_peer *p;

		if (rg_wire_peek_route(pkt, rte_pktmbuf_data_len(m), &gw, &lane, &inc) == 0 &&
		    (p = peer_by_gw(w, gw)) != NULL && p->client)
			learn(p, (uint16_t)from, inc);
	}
	rte_pktmbuf_free(m); /* the core, the relay and the consumer took their own references */
	rg_relay_flush(w->relay, now);
}

static void tx_raw(struct rg_worker *w, uint16_t port, const uint8_t *frame, size_t len);

/* An ARP frame: the port's table learns from it; a request for us is answered on this port. */
static void
rx_arp(struct rg_worker *w, uint16_t port, struct rte_mbuf *m, uint64_t now)
{
	uint8_t reply[RG_ARP_FRAME_BYTES];
	size_t n = rg_arp_input(w->cfg.ports[port].arp, rte_pktmbuf_mtod(m, const uint8_t *),
				rte_pktmbuf_data_len(m), now, reply, sizeof(reply));

	WCTR(w, rx_arp)++;
	rte_pktmbuf_free(m);
	if (n > 0)
		tx_raw(w, port, reply, n);
}

/* Checks a frame's addresses; gives it to the core or to the worker that owns its lane. */
static void
rx_frame(struct rg_worker *w, uint16_t port, struct rte_mbuf *m, uint64_t now)
{
	const struct rg_worker_port *wp = &w->cfg.ports[port];
	struct rg_worker_peer *p;
	struct rg_frame_info fi;
	enum rg_frame_drop d;
	const uint8_t *f;
	uint16_t gw, lane, owner;
	uint64_t inc;

	/* A port with small buffers (memif's 2 KiB by default) chains a jumbo frame. */
	if (RG_UNLIKELY(m->nb_segs > 1) && rte_pktmbuf_linearize(m) != 0) {
		WCTR(w, rx_chained)++;
		rte_pktmbuf_free(m);
		return;
	}
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	if (RG_UNLIKELY(rg_arp_is_arp(f, rte_pktmbuf_data_len(m)))) {
		rx_arp(w, port, m, now);
		return;
	}
	d = rg_frame_parse(f, rte_pktmbuf_data_len(m), &wp->local, !wp->port->rx_ip_csum, &fi);
	if (d == RG_FRAME_OK &&
	    rg_wire_peek_route(f + fi.payload_off, fi.payload_len, &gw, &lane, &inc) != 0)
		d = RG_FRAME_DROP_BAD_LENGTH;
	if (d != RG_FRAME_OK) {
		w->st.frame_drop[d]++;
		rte_pktmbuf_free(m);
		return;
	}
	p = peer_by_gw(w, gw);
	if (p == NULL || p->ep.ip != fi.src_ip || p->port != port) {
		WCTR(w, rx_peer_mismatch)++; /* an id not ours, or from an address not its own */
		rte_pktmbuf_free(m);
		return;
	}
	m->hash.usr = p->client ? RX_FROM_CLIENT | fi.src_port : 0;
	rte_pktmbuf_adj(m, (uint16_t)fi.payload_off);
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - fi.payload_len));
	owner = (uint16_t)(lane % w->cfg.workers);
	if (owner == w->cfg.index) {
		recv_rgp(w, m, now);
		return;
	}
	WCTR(w, rx_dispatched)++;
	if (rte_ring_enqueue(w->cfg.dispatch[owner], m) != 0) {
		WCTR(w, dispatch_full)++;
		rte_pktmbuf_free(m);
	}
}

static void
flush_deliveries(struct rg_worker *w)
{
	if (w->nstage > 0) {
		/* Single producer: the room counted before the burst is still there. */
		unsigned n = rte_ring_enqueue_burst_elem(w->cfg.delivery, w->stage,
							 sizeof(w->stage[0]), w->nstage, NULL);

		RG_ASSERT(n == w->nstage);
		WCTR(w, delivered) += n;
	}
	w->nstage = 0;
	w->stage_room = w->cfg.delivery == NULL ? 0
						: RG_MIN((uint32_t)RG_ARRAY_SIZE(w->stage),
							 rte_ring_free_count(w->cfg.delivery));
}

static unsigned
do_rx(struct rg_worker *w, uint64_t now)
{
	struct rte_mbuf *m[RG_WORKER_BURST_MAX];
	unsigned n = 0, k = 0;

	for (uint16_t port = 0; port < w->cfg.nports; port++) {
		unsigned got =
		    rte_eth_rx_burst(w->cfg.ports[port].port->id, w->cfg.index, m, w->cfg.burst);

		WCTR(w, rx_frames) += got;
		for (unsigned i = 0; i < got; i++)
			rx_frame(w, port, m[i], now);
		n += got;
	}
	if (w->cfg.workers > 1) {
		k = rte_ring_dequeue_burst(w->cfg.dispatch[w->cfg.index], (void **)m, w->cfg.burst,
					   NULL);
		for (unsigned i = 0; i < k; i++)
			recv_rgp(w, m[i], now);
	}
	return n + k;
}

static unsigned
do_applied(struct rg_worker *w)
{
	struct rg_applied_msg a[64];
	unsigned n;

	if (w->cfg.applied == NULL)
		return 0;
	n = rte_ring_dequeue_burst_elem(w->cfg.applied, a, sizeof(a[0]), RG_ARRAY_SIZE(a), NULL);
	for (unsigned i = 0; i < n; i++)
		rg_core_applied(w->core, a[i].stream, a[i].applied);
	WCTR(w, applied_msgs) += n;
	return n;
}

/*
 * Publishes one record mbuf: 0 taken (or dropped), -EAGAIN keep it for later
 * (its stream's queue is full: backpressure). A record of a stream that is
 * SYNCING is dropped, not kept: the replay callback asks for it again, and
 * keeping it would hold every stream behind it (a stream whose peer is gone
 * may stay SYNCING for long).
 */
static int
publish_one(struct rg_worker *w, struct rte_mbuf *m)
{
	const struct rg_ingress_hdr *h = rte_pktmbuf_mtod(m, const struct rg_ingress_hdr *);
	int rc = rg_core_publish(w->core, h->stream, h->seq, h->version, h + 1, h->len, m);

	if (rc == -EAGAIN)
		return rc;
	if (rc == 0) {
		WCTR(w, ingress_records)++;
	} else {
		/* SYNCING, not the next seq (the producer is replaying from elsewhere), no stream. */
		if (rc == -ENOTCONN)
			WCTR(w, ingress_syncing)++;
		else
			WCTR(w, ingress_stale)++;
		rte_pktmbuf_free(m);
	}
	return 0;
}

static unsigned
do_ingress(struct rg_worker *w)
{
	unsigned done = 0;

	if (w->cfg.ingress == NULL)
		return 0;
	/* Records the core refused go first, in order: a stream's records must stay in seq order. */
	while (w->npend > 0) {
		if (publish_one(w, w->pend[w->pend_head]) != 0) {
			WCTR(w, ingress_blocked)++;
			return done;
		}
		w->pend_head = (uint16_t)((w->pend_head + 1) % RG_WORKER_BURST_MAX);
		w->npend--;
		done++;
	}
	w->pend_head = 0;
	w->npend =
	    (uint16_t)rte_ring_dequeue_burst(w->cfg.ingress, (void **)w->pend, w->cfg.burst, NULL);
	while (w->npend > 0 && publish_one(w, w->pend[w->pend_head]) == 0) {
		w->pend_head++;
		w->npend--;
		done++;
	}
	return done;
}

/*
 * Gives a port what is ready. A full TX queue is backpressure, not loss:
 * what did not fit stays, in order, for the next iteration, and no new
 * packet is built while any waits (do_tx).
 */
static unsigned
port_flush(struct rg_worker *w, uint16_t port)
{
	struct rte_mbuf **out = w->out[port];
	uint16_t sent, n = w->nout[port];

	if (n == 0)
		return 0;
	sent = rte_eth_tx_burst(w->cfg.ports[port].port->id, w->cfg.index, out, n);
	WCTR(w, tx_frames) += sent;
	if (sent < n) {
		WCTR(w, tx_full)++;
		memmove(out, out + sent, (size_t)(n - sent) * sizeof(out[0]));
	}
	w->nout[port] = (uint16_t)(n - sent);
	return sent;
}

static unsigned
ports_flush(struct rg_worker *w)
{
	unsigned sent = 0;

	for (uint16_t port = 0; port < w->cfg.nports; port++)
		sent += port_flush(w, port);
	return sent;
}

static int
ports_waiting(const struct rg_worker *w)
{
	for (uint16_t port = 0; port < w->cfg.nports; port++)
		if (w->nout[port] > 0)
			return 1;
	return 0;
}

/* One packet onto a port's out queue (it must have room: callers keep it to one burst). */
static void
out_push(struct rg_worker *w, uint16_t port, struct rte_mbuf *m)
{
	if (w->nout[port] >= RG_ARRAY_SIZE(w->out[port])) {
		WCTR(w, tx_full)++;
		rte_pktmbuf_free(m);
		return;
	}
	w->out[port][w->nout[port]++] = m;
}

/* A frame built outside the core (ARP): copied into an mbuf for the port, past the emulator. */
static void
tx_raw(struct rg_worker *w, uint16_t port, const uint8_t *frame, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->cfg.pool);
	char *d;

	if (m == NULL || (d = rte_pktmbuf_append(m, (uint16_t)len)) == NULL) {
		WCTR(w, tx_no_mbuf)++;
		rte_pktmbuf_free(m);
		return;
	}
	memcpy(d, frame, len);
	WCTR(w, tx_arp)++;
	out_push(w, port, m);
}

/* Packets just built go through the WAN emulator when it is on (to gateways), else straight out. */
static void
tx_flush(struct rg_worker *w, uint64_t now)
{
	struct rte_mbuf *wan[RG_WORKER_BURST_MAX];
	uint16_t nwan = 0;

	for (uint16_t i = 0; i < w->ntx; i++) {
		if (w->txwan[i])
			wan[nwan++] = w->txb[i];
		else
			out_push(w, w->txport[i], w->txb[i]);
	}
	if (nwan > 0)
		rg_wanem_enqueue(&w->wan, (void **)wan, nwan, now); /* it owns them now */
	w->ntx = 0;
	ports_flush(w);
}

static struct rte_mbuf *
tx_mbuf(struct rg_worker *w)
{
	if (w->nspare == 0) {
		if (rte_pktmbuf_alloc_bulk(w->cfg.pool, w->spare, w->cfg.burst) != 0) {
			WCTR(w, tx_no_mbuf)++;
			return NULL;
		}
		w->nspare = w->cfg.burst;
	}
	return w->spare[w->nspare - 1];
}

/* An ARP request for ip on port, at most as often as the table lets it go (arp.h). */
static void
arp_request(struct rg_worker *w, uint16_t port, uint32_t ip)
{
	uint8_t frame[RG_ARP_FRAME_BYTES];
	size_t n = rg_arp_build_request(w->cfg.ports[port].arp, ip, frame, sizeof(frame));

	if (n > 0)
		tx_raw(w, port, frame, n);
}

/*
 * Where a packet to peer p goes now: its endpoint with the next hop's MAC (ARP,
 * unless pinned) and, for a client, the port it was last heard from. 0, or
 * -1 when it cannot leave yet (counted tx_unresolved; the core sends again).
 */
static int
resolve(struct rg_worker *w, const struct rg_worker_peer *p, struct rg_endpoint *ep, uint64_t now)
{
	uint32_t req = 0;

	*ep = p->ep;
	if (p->client && (ep->port = __atomic_load_n(&p->learned->port, __ATOMIC_RELAXED)) == 0) {
		WCTR(w, tx_unresolved)++;
		return -1;
	}
	if (p->pinned)
		return 0;
	if (rg_arp_resolve_dst(w->cfg.ports[p->port].arp, p->ep.ip, now, ep->mac, &req) != 1) {
		if (req != 0)
			arp_request(w, p->port, req);
		WCTR(w, tx_unresolved)++;
		return -1;
	}
	if (req != 0) /* usable, but stale: a refresh is due */
		arp_request(w, p->port, req);
	return 0;
}

/* Frames a packet the core built for peer p in m; -1 when it cannot leave (m is kept). */
static int
frame_for(struct rg_worker *w, struct rte_mbuf *m, size_t n, const struct rg_tx_meta *meta,
	  uint64_t now)
{
	const struct rg_worker_peer *p = peer_by_gw(w, meta->peer_gw);
	const struct rg_worker_port *wp;
	struct rg_endpoint ep;

	RG_ASSERT(p != NULL);
	if (resolve(w, p, &ep, now) != 0)
		return -1;
	wp = &w->cfg.ports[p->port];
	/*
	 * A lane to a gateway leaves from udp_src_base + lane, the entropy RSS
	 * spreads lanes by; one to a client from our port, which is how its
	 * socket knows the gateway (by address and port).
	 */
	rg_frame_build(rte_pktmbuf_mtod(m, uint8_t *), &wp->local, &ep,
		       p->client ? wp->local.port : (uint16_t)(w->cfg.udp_src_base + meta->lane), n,
		       wp->port->tx_ip_csum);
	m->data_len = m->pkt_len = (uint32_t)(RG_FRAME_HDR_BYTES + n);
	if (wp->port->tx_ip_csum) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
		m->l2_len = RG_ETH_HDR_BYTES;
		m->l3_len = RG_IP4_HDR_BYTES;
	}
	w->txport[w->ntx] = p->port;
	w->txwan[w->ntx] = w->cfg.wan_on && !p->client; /* the emulator is the WAN's */
	w->txb[w->ntx++] = m;
	return 0;
}

/* Builds packets until the core has nothing more that may leave now. */
static unsigned
do_tx(struct rg_worker *w, uint64_t now)
{
	const uint16_t room = (uint16_t)RG_MIN(w->cfg.core.pkt_bytes_max, UINT16_MAX);
	unsigned built = 0;

	if (ports_waiting(w) && ports_flush(w) == 0 && ports_waiting(w))
		return 0; /* the ports are full: build nothing until they take what waits */
	for (; built < w->cfg.burst && !ports_waiting(w); built++) {
		struct rte_mbuf *m = tx_mbuf(w);
		struct rg_tx_meta meta;
		uint8_t *data;
		size_t n;

		if (m == NULL)
			break;
		data = rte_pktmbuf_mtod(m, uint8_t *);
		n = rg_core_send(w->core, data + RG_FRAME_HDR_BYTES,
				 RG_MIN(room, rte_pktmbuf_tailroom(m) - RG_FRAME_HDR_BYTES), &meta,
				 now);
		if (n == 0)
			break;
		if (frame_for(w, m, n, &meta, now) != 0)
			continue; /* not addressable yet: the mbuf stays spare for the next packet */
		w->nspare--;
		if (w->ntx == w->cfg.burst)
			tx_flush(w, now);
	}
	tx_flush(w, now);
	return built;
}

/* Sends what the WAN emulator released by now (onto the WAN port, ports[0]). */
static unsigned
do_wan(struct rg_worker *w, uint64_t now)
{
	unsigned n, room;

	if (!w->cfg.wan_on)
		return 0;
	port_flush(w, 0);
	room = (unsigned)RG_ARRAY_SIZE(w->out[0]) - w->nout[0];
	n = rg_wanem_dequeue(&w->wan, (void **)(w->out[0] + w->nout[0]), RG_MIN(room, w->cfg.burst),
			     now);
	w->nout[0] = (uint16_t)(w->nout[0] + n);
	port_flush(w, 0);
	return n;
}

/*
 * Worker 0 keeps the ports' next hops resolved before the first packet needs
 * them and fresh when idle (arp.h: rg_arp_poll), every 10 ms; and announces
 * our addresses once at start.
 */
static void
do_arp(struct rg_worker *w, uint64_t now)
{
	uint32_t ips[16];

	if (w->cfg.index != 0 || now < w->arp_next_ns)
		return;
	for (uint16_t port = 0; port < w->cfg.nports; port++) {
		struct rg_arp *a = w->cfg.ports[port].arp;
		unsigned n;

		if (w->arp_next_ns == 0) {
			uint8_t frame[RG_ARP_FRAME_BYTES];
			size_t len = rg_arp_build_announce(a, frame, sizeof(frame));

			if (len > 0)
				tx_raw(w, port, frame, len);
		}
		n = rg_arp_poll(a, now, ips, RG_ARRAY_SIZE(ips));
		for (unsigned i = 0; i < n; i++)
			arp_request(w, port, ips[i]);
	}
	if (w->cfg.tap_kick_sig != 0)
		raise(w->cfg.tap_kick_sig); /* tap_kick: see rg_worker_config */
	w->arp_next_ns = now + 10 * RG_NS_PER_MS;
}

int
rg_worker_command(struct rg_worker *w, struct rg_worker_cmd *cmd)
{
	if (w->cfg.cmd == NULL)
		return -ENOTSUP;
	__atomic_store_n(&cmd->done, 0, __ATOMIC_RELAXED);
	return rte_ring_enqueue(w->cfg.cmd, cmd) == 0 ? 0 : -ENOBUFS;
}

int
rg_worker_cmd_done(const struct rg_worker_cmd *cmd)
{
	return __atomic_load_n(&cmd->done, __ATOMIC_ACQUIRE); /* pairs with C1 */
}

/* Runs the control thread's commands: a few per millisecond at most, never on the hot path. */
static void
do_commands(struct rg_worker *w)
{
	struct rg_worker_cmd *cmd;

	if (w->cfg.cmd == NULL)
		return;
	while (rte_ring_dequeue(w->cfg.cmd, (void **)&cmd) == 0) {
		WCTR(w, commands)++;
		switch (cmd->type) {
		case RG_WCMD_FAILOVER:
			cmd->result =
			    rg_core_peer_failover(w->core, cmd->gw, cmd->to_gw, now_ns(w));
			break;
		case RG_WCMD_WAN:
			cmd->result = !w->cfg.wan_on                                   ? -ENOTSUP
				      : rg_wanem_config_check(&cmd->wan, NULL, 0) != 0 ? -EINVAL
										       : 0;
			if (cmd->result == 0)
				rg_wanem_set_config(&w->wan, &cmd->wan);
			break;
		default:
			cmd->result = -EINVAL;
		}
		__atomic_store_n(&cmd->done, 1, __ATOMIC_RELEASE); /* C1 */
	}
}

/*
 * Each receive stream's share of the delivery ring (DESIGN §4.5): the free
 * space, at most half the ring, split over the receive streams (at least 64
 * records each: the consumer applies in batches). A
 * stream past its share waits in its own reorder window, so a flooding
 * stream cannot make the ring a long FIFO in front of everyone else.
 */
static void
share_delivery_ring(struct rg_worker *w)
{
	unsigned size, room;

	/*
	 * Only a local consumer (the bench instrument) delivers into the ring;
	 * relayed streams are bounded by their next hop's send queue instead.
	 */
	if (w->cfg.delivery == NULL || w->cfg.hooks.rx_open == NULL)
		return;
	size = rte_ring_get_capacity(w->cfg.delivery);
	room = rte_ring_free_count(w->cfg.delivery); /* once: RG_MIN evaluates twice */
	room = RG_MIN(room, size / 2);
	rg_core_set_rx_deliver_cap(w->core,
				   RG_MAX(64u, room / RG_MAX(1u, rg_core_rx_streams(w->core))));
}

static void
publish_stats(struct rg_worker *w, uint64_t now)
{
	w->st.now_ns = now;
	rg_core_stats(w->core, &w->st.core);
	rg_relay_stats(w->relay, &w->st.relay);
	w->st.asm_bytes = w->asm_bytes;
	if (now >= w->relay_usage_next_ns) { /* O(streams): every 100 ms, not every ms */
		w->st.relay_queued = rg_core_relay_queued(w->core);
		w->relay_usage_next_ns = now + 100 * RG_NS_PER_MS;
	}
	if (w->cfg.wan_on)
		rg_wanem_stats(&w->wan, &w->st.wan);
	w->st.nlanes = (uint16_t)RG_MIN(rg_core_lanes(w->core), RG_WORKER_LANES_MAX);
	for (uint16_t i = 0; i < w->st.nlanes; i++)
		rg_core_lane_info(w->core, i, &w->st.lanes[i]);
	__atomic_store_n(&w->pub_seq, w->pub_seq + 1, __ATOMIC_RELEASE);
	w->pub = w->st;
	__atomic_store_n(&w->pub_seq, w->pub_seq + 1, __ATOMIC_RELEASE); /* S1 */
}

void
rg_worker_stats(struct rg_worker *w, struct rg_worker_stats *out)
{
	uint64_t seq;

	/* Bounded in practice: the worker publishes once per ms and the copy takes microseconds. */
	do {
		seq = __atomic_load_n(&w->pub_seq, __ATOMIC_ACQUIRE); /* pairs with S1 */
		*out = w->pub;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((seq & 1) || seq != __atomic_load_n(&w->pub_seq, __ATOMIC_RELAXED));
}

/* The idle policy: nothing happened in this iteration. */
static void
idle(struct rg_worker *w, uint64_t now)
{
	uint64_t until, wan_next;
	struct timespec ts;

	if (w->cfg.idle == RG_IDLE_SPIN)
		return;
	if (w->cfg.idle == RG_IDLE_PAUSE || ++w->idle < w->cfg.idle_polls) {
		rte_pause();
		return;
	}
	/*
	 * Sleep until the core's or the emulator's next deadline, at most
	 * sleep_us. One that is due already found nothing this iteration could
	 * do (a port's TX queue is full or its peer is gone, the pool is empty):
	 * it is polled at the idle pace, not spun on — a gateway whose memif
	 * peer was down burned a whole CPU here.
	 */
	until = now + (uint64_t)w->cfg.sleep_us * RG_NS_PER_US;
	if (w->deadline_ns > now)
		until = RG_MIN(until, w->deadline_ns);
	wan_next = w->cfg.wan_on ? rg_wanem_next_ns(&w->wan) : RG_NS_NEVER;
	if (wan_next > now)
		until = RG_MIN(until, wan_next);
	ts.tv_sec = 0;
	ts.tv_nsec = (long)RG_MIN(until - now, 999999999ull);
	nanosleep(&ts, NULL);
	WCTR(w, idle_sleeps)++;
}

/* The port is being restarted: no burst on it; sleep, keep the stats fresh. */
static void
held_iteration(struct rg_worker *w, uint64_t now)
{
	__atomic_store_n(&w->port_held, 1, __ATOMIC_RELEASE); /* P2 */
	w->idle = w->cfg.idle_polls;
	idle(w, now);
	if (now >= w->pub_next_ns) {
		do_commands(w); /* they touch the core and the emulator, never the port */
		publish_stats(w, now);
		w->pub_next_ns = now + PUBLISH_EVERY_NS;
	}
}

/*
 * What the reorder windows may still buffer (rg_core_set_rx_frags_room): a
 * buffered fragment holds its packet, so each receive pool keeps an eighth
 * of its mbufs free for what the windows wait for (and for acks, ARP),
 * the rest shared by the port's workers. Every 16 iterations.
 */
static void
rx_room(struct rg_worker *w)
{
	uint32_t room = UINT32_MAX;

	for (uint16_t port = 0; port < w->cfg.nports; port++) {
		const struct rte_mempool *mp = w->cfg.ports[port].rx_pool;
		unsigned avail, keep;

		if (mp == NULL)
			continue;
		avail = rte_mempool_avail_count(mp);
		keep = mp->size / 8;
		room = RG_MIN(room, avail > keep ? (avail - keep) / w->cfg.workers : 0);
	}
	rg_core_set_rx_frags_room(w->core, room);
}

static void
iteration(struct rg_worker *w)
{
	uint64_t t0 = rte_rdtsc(), now = now_ns(w);
	unsigned work;

	if (__atomic_load_n(&w->port_hold, __ATOMIC_ACQUIRE)) { /* pairs with P1 */
		held_iteration(w, now);
		return;
	}
	__atomic_store_n(&w->port_held, 0, __ATOMIC_RELAXED);

	flush_deliveries(w);
	if ((WCTR(w, loops) & 15) == 0)
		rx_room(w);
	work = do_rx(w, now);
	work += do_applied(w);
	/*
	 * Fragments refused for want of room — the bench consumer's ring, or a
	 * relayed stream's next hop — go as soon as there is room, whether or
	 * not anything was applied (a record may be half delivered). Cheap when
	 * nothing waits: the core's blocked list is empty.
	 */
	work += rg_core_drain(w->core);
	rg_relay_flush(w->relay, now);
	work += do_ingress(w);
	flush_deliveries(w);
	if (now >= w->deadline_ns) {
		rg_core_on_timer(w->core, now);
		rg_relay_flush(w->relay, now);
	}
	do_arp(w, now);
	work += do_tx(w, now);
	work += do_wan(w, now);
	w->deadline_ns = rg_core_next_deadline(w->core, now);
	WCTR(w, loops)++;
	if (now >= w->pub_next_ns) {
		do_commands(w);
		share_delivery_ring(w);
		publish_stats(w, now);
		w->pub_next_ns = now + PUBLISH_EVERY_NS;
	}
	if (work > 0) {
		WCTR(w, busy_loops)++;
		w->idle = 0;
		w->st.busy_cycles += rte_rdtsc() - t0;
		return;
	}
	idle(w, now);
	w->st.idle_cycles += rte_rdtsc() - t0;
}

int
rg_worker_main(void *arg)
{
	struct rg_worker *w = arg;
	uint64_t until;

	flush_deliveries(w);
	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) /* pairs with W1 */
		iteration(w);
	/* Clean stop: say CLOSE, and give packets held by the emulator 100 ms to leave. */
	rg_core_close(w->core);
	until = now_ns(w) + 100 * RG_NS_PER_MS;
	while (now_ns(w) < until && (w->cfg.wan_on ? rg_wanem_held(&w->wan) > 0 : 1)) {
		iteration(w);
		if (!w->cfg.wan_on)
			break;
	}
	publish_stats(w, now_ns(w));
	return 0;
}
