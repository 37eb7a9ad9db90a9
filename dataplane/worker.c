/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

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

static int
add_peers(struct rg_worker *w)
{
	const struct rg_worker_config *c = &w->cfg;
	uint64_t now = now_ns(w);
	int rc;

	for (uint16_t i = 0; i < c->npeers; i++) {
		const struct rg_worker_peer *p = &c->peers[i];

		rc = rg_core_add_peer(w->core, p->gw, p->lanes);
		if (rc != 0)
			return rc;
		for (uint16_t l = c->index; l < p->lanes; l += c->workers)
			if ((rc = rg_core_add_lane(w->core, p->gw, l, now)) != 0)
				return rc;
	}
	return 0;
}

int
rg_worker_init(struct rg_worker *w, const struct rg_worker_config *cfg, char *err, size_t errlen)
{
	static uint64_t rng_state; /* one stream of randomness per process, seeded from the TSC */
	struct rg_core_config cc = cfg->core;
	struct rg_core_cb cb = { .deliver = cb_deliver,
				 .rx_hold = cb_rx_hold,
				 .rx_release = cb_free,
				 .tx_release = cb_free,
				 .rx_open = cb_rx_open,
				 .replay = cb_replay,
				 .acked = cb_acked,
				 .applied = cb_applied,
				 .ctx = w };
	struct rg_wanem_ops ops = {
		.copy = wan_copy, .drop = cb_free, .bytes = wan_bytes, .ctx = w
	};
	int rc;

	memset(w, 0, sizeof(*w));
	w->cfg = *cfg;
	w->tsc0 = cfg->tsc0 != 0 ? cfg->tsc0 : rte_rdtsc();
	w->ns_mult = ns_mult();
	if (rng_state == 0)
		rng_state = rte_rdtsc() ^ (uint64_t)getpid() << 32;
	cc.mem = (struct rg_mem){ .alloc = mem_alloc, .free = mem_free, .ctx = NULL };
	cc.rng = (struct rg_rng){ .next = rng_next, .ctx = &rng_state };
	w->cfg.core = cc; /* rg_worker_fini frees with the same allocator */
	rc = rg_core_config_check(&cc, err, errlen);
	if (rc == 0)
		rc = rg_core_create(&cc, &cb, &w->core);
	if (rc == 0)
		rc = add_peers(w);
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
	rte_pktmbuf_free_bulk(w->out, w->nout);
	w->nout = 0;
	rte_pktmbuf_free_bulk(w->spare, w->nspare);
	w->npend = w->ntx = w->nspare = 0;
	if (w->cfg.wan_on)
		rg_wanem_fini(&w->wan, &w->cfg.core.mem);
	rg_core_destroy(w->core);
	w->core = NULL;
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

static const struct rg_worker_peer *
peer_by_gw(const struct rg_worker *w, uint16_t gw)
{
	for (uint16_t i = 0; i < w->cfg.npeers; i++) /* a handful of peers */
		if (w->cfg.peers[i].gw == gw)
			return &w->cfg.peers[i];
	return NULL;
}

/* Hands the core one RGP packet whose mbuf data starts at the RGP header. */
static void
recv_rgp(struct rg_worker *w, struct rte_mbuf *m, uint64_t now)
{
	rg_core_recv(w->core, rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), m,
		     now);
	rte_pktmbuf_free(m); /* the core and the consumer took their own references */
}

