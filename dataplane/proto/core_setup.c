/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The core's slow path: configuration, construction (all memory is taken
 * here), peers, lanes and send streams, teardown, stats and invariant checks.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "core_impl.h"

static const char *const counter_names[RG_CTR_MAX] = {
#define RG_X(name) [RG_CTR_##name] = #name,
	RG_CORE_COUNTERS(RG_X)
#undef RG_X
};

static const char *const drop_names[RG_DROP_MAX] = { [RG_DROP_NONE] = "none",
#define RG_X(name, text) [RG_DROP_##name] = #name,
						     RG_CORE_DROPS(RG_X)
#undef RG_X
};

const char *
rg_core_counter_name(enum rg_core_counter c)
{
	return (unsigned)c < RG_CTR_MAX ? counter_names[c] : "?";
}

const char *
rg_core_drop_name(enum rg_core_drop d)
{
	return (unsigned)d < RG_DROP_MAX ? drop_names[d] : "?";
}

void
rg_core_config_default(struct rg_core_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->gateway_id = 1;
	cfg->peers_max = 8;
	cfg->lanes_max = 16;
	cfg->streams_max = 4096;
	cfg->tx_records_max = 65536;
	cfg->tx_stream_records_max = 1024;
	cfg->rx_window_records = 256;
	cfg->rx_frags_max = 65536;
	cfg->pkt_bytes_max = 1472; /* a 1500-byte MTU less IPv4 and UDP headers */
	cfg->inflight_pkts_max = 8192;
	cfg->inflight_frames_max = 65536;
	cfg->inflight_bytes_max = 8u << 20;
	cfg->ack_every_pkts = 4;
	cfg->ack_delay_ns_max = 200 * RG_NS_PER_US;
	cfg->initial_rtt_ns = 100 * RG_NS_PER_MS;
	cfg->granularity_ns = 100 * RG_NS_PER_US;
	cfg->pto_ns_max = RG_NS_PER_S;
	cfg->pace_rate_bytes_per_s = 0;
	cfg->pace_burst_bytes = 64 * 1024;
	cfg->pacing = RG_PACING_FIXED;
	cfg->hello_interval_ns = 100 * RG_NS_PER_MS;
	cfg->ping_interval_ns = 100 * RG_NS_PER_MS;
	cfg->pn_start_max = 1ull << 31;
	cfg->subs_max = 64;
	cfg->ses = (struct rg_ses_config){ .rekey_after_ns = 120 * RG_NS_PER_S,
					   .rekey_after_bytes = 1ull << 36,
					   .reject_after_ns = 180 * RG_NS_PER_S,
					   .retry_ns = 100 * RG_NS_PER_MS,
					   .stale_ns = RG_NS_PER_S };
	cfg->mem = *rg_mem_default();
}

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int
rg_core_config_check(const struct rg_core_config *cfg, char *err, size_t errlen)
{
	if (cfg->incarnation == 0)
		return fail(err, errlen, "incarnation must be nonzero");
	{
		const struct rg_aead *a = &cfg->aead;
		int n = (a->hs_initiate != NULL) + (a->hs_read_init != NULL) +
			(a->hs_answer != NULL) + (a->hs_finish != NULL) + (a->forget != NULL) +
			(a->seal != NULL) + (a->open != NULL);

		if (n != 0 && n != 7)
			return fail(err, errlen, "aead: the handshake, seal and open go together");
		if (n == 7 && (cfg->ses.rekey_after_ns == 0 || cfg->ses.rekey_after_bytes == 0 ||
			       cfg->ses.reject_after_ns <= cfg->ses.rekey_after_ns ||
			       cfg->ses.retry_ns == 0 || cfg->ses.stale_ns == 0))
			return fail(err, errlen,
				    "ses: rekey times and bytes > 0, reject_after_ns > "
				    "rekey_after_ns, retry_ns and stale_ns > 0");
	}
	if (cfg->peers_max == 0 || cfg->lanes_max == 0 || cfg->lanes_max == RG_NIL16)
		return fail(err, errlen, "peers_max and lanes_max must be 1..65534");
	if (cfg->streams_max == 0 || cfg->streams_max > (1u << 24))
		return fail(err, errlen, "streams_max must be 1..%u", 1u << 24);
	if (cfg->tx_records_max == 0 || cfg->tx_stream_records_max == 0)
		return fail(err, errlen, "tx_records_max and tx_stream_records_max must be > 0");
	if (!rg_is_pow2(cfg->rx_window_records) || cfg->rx_window_records < 2 ||
	    cfg->rx_window_records > (1u << 16))
		return fail(err, errlen, "rx_window_records must be a power of two in 2..65536");
	if ((uint64_t)cfg->streams_max * cfg->rx_window_records > (1ull << 28))
		return fail(err, errlen, "streams_max * rx_window_records must be <= 2^28");
	if (cfg->rx_frags_max == 0)
		return fail(err, errlen, "rx_frags_max must be > 0");
	if (cfg->pkt_bytes_max < 256 || cfg->pkt_bytes_max > RG_PKT_BYTES_MAX)
		return fail(err, errlen, "pkt_bytes_max must be 256..%u", RG_PKT_BYTES_MAX);
	if (!rg_is_pow2(cfg->inflight_pkts_max) || !rg_is_pow2(cfg->inflight_frames_max))
		return fail(err, errlen,
			    "inflight_pkts_max and inflight_frames_max: powers of two");
	if (cfg->inflight_bytes_max < cfg->pkt_bytes_max)
		return fail(err, errlen, "inflight_bytes_max must hold one packet");
	if (cfg->ack_every_pkts == 0 || cfg->initial_rtt_ns == 0 || cfg->granularity_ns == 0 ||
	    cfg->pto_ns_max == 0 || cfg->hello_interval_ns == 0 || cfg->ping_interval_ns == 0)
		return fail(err, errlen, "ack_every_pkts and the timers must be > 0");
	if (cfg->pacing != RG_PACING_FIXED && cfg->pacing != RG_PACING_ADAPTIVE)
		return fail(err, errlen, "pacing must be fixed or adaptive");
	if (cfg->pace_rate_bytes_per_s != 0 && cfg->pace_burst_bytes < cfg->pkt_bytes_max)
		return fail(err, errlen, "pace_burst_bytes must hold one packet");
	/*
	 * A receiver takes the first number of a lane as is (rg_pn_decode), so a
	 * lane must start low enough that it is still below 2^32 when the first of
	 * its packets gets through: starting below 2^31 leaves 2^31 packets of room.
	 */
	if (cfg->pn_start_max == 0 || cfg->pn_start_max > (1ull << 31))
		return fail(err, errlen, "pn_start_max must be 1..2^31");
	if (cfg->subs_max > (1u << 16))
		return fail(err, errlen, "subs_max must be 0..65536");
	if (cfg->mem.alloc == NULL || cfg->mem.free == NULL || cfg->rng.next == NULL)
		return fail(err, errlen, "mem and rng must be set");
	return 0;
}

int
rg_idxq_init(struct rg_idxq *q, uint32_t min_cap, const struct rg_mem *mem)
{
	uint32_t cap = 16;

	while (cap < min_cap)
		cap <<= 1;
	q->v = rg_mem_alloc(mem, sizeof(q->v[0]) * cap);
	q->mask = cap - 1;
	q->head = q->tail = 0;
	return q->v == NULL ? -ENOMEM : 0;
}

static int
cb_check(const struct rg_core_cb *cb)
{
	return cb->deliver != NULL && cb->rx_hold != NULL && cb->rx_release != NULL &&
	       cb->tx_release != NULL && cb->rx_open != NULL && cb->replay != NULL;
}

int
rg_core_create(const struct rg_core_config *cfg, const struct rg_core_cb *cb, struct rg_core **out)
{
	const struct rg_mem *mem = &cfg->mem;
	struct rg_core *c;
	int rc;

	*out = NULL;
	if (rg_core_config_check(cfg, NULL, 0) != 0 || !cb_check(cb))
		return -EINVAL;
	c = rg_mem_alloc(mem, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->cfg = *cfg;
	c->cb = *cb;
	c->rx_deliver_cap = UINT32_MAX;
	c->nrx = 0;
	c->peers = rg_mem_alloc(mem, sizeof(c->peers[0]) * cfg->peers_max);
	c->lanes = rg_mem_alloc(mem, sizeof(c->lanes[0]) * cfg->lanes_max);
	c->streams = rg_mem_alloc(mem, sizeof(c->streams[0]) * cfg->streams_max);
	c->slots = rg_mem_alloc(mem, sizeof(c->slots[0]) * (size_t)cfg->streams_max *
					 cfg->rx_window_records);
	c->subs = rg_mem_alloc(mem, sizeof(c->subs[0]) * RG_MAX(cfg->subs_max, 1u));
	rc = -ENOMEM;
	if (c->peers == NULL || c->lanes == NULL || c->streams == NULL || c->slots == NULL ||
	    c->subs == NULL)
		goto fail;
	if ((rc = rg_stab_init(&c->tx_tab, cfg->streams_max, mem)) != 0 ||
	    (rc = rg_stab_init(&c->rx_tab, cfg->streams_max, mem)) != 0 ||
	    (rc = rg_txpool_init(&c->txpool, cfg->tx_records_max, mem)) != 0 ||
	    (rc = rg_rxpool_init(&c->rxpool, cfg->rx_frags_max, mem)) != 0 ||
	    (rc = rg_idxq_init(&c->blocked, cfg->streams_max, mem)) != 0)
		goto fail;
	*out = c;
	return 0;
fail:
	rg_core_destroy(c);
	return rc;
}

static void
release_all(struct rg_core *c)
{
	for (uint32_t i = 0; i < c->nstreams; i++) {
		struct rg_stream *s = &c->streams[i];

		if (s->tx) {
			rg_txq_drop_all(&c->txpool, &s->q, 1, c->cb.tx_release, c->cb.ctx);
		} else {
			struct rg_reorder_ops ops = { .release = c->cb.rx_release,
						      .ctx = c->cb.ctx };

			rg_reorder_clear(&s->ro, &c->rxpool, &ops);
		}
	}
}

void
rg_core_destroy(struct rg_core *c)
{
	const struct rg_mem *mem;

	if (c == NULL)
		return;
	mem = &c->cfg.mem;
	if (c->streams != NULL && c->txpool.recs != NULL && c->rxpool.frags != NULL)
		release_all(c);
	for (uint16_t i = 0; c->lanes != NULL && i < c->nlanes; i++) {
		struct rg_lane *l = &c->lanes[i];

		rg_recovery_fini(&l->rec, mem);
		rg_mem_free(mem, l->rtx.v);
		rg_mem_free(mem, l->ctlq.v);
		for (int k = 0; k < RG_CLASSES; k++)
			rg_mem_free(mem, l->bq[k].v);
	}
	for (uint16_t i = 0; c->peers != NULL && i < c->npeers; i++)
		rg_mem_free(mem, c->peers[i].lane_map);
	rg_stab_fini(&c->tx_tab, mem);
	rg_stab_fini(&c->rx_tab, mem);
	rg_txpool_fini(&c->txpool, mem);
	rg_rxpool_fini(&c->rxpool, mem);
	rg_mem_free(mem, c->blocked.v);
	rg_mem_free(mem, c->subs);
	rg_mem_free(mem, c->slots);
	rg_mem_free(mem, c->streams);
	rg_mem_free(mem, c->lanes);
	rg_mem_free(mem, c->peers);
	rg_mem_free(mem, c);
}

static uint16_t
peer_index(const struct rg_core *c, uint16_t gw)
{
	for (uint16_t i = 0; i < c->npeers; i++)
		if (c->peers[i].gw == gw)
			return i;
	return RG_NIL16;
}

int
rg_core_add_peer(struct rg_core *c, uint16_t peer_gw, uint16_t lanes_total)
{
	struct rg_peer *p;

	if (lanes_total == 0 || lanes_total == RG_NIL16 || peer_gw == c->cfg.gateway_id)
		return -EINVAL;
	if (peer_index(c, peer_gw) != RG_NIL16)
		return -EEXIST;
	if (c->npeers >= c->cfg.peers_max)
		return -ENOSPC;
	p = &c->peers[c->npeers];
	p->lane_map = rg_mem_alloc(&c->cfg.mem, sizeof(p->lane_map[0]) * lanes_total);
	if (p->lane_map == NULL)
		return -ENOMEM;
	for (uint16_t i = 0; i < lanes_total; i++)
		p->lane_map[i] = RG_NIL16;
	p->gw = peer_gw;
	p->lanes_total = lanes_total;
	p->inc = 0;
	p->lanes_seen = 0;
	p->passive = 0;
	p->pkt_bytes_max = c->cfg.pkt_bytes_max;
	p->mode_told = 0;
	p->hs_tokens = RG_HS_PER_S;
	p->hs_fill_ns = 0;
	c->npeers++;
	return 0;
}

/* A lane's packet size and what follows from it (fragments always fit beside the preamble). */
static void
lane_set_pkt_bytes(struct rg_lane *l, uint32_t bytes)
{
	l->pkt_bytes_max = bytes;
	l->data_room_min = RG_MIN(256u, bytes / 4);
	l->frag_bytes_max =
	    (uint32_t)(bytes - RG_HDR_BYTES - sizeof(struct rg_wire_data) - RG_PREAMBLE_BYTES_MAX);
}

int
rg_core_peer_set_pkt_bytes(struct rg_core *c, uint16_t peer_gw, uint32_t bytes)
{
	uint16_t p = peer_index(c, peer_gw);

	if (p == RG_NIL16)
		return -ENOENT;
	if (bytes < 256 || bytes > RG_PKT_BYTES_MAX || bytes > c->cfg.inflight_bytes_max ||
	    (c->cfg.pace_rate_bytes_per_s != 0 && bytes > c->cfg.pace_burst_bytes))
		return -EINVAL;
	for (uint16_t k = 0; k < c->peers[p].lanes_total; k++) /* its lanes take it when added */
		if (c->peers[p].lane_map[k] != RG_NIL16)
			return -EBUSY;
	c->peers[p].pkt_bytes_max = bytes;
	return 0;
}

int
rg_core_peer_set_passive(struct rg_core *c, uint16_t peer_gw, int passive)
{
	uint16_t p = peer_index(c, peer_gw);

	if (p == RG_NIL16)
		return -ENOENT;
	c->peers[p].passive = passive != 0;
	return 0;
}

uint16_t
rg_core_peer_lanes(const struct rg_core *c, uint16_t peer_gw)
{
	uint16_t p = peer_index(c, peer_gw);

	return p == RG_NIL16 ? 0 : c->peers[p].lanes_seen;
}

uint64_t
rg_core_peer_inc(const struct rg_core *c, uint16_t peer_gw)
{
	uint16_t p = peer_index(c, peer_gw);

	return p == RG_NIL16 ? 0 : c->peers[p].inc;
}

int
rg_core_lane_pick(const struct rg_core *c, uint16_t peer_gw, uint64_t stream)
{
	uint16_t p = peer_index(c, peer_gw), served = 0, pick;
	const struct rg_peer *peer;

	if (p == RG_NIL16)
		return -ENOENT;
	peer = &c->peers[p];
	for (uint16_t k = 0; k < peer->lanes_total; k++) /* bounded by lanes_total */
		served += peer->lane_map[k] != RG_NIL16;
	if (served == 0)
		return -ENOENT;
	pick = (uint16_t)(rg_stream_hash(stream) % served);
	for (uint16_t k = 0; k < peer->lanes_total; k++)
		if (peer->lane_map[k] != RG_NIL16 && pick-- == 0)
			return k;
	return -ENOENT; /* not reached: pick < served */
}

static void
lane_cc_init(struct rg_core *c, struct rg_lane *l, uint64_t now_ns)
{
	const struct rg_core_config *cfg = &c->cfg;
	struct rg_cc_config ccfg = {
		.pacing = cfg->pacing,
		.rate_bytes_per_s = cfg->pace_rate_bytes_per_s,
		.cwnd_bytes_max = cfg->inflight_bytes_max,
		.pkt_bytes = l->pkt_bytes_max,
		.initial_rtt_ns = cfg->initial_rtt_ns,
	};

	/* The lane's first packet number is random: its bits pick the first gain phase. */
	rg_cc_init(&l->cc, &ccfg, (uint32_t)(l->rec.pn_next >> 4), now_ns);
	rg_lane_cc_apply(l, now_ns);
}

void
rg_lane_restart_tx(struct rg_core *c, struct rg_lane *l, uint64_t pn_start, uint64_t now_ns)
{
	rg_recovery_reset(&l->rec, pn_start);
	lane_cc_init(c, l, now_ns);
	l->rtx.head = l->rtx.tail = 0;
	l->probe = 0;
}

void
rg_lane_clear_active(struct rg_lane *l)
{
	for (int k = 0; k < RG_CLASSES; k++) {
		l->bq[k].head = l->bq[k].tail = 0;
		for (int b = 0; b < RG_LANE_BUCKETS; b++)
			l->buckets[k][b] = (struct rg_bucket){ .head = RG_NIL32, .tail = RG_NIL32 };
	}
}

void
rg_lane_reset(struct rg_core *c, struct rg_lane *l, uint64_t now_ns)
{
	rg_lane_restart_tx(c, l, rg_core_pn_start(c), now_ns);
	rg_ackr_reset(&l->ackr);
	l->ctlq.head = l->ctlq.tail = 0;
	rg_lane_clear_active(l);
	l->probe = 0;
	l->hello_due = 0;
	l->hello_next_ns = now_ns;
	l->last_eliciting_ns = now_ns;
	l->subq_head = l->subq_tail = 0;
}

int
rg_core_add_lane(struct rg_core *c, uint16_t peer_gw, uint16_t lane_id, uint64_t now_ns)
{
	const struct rg_core_config *cfg = &c->cfg;
	struct rg_recovery_config rc = {
		.pkts_max = cfg->inflight_pkts_max,
		.frefs_max = cfg->inflight_frames_max,
		.bytes_max = cfg->inflight_bytes_max,
		.initial_rtt_ns = cfg->initial_rtt_ns,
		.granularity_ns = cfg->granularity_ns,
		.ack_delay_ns_max = cfg->ack_delay_ns_max,
		.pto_ns_max = cfg->pto_ns_max,
	};
	uint16_t p = peer_index(c, peer_gw);
	struct rg_lane *l;
	int err;

	if (p == RG_NIL16)
		return -ENOENT;
	if (lane_id >= c->peers[p].lanes_total)
		return -EINVAL;
	if (c->peers[p].lane_map[lane_id] != RG_NIL16)
		return -EEXIST;
	if (c->nlanes >= cfg->lanes_max)
		return -ENOSPC;
	l = &c->lanes[c->nlanes];
	memset(l, 0, sizeof(*l));
	l->peer = p;
	l->id = lane_id;
	rg_ses_init(&l->ses, cfg->gateway_id > c->peers[p].gw);
	lane_set_pkt_bytes(l, c->peers[p].pkt_bytes_max);
	err = rg_recovery_init(&l->rec, &rc, &cfg->mem, rg_core_pn_start(c));
	if (err == 0)
		err = rg_idxq_init(&l->ctlq, cfg->streams_max, &cfg->mem);
	for (int k = 0; k < RG_CLASSES && err == 0; k++)
		err = rg_idxq_init(&l->bq[k], RG_LANE_BUCKETS, &cfg->mem);
	l->rtx.v = rg_mem_alloc(&cfg->mem, sizeof(l->rtx.v[0]) * cfg->inflight_frames_max);
	l->rtx.mask = cfg->inflight_frames_max - 1;
	if (err == 0 && l->rtx.v == NULL)
		err = -ENOMEM;
	if (err != 0) {
		rg_recovery_fini(&l->rec, &cfg->mem);
		rg_mem_free(&cfg->mem, l->ctlq.v);
		for (int k = 0; k < RG_CLASSES; k++)
			rg_mem_free(&cfg->mem, l->bq[k].v);
		rg_mem_free(&cfg->mem, l->rtx.v);
		return err;
	}
	rg_ackr_reset(&l->ackr);
	rg_pacer_init(&l->pacer, cfg->pace_rate_bytes_per_s, cfg->pace_burst_bytes, now_ns);
	rg_lane_reset(c, l, now_ns);
	c->peers[p].lane_map[lane_id] = c->nlanes;
	c->nlanes++;
	return 0;
}

int
rg_core_tx_open(struct rg_core *c, uint16_t peer_gw, uint64_t stream, uint16_t lane_id)
{
	uint16_t p = peer_index(c, peer_gw);
	struct rg_stream *s;
	int rc;

	if (stream == 0)
		return -EINVAL;
	if (p == RG_NIL16 || lane_id >= c->peers[p].lanes_total ||
	    c->peers[p].lane_map[lane_id] == RG_NIL16)
		return -ENOENT;
	if (c->nstreams >= c->cfg.streams_max)
		return -ENOSPC;
	rc = rg_stab_put(&c->tx_tab, stream, c->nstreams);
	if (rc != 0)
		return rc;
	s = &c->streams[c->nstreams++];
	memset(s, 0, sizeof(*s));
	s->id = stream;
	s->peer = p;
	s->lane = c->peers[p].lane_map[lane_id];
	s->tx = 1;
	s->bucket = rg_stream_bucket(stream);
	s->act_next = RG_NIL32;
	s->state = RG_STREAM_SYNCING;
	rg_txq_init(&s->q, c->cfg.tx_stream_records_max, 1);
	s->ctl = RG_CTL_RESUME_REQ;
	s->sq = RG_SQ_CTL;
	rg_idxq_push(&c->lanes[s->lane].ctlq, c->nstreams - 1);
	return 0;
}

int
rg_core_tx_set_class(struct rg_core *c, uint64_t stream, enum rg_class cls)
{
	uint32_t idx = rg_stab_get(&c->tx_tab, stream);
	struct rg_stream *s;

	if (idx == RG_STAB_NONE)
		return -ENOENT;
	if ((unsigned)cls >= RG_CLASSES)
		return -EINVAL;
	s = &c->streams[idx];
	if (s->sq & RG_SQ_ACT)
		return -EBUSY; /* waiting in its class's queue: it cannot leave it from the middle */
	s->cls = (uint8_t)cls;
	return 0;
}

int
rg_core_tx_set_relay(struct rg_core *c, uint64_t stream)
{
	uint32_t idx = rg_stab_get(&c->tx_tab, stream);

	if (idx == RG_STAB_NONE)
		return -ENOENT;
	c->streams[idx].relayed = 1;
	return 0;
}

int
rg_core_tx_room(const struct rg_core *c, uint64_t stream)
{
	uint32_t idx = rg_stab_get(&c->tx_tab, stream);
	const struct rg_stream *s;

	if (idx == RG_STAB_NONE)
		return -ENOENT;
	s = &c->streams[idx];
	if (s->state != RG_STREAM_OPEN)
		return -ENOTCONN;
	return (int)(s->q.records_max - s->q.count);
}

uint32_t
rg_core_tx_pool_free(const struct rg_core *c)
{
	return c->txpool.nfree;
}

uint64_t
rg_core_relay_queued(const struct rg_core *c)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < c->nstreams; i++) /* bounded by streams_max: telemetry only */
		if (c->streams[i].tx && c->streams[i].relayed)
			n += c->streams[i].q.count;
	return n;
}