/* Checks a frame's addresses; gives it to the core or to the worker that owns its lane. */
static void
rx_frame(struct rg_worker *w, struct rte_mbuf *m, uint64_t now)
{
	const uint8_t *f;
	const struct rg_worker_peer *p;
	struct rg_frame_info fi;
	enum rg_frame_drop d;
	uint16_t gw, lane, owner;

	/* A port with small buffers (memif's 2 KiB by default) chains a jumbo frame. */
	if (RG_UNLIKELY(m->nb_segs > 1) && rte_pktmbuf_linearize(m) != 0) {
		WCTR(w, rx_chained)++;
		rte_pktmbuf_free(m);
		return;
	}
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	d = rg_frame_parse(f, rte_pktmbuf_data_len(m), &w->cfg.local, !w->cfg.port->rx_ip_csum,
			   &fi);
	if (d == RG_FRAME_OK && fi.payload_len < RG_HDR_BYTES)
		d = RG_FRAME_DROP_BAD_LENGTH;
	if (d != RG_FRAME_OK) {
		w->st.frame_drop[d]++;
		rte_pktmbuf_free(m);
		return;
	}
	gw = (uint16_t)(f[fi.payload_off + 6] | f[fi.payload_off + 7] << 8);
	lane = (uint16_t)(f[fi.payload_off + 4] | f[fi.payload_off + 5] << 8);
	p = peer_by_gw(w, gw);
	if (p == NULL || p->ep.ip != fi.src_ip) {
		WCTR(w, rx_peer_mismatch)++; /* a gateway id from an address that is not its own */
		rte_pktmbuf_free(m);
		return;
	}
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
	unsigned n, k = 0;

	n = rte_eth_rx_burst(w->cfg.port->id, w->cfg.index, m, w->cfg.burst);
	WCTR(w, rx_frames) += n;
	for (unsigned i = 0; i < n; i++)
		rx_frame(w, m[i], now);
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
 * Gives the port what is ready. A full TX queue is backpressure, not loss:
 * what did not fit stays, in order, for the next iteration, and no new
 * packet is built while any waits (do_tx).
 */
static unsigned
port_flush(struct rg_worker *w)
{
	uint16_t sent;

	if (w->nout == 0)
		return 0;
	sent = rte_eth_tx_burst(w->cfg.port->id, w->cfg.index, w->out, w->nout);
	WCTR(w, tx_frames) += sent;
	if (sent < w->nout) {
		WCTR(w, tx_full)++;
		memmove(w->out, w->out + sent, (w->nout - sent) * sizeof(w->out[0]));
	}
	w->nout = (uint16_t)(w->nout - sent);
	return sent;
}

/* Packets just built go through the WAN emulator when it is on, else straight out. */
static void
tx_flush(struct rg_worker *w, uint64_t now)
{
	if (w->ntx == 0)
		return;
	if (w->cfg.wan_on) {
		rg_wanem_enqueue(&w->wan, (void **)w->txb, w->ntx, now); /* it owns them now */
	} else {
		RG_ASSERT(w->nout + w->ntx <= RG_ARRAY_SIZE(w->out));
		memcpy(w->out + w->nout, w->txb, w->ntx * sizeof(w->txb[0]));
		w->nout = (uint16_t)(w->nout + w->ntx);
	}
	w->ntx = 0;
	port_flush(w);
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

/* Builds packets until the core has nothing more that may leave now. */
static unsigned
do_tx(struct rg_worker *w, uint64_t now)
{
	const uint16_t room = (uint16_t)RG_MIN(w->cfg.core.pkt_bytes_max, UINT16_MAX);
	unsigned built = 0;

	if (w->nout > 0 && port_flush(w) == 0)
		return 0; /* the port is full: build nothing until it takes what waits */
	for (; built < w->cfg.burst && w->nout == 0; built++) {
		struct rte_mbuf *m = tx_mbuf(w);
		const struct rg_worker_peer *p;
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
		w->nspare--;
		p = peer_by_gw(w, meta.peer_gw);
		RG_ASSERT(p != NULL);
		rg_frame_build(data, &w->cfg.local, &p->ep,
			       (uint16_t)(w->cfg.udp_src_base + meta.lane), n,
			       w->cfg.port->tx_ip_csum);
		m->data_len = m->pkt_len = (uint32_t)(RG_FRAME_HDR_BYTES + n);
		if (w->cfg.port->tx_ip_csum) {
			m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
			m->l2_len = RG_ETH_HDR_BYTES;
			m->l3_len = RG_IP4_HDR_BYTES;
		}
		w->txb[w->ntx++] = m;
		if (w->ntx == w->cfg.burst)
			tx_flush(w, now);
	}
	tx_flush(w, now);
	return built;
}

/* Sends what the WAN emulator released by now. */
static unsigned
do_wan(struct rg_worker *w, uint64_t now)
{
	unsigned n, room;

	if (!w->cfg.wan_on)
		return 0;
	port_flush(w);
	room = (unsigned)RG_ARRAY_SIZE(w->out) - w->nout;
	n = rg_wanem_dequeue(&w->wan, (void **)(w->out + w->nout), RG_MIN(room, w->cfg.burst), now);
	w->nout = (uint16_t)(w->nout + n);
	port_flush(w);
	return n;
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

	if (w->cfg.delivery == NULL)
		return;
	size = rte_ring_get_capacity(w->cfg.delivery);
	room = RG_MIN(rte_ring_free_count(w->cfg.delivery), size / 2);
	rg_core_set_rx_deliver_cap(w->core,
				   RG_MAX(64u, room / RG_MAX(1u, rg_core_rx_streams(w->core))));
}

static void
publish_stats(struct rg_worker *w, uint64_t now)
{
	w->st.now_ns = now;
	rg_core_stats(w->core, &w->st.core);
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
	until = RG_MIN(w->deadline_ns, now + (uint64_t)w->cfg.sleep_us * RG_NS_PER_US);
	wan_next = w->cfg.wan_on ? rg_wanem_next_ns(&w->wan) : RG_NS_NEVER;
	until = RG_MIN(until, wan_next);
	if (until <= now)
		return;
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
	work = do_rx(w, now);
	work += do_applied(w);
	/*
	 * Fragments the consumer refused when its ring was full go as soon as it
	 * has room, whether or not it applied anything (it may be mid-record).
	 * Cheap when nothing waits: the core's blocked list is empty.
	 */
	if (w->nstage < w->stage_room)
		work += rg_core_drain(w->core);
	work += do_ingress(w);
	flush_deliveries(w);
	if (now >= w->deadline_ns)
		rg_core_on_timer(w->core, now);
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