void
rg_core_stats(const struct rg_core *c, struct rg_core_stats *out)
{
	*out = c->st;
}

uint16_t
rg_core_lanes(const struct rg_core *c)
{
	return c->nlanes;
}

int
rg_core_lane_info(const struct rg_core *c, uint16_t idx, struct rg_lane_info *out)
{
	const struct rg_lane *l;

	if (idx >= c->nlanes)
		return -ENOENT;
	l = &c->lanes[idx];
	*out = (struct rg_lane_info){
		.peer_gw = c->peers[l->peer].gw,
		.lane = l->id,
		.peer_inc = c->peers[l->peer].inc,
		.srtt_ns = l->rec.rtt.smoothed_ns,
		.rttvar_ns = l->rec.rtt.var_ns,
		.min_rtt_ns = l->rec.rtt.min_ns == RG_NS_NEVER ? 0 : l->rec.rtt.min_ns,
		.latest_rtt_ns = l->rec.rtt.latest_ns,
		.bytes_in_flight = l->rec.bytes_in_flight,
		.pkts_in_flight = l->rec.pkts_in_flight,
		.pkts_acked = l->rec.acked_pkts,
		.pkts_lost = l->rec.lost_pkts,
		.pto_fired = l->rec.pto_fired,
		.rtx_queued = l->rtx.tail - l->rtx.head,
		.last_rx_ns = l->last_rx_ns,
		.pacing_rate_bytes_per_s = l->pacer.rate_bytes_per_s,
		.cwnd_bytes = l->rec.window_bytes,
		.btl_bw_bytes_per_s = rg_cc_btl_bw(&l->cc),
		.delivered_bytes = l->rec.delivered_bytes,
		.cc_state = l->cc.state,
	};
	return 0;
}

int
rg_core_stream_info(const struct rg_core *c, uint64_t stream, int tx, struct rg_stream_info *out)
{
	uint32_t idx = rg_stab_get(tx ? &c->tx_tab : &c->rx_tab, stream);
	const struct rg_stream *s;

	if (idx == RG_STAB_NONE)
		return -ENOENT;
	s = &c->streams[idx];
	memset(out, 0, sizeof(*out));
	out->peer_gw = c->peers[s->peer].gw;
	out->tx = s->tx;
	out->applied = s->applied;
	if (s->tx) {
		out->open = s->state == RG_STREAM_OPEN;
		out->next_seq = s->q.next_seq;
		out->acked = s->q.acked_seq;
		out->credit = s->credit;
		out->queued = s->q.count;
	} else {
		out->open = s->state == RG_STREAM_RX;
		out->next_seq = s->ro.next_seq;
		out->credit = rg_reorder_max_seq(&s->ro);
		out->queued = s->ro.buffered;
	}
	return 0;
}

static int
idxq_holds(const struct rg_idxq *q, uint32_t x)
{
	int n = 0;

	for (uint32_t i = q->head; i != q->tail; i++)
		n += q->v[i & q->mask] == x;
	return n;
}

static int
stream_check(const struct rg_core *c, uint32_t i)
{
	const struct rg_stream *s = &c->streams[i];
	const struct rg_lane *l = &c->lanes[s->lane];

	if (idxq_holds(&l->ctlq, i) != !!(s->sq & RG_SQ_CTL) || s->cls >= RG_CLASSES ||
	    (!(s->sq & RG_SQ_ACT) && s->act_next != RG_NIL32) ||
	    idxq_holds(&c->blocked, i) != !!(s->sq & RG_SQ_BLOCKED))
		return -1;
	if (s->tx && s->state == RG_STREAM_SYNCING && (s->q.count != 0 || (s->sq & RG_SQ_ACT)))
		return -1;
	if (s->state == RG_STREAM_RX_WAIT && (s->ro.buffered != 0 || s->ctl != 0))
		return -1; /* inv. 6 */
	if (s->tx)
		return rg_txq_check(&c->txpool, &s->q);
	return rg_reorder_check(&s->ro, &c->rxpool);
}

/*
 * The lane's buckets (invariant 1): each queued bucket is in its class's
 * queue once, the others not at all; each list is acyclic, ends at its tail,
 * and holds only active send streams of this lane, class and bucket. Returns
 * the streams listed, or -1.
 */
static int64_t
buckets_check(const struct rg_core *c, uint16_t li)
{
	const struct rg_lane *l = &c->lanes[li];
	int64_t listed = 0;

	static_assert(RG_LANE_BUCKETS == 64, "one bit per bucket in a uint64_t");
	for (int k = 0; k < RG_CLASSES; k++) {
		uint64_t in_queue = 0;

		for (uint32_t i = l->bq[k].head; i != l->bq[k].tail; i++) {
			uint32_t b = l->bq[k].v[i & l->bq[k].mask];

			if (b >= RG_LANE_BUCKETS || (in_queue >> b & 1))
				return -1; /* not a bucket, or twice */
			in_queue |= 1ull << b;
		}
		for (uint32_t b = 0; b < RG_LANE_BUCKETS; b++) {
			const struct rg_bucket *bk = &l->buckets[k][b];
			uint32_t x = bk->head, last = RG_NIL32, n = 0;

			if ((in_queue >> b & 1) != (bk->queued ? 1u : 0u) ||
			    (bk->head == RG_NIL32) != (bk->tail == RG_NIL32))
				return -1;
			for (; x != RG_NIL32; last = x, x = c->streams[x].act_next) {
				const struct rg_stream *s = &c->streams[x];

				if (x >= c->nstreams || n++ > c->nstreams || !s->tx ||
				    !(s->sq & RG_SQ_ACT) || s->lane != li || s->cls != k ||
				    s->bucket != b || !bk->queued)
					return -1;
			}
			if (last != bk->tail)
				return -1;
			listed += n;
		}
	}
	return listed;
}

/* Inv. 7: the subscription table and its count of requests due. */
static int
subs_check(const struct rg_core *c)
{
	uint32_t want = 0;

	if (c->nsubs > c->cfg.subs_max)
		return -1;
	for (uint32_t i = 0; i < c->nsubs; i++) {
		const struct rg_sub *u = &c->subs[i];

		if (u->peer >= c->npeers ||
		    (u->state != RG_SUBST_WANT && u->state != RG_SUBST_DONE))
			return -1;
		want += u->state == RG_SUBST_WANT;
	}
	return want == c->nsubs_want ? 0 : -1;
}

int
rg_core_check(const struct rg_core *c)
{
	int64_t listed = 0, active = 0;

	for (uint16_t i = 0; i < c->nlanes; i++) {
		const struct rg_lane *l = &c->lanes[i];
		int64_t n = buckets_check(c, i);

		if (n < 0 || rg_ackr_check(&l->ackr) != 0 || rg_recovery_check(&l->rec) != 0 ||
		    rg_cc_check(&l->cc) != 0 || l->rec.window_bytes != rg_cc_cwnd(&l->cc) ||
		    l->pacer.rate_bytes_per_s != rg_cc_pacing_rate(&l->cc) ||
		    rg_ses_check(&l->ses) != 0)
			return -1;
		listed += n;
	}
	for (uint32_t i = 0; i < c->nstreams; i++) {
		if (stream_check(c, i) != 0)
			return -1;
		active += (c->streams[i].sq & RG_SQ_ACT) != 0;
	}
	if (subs_check(c) != 0)
		return -1;
	/* Every active stream is in exactly one list: the lists hold only active ones, as many. */
	return listed == active ? 0 : -1;
}
