/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The core's fast path: packets in (rg_core_recv), packets out
 * (rg_core_send), timers, publish and applied. Setup, teardown and
 * introspection live in core_setup.c.
 *
 * Incarnation rules for a received packet (docs/protocol.md §Incarnations),
 * checked in this order by check_incarnations():
 *   1. src_inc == 0 or src_inc < the peer's known incarnation: a straggler
 *      from an older process: dropped (STALE_SRC).
 *   2. src_inc > the known one: the peer is new (first contact) or restarted;
 *      on a restart every lane and stream shared with it is reset and the
 *      send streams resync (peer_restarted).
 *   3. dst_inc is neither 0 nor ours: addressed to an older us: dropped
 *      (WRONG_DST), and a HELLO tells the peer who we are now.
 *   4. dst_inc == 0: the peer does not know us yet; only HELLO, PING and
 *      CLOSE may come so (NO_HANDSHAKE otherwise).
 */
#include <errno.h>
#include <string.h>

#include "core_impl.h"

/* ---- glue between the modules and the caller's callbacks ---- */

struct rx_ctx {
	struct rg_core *c;
	struct rg_stream *s;
};

static int sealing(const struct rg_core *c);
static void ses_forget(struct rg_core *c, struct rg_lane *l, unsigned mask);

static int
rx_deliver(void *ctx, const struct rg_rx_frag *f)
{
	struct rx_ctx *x = ctx;
	struct rg_core *c = x->c;
	int rc;

	/*
	 * A stream's share of the consumer's delivery ring: past it, its records
	 * wait in its own reorder window (per stream, served round robin) rather
	 * than in the ring, a FIFO every stream shares. rg_core_drain() tries
	 * again; the consumer's applied watermark makes room.
	 */
	if (f->off == 0 && f->seq > x->s->applied + c->rx_deliver_cap) {
		RG_CTR(c, deliver_capped)++;
		return -EAGAIN;
	}
	rc = c->cb.deliver(c->cb.ctx, c->peers[x->s->peer].gw, x->s->id, f);
	if (rc != 0) {
		RG_CTR(c, deliver_blocked)++;
		return rc;
	}
	RG_CTR(c, delivered_frags)++;
	RG_CTR(c, delivered_bytes) += f->len;
	if (f->off + f->len == f->record_len)
		RG_CTR(c, delivered_records)++;
	return 0;
}

static void
rx_hold(void *ctx, void *handle)
{
	struct rx_ctx *x = ctx;

	x->c->cb.rx_hold(x->c->cb.ctx, handle);
}

static void
rx_release(void *ctx, void *handle)
{
	struct rx_ctx *x = ctx;

	x->c->cb.rx_release(x->c->cb.ctx, handle);
}

static struct rg_reorder_ops
rx_ops(struct rx_ctx *x)
{
	return (struct rg_reorder_ops){
		.deliver = rx_deliver, .hold = rx_hold, .release = rx_release, .ctx = x
	};
}

static void
tx_release(void *ctx, void *handle)
{
	struct rg_core *c = ctx;

	RG_CTR(c, tx_released)++;
	c->cb.tx_release(c->cb.ctx, handle);
}

static uint32_t
stream_idx(const struct rg_core *c, const struct rg_stream *s)
{
	return (uint32_t)(s - c->streams);
}

static uint16_t
peer_gw(const struct rg_core *c, const struct rg_stream *s)
{
	return c->peers[s->peer].gw;
}

static void
mark_ctl(struct rg_core *c, struct rg_stream *s, uint8_t bit)
{
	s->ctl |= bit;
	if (!(s->sq & RG_SQ_CTL)) {
		s->sq |= RG_SQ_CTL;
		rg_idxq_push(&c->lanes[s->lane].ctlq, stream_idx(c, s));
	}
}

/* Appends s to its bucket's list; queues the bucket for a turn if it was not. */
static void
act_push(struct rg_core *c, struct rg_lane *l, struct rg_stream *s)
{
	struct rg_bucket *b = &l->buckets[s->cls][s->bucket];
	uint32_t i = stream_idx(c, s);

	s->act_next = RG_NIL32;
	if (b->tail == RG_NIL32)
		b->head = i;
	else
		c->streams[b->tail].act_next = i;
	b->tail = i;
	if (!b->queued) {
		b->queued = 1;
		b->turn = 0;
		b->deficit = 0;
		rg_idxq_push(&l->bq[s->cls], s->bucket);
	}
}

static struct rg_stream *
act_pop(struct rg_core *c, struct rg_bucket *b)
{
	struct rg_stream *s = &c->streams[b->head];

	b->head = s->act_next;
	if (b->head == RG_NIL32)
		b->tail = RG_NIL32;
	s->act_next = RG_NIL32;
	return s;
}

static void
mark_active(struct rg_core *c, struct rg_stream *s)
{
	if (!(s->sq & RG_SQ_ACT) && s->state == RG_STREAM_OPEN &&
	    rg_txq_sendable(&c->txpool, &s->q, s->credit)) {
		s->sq |= RG_SQ_ACT;
		act_push(c, &c->lanes[s->lane], s);
	}
}

static void
mark_blocked(struct rg_core *c, struct rg_stream *s)
{
	if (s->ro.blocked && !(s->sq & RG_SQ_BLOCKED)) {
		s->sq |= RG_SQ_BLOCKED;
		rg_idxq_push(&c->blocked, stream_idx(c, s));
	}
}

/* A CREDIT goes out once the window moved by half since the last one. */
static void
credit_check(struct rg_core *c, struct rg_stream *s)
{
	if (rg_reorder_max_seq(&s->ro) >= s->credit_sent + s->ro.window / 2)
		mark_ctl(c, s, RG_CTL_CREDIT);
}

static uint16_t
find_peer(const struct rg_core *c, uint16_t gw)
{
	for (uint16_t i = 0; i < c->npeers; i++) /* bounded by peers_max, a handful */
		if (c->peers[i].gw == gw)
			return i;
	return RG_NIL16;
}

/* ---- peer incarnations ---- */

static void
stream_reset(struct rg_core *c, struct rg_stream *s)
{
	struct rx_ctx x = { c, s };
	struct rg_reorder_ops ops = rx_ops(&x);

	s->sq &= RG_SQ_BLOCKED; /* the lane's queues were emptied; the blocked entry stays valid */
	s->ctl = 0;
	s->act_next = RG_NIL32;
	if (s->tx) {
		rg_txq_drop_all(&c->txpool, &s->q, 1, tx_release, c);
		s->gen++; /* inv. 5: nothing the old queue sent counts for the new one */
		s->state = RG_STREAM_SYNCING;
		s->credit = 0;
		mark_ctl(c, s, RG_CTL_RESUME_REQ);
	} else if (s->state == RG_STREAM_RX_WAIT) {
		/* it waits for rg_core_rx_accept: the new incarnation's request asks again */
	} else {
		rg_reorder_clear(&s->ro, &c->rxpool, &ops);
	}
}

/* Subscriptions to peer from ask peer to again (WANT, due now); bounded by subs_max. */
static void
subs_rearm(struct rg_core *c, uint16_t from, uint16_t to, uint64_t now_ns)
{
	for (uint32_t i = 0; i < c->nsubs; i++) {
		struct rg_sub *u = &c->subs[i];

		if (u->peer != from)
			continue;
		u->peer = to;
		u->next_ns = now_ns;
		if (u->state != RG_SUBST_WANT)
			c->nsubs_want++;
		u->state = RG_SUBST_WANT;
	}
}

static void
peer_restarted(struct rg_core *c, uint16_t p, uint64_t now_ns)
{
	struct rg_peer *peer = &c->peers[p];

	RG_CTR(c, peer_restarts)++;
	peer->lanes_seen = 0; /* a new process may serve another lane count: it says in HELLO */
	for (uint16_t k = 0; k < peer->lanes_total; k++) {
		struct rg_lane *l;

		if (peer->lane_map[k] == RG_NIL16)
			continue;
		l = &c->lanes[peer->lane_map[k]];
		rg_lane_reset(c, l, now_ns);
		if (sealing(c)) /* the old process's sessions never open again (session.h 7) */
			ses_forget(c, l, rg_ses_peer_restarted(&l->ses, peer->inc));
	}
	/* Bounded by streams_max; a restart is rare. */
	for (uint32_t i = 0; i < c->nstreams; i++)
		if (c->streams[i].peer == p)
			stream_reset(c, &c->streams[i]);
	subs_rearm(c, p, p, now_ns); /* a new gateway process knows none of our subscriptions */
}

/* The lane of to that stream s moves to: the same id (same core), else the hash's; or NIL. */
static uint16_t
failover_lane(const struct rg_core *c, const struct rg_stream *s, const struct rg_peer *to)
{
	uint16_t id = c->lanes[s->lane].id;

	if (id >= to->lanes_total)
		id = rg_stream_lane(s->id, to->lanes_total);
	return to->lane_map[id];
}

int
rg_core_peer_failover(struct rg_core *c, uint16_t from_gw, uint16_t to_gw, uint64_t now_ns)
{
	uint16_t pf = find_peer(c, from_gw), pt = find_peer(c, to_gw);
	const struct rg_peer *from, *to;
	int moved = 0;

	if (pf == RG_NIL16 || pt == RG_NIL16 || pf == pt)
		return -ENOENT;
	from = &c->peers[pf];
	to = &c->peers[pt];
	/*
	 * Forget what is in flight to from: its acks will not come. Numbering
	 * goes on where it was, so a peer that was only cut off (same
	 * incarnation) sees no packet number twice. The lane's queues keep only
	 * the streams that cannot move (no lane of to on this core).
	 */
	for (uint16_t k = 0; k < from->lanes_total; k++) {
		struct rg_lane *l;

		if (from->lane_map[k] == RG_NIL16)
			continue;
		l = &c->lanes[from->lane_map[k]];
		rg_lane_restart_tx(c, l, l->rec.pn_next, now_ns);
		l->ctlq.head = l->ctlq.tail = 0;
		rg_lane_clear_active(l); /* send streams are reset below: they queue again */
	}
	/* Bounded by streams_max; a failover is rare. */
	for (uint32_t i = 0; i < c->nstreams; i++) {
		struct rg_stream *s = &c->streams[i];
		uint16_t li;

		if (s->peer != pf)
			continue;
		s->sq &= (uint8_t) ~(RG_SQ_CTL | RG_SQ_ACT); /* emptied above */
		li = failover_lane(c, s, to);
		if (li != RG_NIL16) {
			s->peer = pt;
			s->lane = li;
			moved += s->tx;
		} else {
			RG_CTR(c, failover_unserved)++;
		}
		if (s->tx)
			stream_reset(
			    c, s); /* SYNCING: RESUME on its (new) lane, replay from applied + 1 */
		else if (s->state == RG_STREAM_RX)
			mark_ctl(c, s, RG_CTL_CREDIT | RG_CTL_APPLIED);
	}
	subs_rearm(c, pf, pt, now_ns);
	RG_CTR(c, failovers)++;
	RG_CTR(c, streams_moved) += (uint64_t)moved;
	return moved;
}

static int
handshake_only(const uint8_t *pkt, size_t len)
{
	size_t off = RG_HDR_BYTES;
	struct rg_frame f;

	while (rg_wire_frame_next(pkt, len, &off, &f))
		if (f.type != RG_FRAME_HELLO && f.type != RG_FRAME_PING && f.type != RG_FRAME_CLOSE)
			return 0;
	return 1;
}

static enum rg_core_drop
check_incarnations(struct rg_core *c, uint16_t p, struct rg_lane *l, const struct rg_hdr *h,
		   const uint8_t *pkt, size_t len, uint64_t now_ns)
{
	struct rg_peer *peer = &c->peers[p];

	if (h->src_inc == 0 || h->src_inc < peer->inc)
		return RG_DROP_STALE_SRC;
	if (h->src_inc > peer->inc) {
		uint64_t old = peer->inc;

		peer->inc = h->src_inc;
		if (old != 0)
			peer_restarted(c, p, now_ns);
		if (c->cb.peer_event != NULL)
			c->cb.peer_event(c->cb.ctx, peer->gw,
					 old == 0 ? RG_PEER_FIRST_CONTACT : RG_PEER_RESTARTED,
					 h->src_inc);
	}
	if (h->dst_inc != 0 && h->dst_inc != c->cfg.incarnation) {
		l->hello_due = 1;
		return RG_DROP_WRONG_DST;
	}
	if (h->dst_inc == 0 && !handshake_only(pkt, len)) {
		l->hello_due = 1;
		return RG_DROP_NO_HANDSHAKE;
	}
	return RG_DROP_NONE;
}

/* ---- received frames; each returns 1 when the packet must not be acked ---- */

static int
on_data(struct rg_core *c, struct rg_lane *l, const struct rg_frame *f, void *handle)
{
	uint32_t idx = rg_stab_get(&c->rx_tab, f->data.stream);
	struct rg_rx_frag frag;
	struct rg_stream *s;
	struct rx_ctx x;
	struct rg_reorder_ops ops;

	RG_CTR(c, rx_data_frames)++;
	if (idx == RG_STAB_NONE) {
		RG_CTR(c, rx_unknown_stream)++;
		return 1;
	}
	s = &c->streams[idx];
	if (s->peer != l->peer) {
		RG_CTR(c, rx_wrong_peer)++;
		return 1;
	}
	if (s->state != RG_STREAM_RX) { /* waiting for rg_core_rx_accept: no credit was given */
		RG_CTR(c, rx_unknown_stream)++;
		return 1;
	}
	frag = (struct rg_rx_frag){ .seq = f->data.seq,
				    .data = f->data.payload,
				    .handle = handle,
				    .off = f->data.off,
				    .len = f->data.len,
				    .record_len = f->data.record_len,
				    .version = f->data.version };
	x = (struct rx_ctx){ c, s };
	ops = rx_ops(&x);
	switch (rg_reorder_offer(&s->ro, &c->rxpool, &frag, &ops)) {
	case RG_REORDER_DELIVERED:
		break;
	case RG_REORDER_BUFFERED:
		RG_CTR(c, rx_buffered)++;
		break;
	case RG_REORDER_DUP:
		RG_CTR(c, rx_dup_frags)++;
		break;
	case RG_REORDER_BEYOND:
		RG_CTR(c, rx_beyond_window)++;
		return 1;
	case RG_REORDER_NO_BUFFER:
		RG_CTR(c, rx_no_buffer)++;
		return 1;
	case RG_REORDER_MISMATCH:
		RG_CTR(c, rx_mismatch)++;
		return 1;
	}
	mark_blocked(c, s);
	credit_check(c, s);
	return 0;
}

struct fref_ctx {
	struct rg_core *c;
	struct rg_lane *l;
};

static void
rtx_push(struct rg_lane *l, const struct rg_fref *f)
{
	RG_ASSERT(l->rtx.tail - l->rtx.head <= l->rtx.mask); /* see rg_lane: sized to frames_max */
	l->rtx.v[l->rtx.tail++ & l->rtx.mask] = *f;
}

static int
data_live(const struct rg_core *c, const struct rg_stream *s, const struct rg_fref *f)
{
	return s->tx && f->gen == s->gen && f->seq > s->q.acked_seq && f->seq < s->q.next_seq &&
	       rg_txq_live(&c->txpool, f->rec, f->seq);
}

/* Acts on one frame of a packet that was acked (acked = 1) or lost (0). */
static void
on_fref(void *ctx, const struct rg_fref *f, int acked)
{
	struct fref_ctx *x = ctx;
	struct rg_core *c = x->c;
	struct rg_stream *s = &c->streams[f->stream];

	switch (f->type) {
	case RG_FRAME_DATA:
		if (!data_live(c, s, f))
			break;
		if (!acked)
			rtx_push(x->l, f);
		else if (rg_txq_on_acked(&c->txpool, &s->q, f->rec, f->seq, f->off, f->len,
					 tx_release, c) &&
			 c->cb.acked != NULL)
			c->cb.acked(c->cb.ctx, peer_gw(c, s), s->id, s->q.acked_seq);
		break;
	case RG_FRAME_CREDIT:
		if (!acked)
			mark_ctl(c, s, RG_CTL_CREDIT);
		break;
	case RG_FRAME_APPLIED:
		if (!acked)
			mark_ctl(c, s, RG_CTL_APPLIED);
		break;
	case RG_FRAME_RESUME:
		if (f->flags == RG_RESUME_REWIND && f->seq == s->rewind_from && s->rewinding) {
			if (acked)
				s->rewinding = 0; /* the sender has it: it starts over there */
			else
				mark_ctl(c, s, RG_CTL_REWIND);
			break;
		}
		if (acked)
			break;
		if (f->flags == RG_RESUME_REQUEST && s->state == RG_STREAM_SYNCING)
			mark_ctl(c, s, RG_CTL_RESUME_REQ);
		else if (f->flags == RG_RESUME_REPLY)
			mark_ctl(c, s, RG_CTL_RESUME_REPLY);
		break;
	default:
		break;
	}
}

static void
on_ack(struct rg_core *c, struct rg_lane *l, const struct rg_frame *f, uint64_t now_ns)
{
	struct fref_ctx x = { c, l };
	uint64_t lost = l->rec.lost_pkts, lost_bytes = l->rec.lost_bytes;

	if (f->ack.ranges[0].hi >= l->rec.pn_next)
		RG_CTR(c, ack_unsent)++; /* the unsent part is ignored (rg_recovery_on_ack) */
	rg_recovery_on_ack(&l->rec, f, now_ns, on_fref, &x);
	RG_CTR(c, pkts_lost) += l->rec.lost_pkts - lost;
	if (l->rec.lost_bytes != lost_bytes)
		rg_cc_on_loss(&l->cc, l->rec.lost_bytes - lost_bytes, now_ns);
	rg_cc_on_ack(&l->cc, &l->rec.rs, l->rec.rtt.smoothed_ns, l->rec.bytes_in_flight, now_ns);
	rg_lane_cc_apply(l, now_ns);
}

static struct rg_stream *
tx_stream_of(struct rg_core *c, const struct rg_lane *l, uint64_t id)
{
	uint32_t idx = rg_stab_get(&c->tx_tab, id);

	if (idx == RG_STAB_NONE || c->streams[idx].peer != l->peer)
		return NULL;
	return &c->streams[idx];
}

static void
on_credit(struct rg_core *c, struct rg_lane *l, const struct rg_frame *f)
{
	struct rg_stream *s = tx_stream_of(c, l, f->su.stream);

	if (s != NULL && f->su.value > s->credit) {
		s->credit = f->su.value;
		mark_active(c, s);
	}
}

/*
 * The receiver applied past what this run published: a RESUME REPLY named an
 * older watermark than the one that came after it (the receiver's window was
 * ahead). Nothing up to applied needs sending again, and a producer that
 * trims on the applied callback has let those go: start over past it.
 */
static void
tx_skip_applied(struct rg_core *c, struct rg_stream *s)
{
	uint64_t from = s->applied + 1;

	RG_CTR(c, tx_skipped)++;
	rg_txq_drop_all(&c->txpool, &s->q, from, tx_release, c);
	s->gen++; /* inv. 5 */
	c->cb.replay(c->cb.ctx, peer_gw(c, s), s->id, from);
}

/*
 * The highest seq a receiver can have applied on send stream s: what this
 * core run published or was told it holds (seq_hi), or what it granted in
 * credit (its consumer can have applied records an earlier run of ours sent,
 * above the RESUME REPLY's watermark, but never past the credit it gives).
 */
static uint64_t
tx_seq_bound(const struct rg_stream *s)
{
	return RG_MAX(s->seq_hi, s->credit);
}

static void
on_applied(struct rg_core *c, struct rg_lane *l, const struct rg_frame *f)
{
	struct rg_stream *s = tx_stream_of(c, l, f->su.stream);

	if (s != NULL && f->su.value > tx_seq_bound(s)) {
		RG_CTR(c, applied_beyond)++; /* never sent: a protocol violation, not believed */
		return;
	}
	if (s != NULL && f->su.value > s->applied) {
		s->applied = f->su.value;
		if (c->cb.applied != NULL)
			c->cb.applied(c->cb.ctx, peer_gw(c, s), s->id, s->applied);
		if (s->state == RG_STREAM_OPEN && s->applied >= s->q.next_seq)
			tx_skip_applied(c, s);
	}
}

/* SYNCING → OPEN: the receiver said where its consumer stands. */
static void
on_resume_reply(struct rg_core *c, struct rg_stream *s, const struct rg_frame *f)
{
	uint64_t from = f->resume.watermark + 1;

	rg_txq_init(&s->q, c->cfg.tx_stream_records_max, from);
	s->credit = f->resume.max_seq;
	s->applied = f->resume.watermark;
	s->seq_hi = RG_MAX(s->seq_hi, s->applied); /* sent by an earlier run of ours */
	s->state = RG_STREAM_OPEN;
	s->ctl &= (uint8_t)~RG_CTL_RESUME_REQ;
	if (c->cb.applied != NULL)
		c->cb.applied(c->cb.ctx, peer_gw(c, s), s->id, s->applied);
	c->cb.replay(c->cb.ctx, peer_gw(c, s), s->id, from);
}

/*
 * A new receive stream, where its consumer says it stands, or waiting for
 * rg_core_rx_accept (rx_open said -EINPROGRESS: RX_WAIT). NULL when refused.
 */
static struct rg_stream *
rx_stream_open(struct rg_core *c, struct rg_lane *l, uint64_t id)
{
	uint16_t p = l->peer;
	uint64_t applied = 0;
	struct rg_stream *s;
	int rc;

	if (c->nstreams >= c->cfg.streams_max)
		return NULL;
	rc = c->cb.rx_open(c->cb.ctx, c->peers[p].gw, id, &applied);
	if ((rc != 0 && rc != -EINPROGRESS) || applied == UINT64_MAX ||
	    rg_stab_put(&c->rx_tab, id, c->nstreams) != 0)
		return NULL;
	s = &c->streams[c->nstreams];
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->peer = p;
	s->lane = (uint16_t)(l - c->lanes);
	s->act_next = RG_NIL32;
	s->state = rc == 0 ? RG_STREAM_RX : RG_STREAM_RX_WAIT;
	s->applied = s->applied_sent = applied;
	rg_reorder_init(&s->ro, &c->slots[(size_t)c->nstreams * c->cfg.rx_window_records],
			c->cfg.rx_window_records, applied + 1);
	c->nstreams++;
	c->nrx++;
	if (rc != 0)
		RG_CTR(c, rx_waiting)++;
	return s;
}

/* The window of receive stream s starts over at from (nothing buffered is kept). */
static void
rx_window_restart(struct rg_core *c, struct rg_stream *s, uint64_t from)
{
	struct rx_ctx x = { c, s };
	struct rg_reorder_ops ops = rx_ops(&x);

	rg_reorder_clear(&s->ro, &c->rxpool, &ops);
	rg_reorder_init(&s->ro, &c->slots[(size_t)stream_idx(c, s) * c->cfg.rx_window_records],
			c->cfg.rx_window_records, from);
}

/*
 * A RESUME request for a receive stream this core already has. The
 * consumer's durable watermark may have moved past what this core delivered:
 * another gateway of the region served the stream meanwhile (a failover, and
 * back). Ask the consumer again and start over past it, so nothing it applied
 * is delivered twice. Returns 0 (reply now), 1 (still waiting: ack, no
 * reply), or -1 when the consumer refuses the stream now.
 */
static int
rx_stream_resync(struct rg_core *c, struct rg_stream *s)
{
	uint64_t applied = 0;
	int rc = c->cb.rx_open(c->cb.ctx, c->peers[s->peer].gw, s->id, &applied);

	if (rc == -EINPROGRESS) { /* the answer comes later: the stream waits (again) */
		if (s->state == RG_STREAM_RX) {
			rx_window_restart(c, s, s->ro.next_seq);
			s->state = RG_STREAM_RX_WAIT;
			s->ctl = 0; /* inv. 6: a queue entry with nothing to send is popped */
			RG_CTR(c, rx_waiting)++;
		}
		return 1;
	}
	if (rc != 0 || applied == UINT64_MAX)
		return -1;
	if (s->state == RG_STREAM_RX_WAIT) { /* the answer came on its own: take it */
		s->state = RG_STREAM_RX;
		rx_window_restart(c, s, applied + 1);
		s->applied = s->applied_sent = applied;
		RG_CTR(c, rx_accepted)++;
		return 0;
	}
	if (applied > s->ro.next_seq - 1) {
		rx_window_restart(c, s, applied + 1);
		RG_CTR(c, rx_resynced)++;
	}
	if (applied > s->applied)
		s->applied = s->applied_sent = applied;
	return 0;
}

/*
 * Sender side: the receiver says start over at watermark + 1 (a relay passed
 * a replay request upstream, DESIGN §4.9). The queue is dropped and restarts
 * there in a new generation (inv. 5), and the producer replays from there.
 * A REWIND to at most what is applied is stale (a copy that came late): the
 * producer may have trimmed those records, so it is ignored.
 */
static void
on_rewind(struct rg_core *c, struct rg_stream *s, const struct rg_frame *f)
{
	uint64_t from = f->resume.watermark + 1;

	if (from <= s->applied)
		return;
	if (f->resume.watermark > tx_seq_bound(s)) {
		RG_CTR(c, rewind_beyond)++; /* never sent: a protocol violation, not believed */
		return;
	}
	RG_CTR(c, rewind_rx)++;
	rg_txq_drop_all(&c->txpool, &s->q, from, tx_release, c);
	s->gen++;
	s->credit = f->resume.max_seq;
	s->state = RG_STREAM_OPEN;
	s->ctl &= (uint8_t)~RG_CTL_RESUME_REQ;
	c->cb.replay(c->cb.ctx, peer_gw(c, s), s->id, from);
}

/*
 * A RESUME REPLY naming a watermark above every seq this core run published
 * on a stream it feeds itself: the receiver cannot hold records nobody sent.
 * Not checked when this run has published nothing yet (an earlier run may
 * have sent them) or for a relayed stream (another gateway of the region may
 * have carried it meanwhile, DESIGN §4.9).
 */
static int
reply_beyond(const struct rg_stream *s, const struct rg_frame *f)
{
	return !s->relayed && s->seq_hi != 0 && f->resume.watermark > s->seq_hi;
}

/* REPLY or REWIND, at the sender. */
static void
on_resume_sender(struct rg_core *c, struct rg_lane *l, const struct rg_frame *f)
{
	struct rg_stream *s = tx_stream_of(c, l, f->resume.stream);

	if (s == NULL)
		return;
	if (f->resume.flags == RG_RESUME_REWIND)
		on_rewind(c, s, f);
	else if (s->state == RG_STREAM_SYNCING && reply_beyond(s, f))
		RG_CTR(c, resume_beyond)++; /* never sent: a protocol violation, not believed */
	else if (s->state == RG_STREAM_SYNCING)
		on_resume_reply(c, s, f);
	else if (f->resume.max_seq > s->credit)
		s->credit = f->resume.max_seq;
	mark_active(c, s);
}

/* Returns 1 when the stream was refused: the packet is not acked, so the request comes again. */
static int
on_resume(struct rg_core *c, struct rg_lane *l, const struct rg_frame *f)
{
	uint32_t idx;
	struct rg_stream *s = NULL;
	int rc = 0;

	if (f->resume.flags != RG_RESUME_REQUEST) {
		on_resume_sender(c, l, f);
		return 0;
	}
	idx = rg_stab_get(&c->rx_tab, f->resume.stream);
	if (idx != RG_STAB_NONE)
		s = &c->streams[idx];
	if (s != NULL && s->peer != l->peer) {
		RG_CTR(c, rx_wrong_peer)++;
		return 1;
	}
	if (s != NULL)
		rc = rx_stream_resync(c, s);
	else if ((s = rx_stream_open(c, l, f->resume.stream)) == NULL)
		rc = -1;
	if (rc < 0) {
		RG_CTR(c, resume_refused)++;
		return 1;
	}
	if (s->state == RG_STREAM_RX)
		mark_ctl(c, s, RG_CTL_RESUME_REPLY);
	return 0;
}

/* A SUBSCRIBE: the gateway answers a request; the client takes a reply. */
static void
on_subscribe(struct rg_core *c, struct rg_lane *l, const struct rg_frame *f)
{
	uint16_t gw = c->peers[l->peer].gw;

	if (f->sub.flags == RG_SUB_REQUEST) {
		uint8_t st = c->cb.subscribe != NULL
				 ? (uint8_t)c->cb.subscribe(c->cb.ctx, gw, f->sub.kind, f->sub.key)
				 : RG_SUB_NOT_ALLOWED;

		RG_CTR(c, sub_req_rx)++;
		RG_CTR(c, sub_refused) += st != RG_SUB_OK;
		if (l->subq_tail - l->subq_head >= RG_SUB_REPLIES_MAX) {
			RG_CTR(c, sub_reply_dropped)++; /* the client asks again */
			return;
		}
		l->subq[l->subq_tail++ % RG_SUB_REPLIES_MAX] =
		    (struct rg_sub_reply){ .key = f->sub.key, .kind = f->sub.kind, .status = st };
		return;
	}
	RG_CTR(c, sub_reply_rx)++;
	for (uint32_t i = 0; i < c->nsubs; i++) { /* bounded by subs_max */
		struct rg_sub *u = &c->subs[i];

		if (u->peer != l->peer || u->kind != f->sub.kind || u->key != f->sub.key ||
		    u->state != RG_SUBST_WANT)
			continue;
		u->state = RG_SUBST_DONE;
		u->status = f->sub.status;
		c->nsubs_want--;
		if (c->cb.sub_reply != NULL)
			c->cb.sub_reply(c->cb.ctx, gw, u->kind, u->key, u->status);
	}
}

static int
on_frame(struct rg_core *c, uint16_t p, struct rg_lane *l, const struct rg_frame *f, void *handle,
	 uint64_t now_ns)
{
	switch (f->type) {
	case RG_FRAME_DATA:
		return on_data(c, l, f, handle);
	case RG_FRAME_ACK:
		on_ack(c, l, f, now_ns);
		break;
	case RG_FRAME_CREDIT:
		on_credit(c, l, f);
		break;
	case RG_FRAME_APPLIED:
		on_applied(c, l, f);
		break;
	case RG_FRAME_RESUME:
		return on_resume(c, l, f);
	case RG_FRAME_CLOSE:
		RG_CTR(c, close_rx)++;
		if (c->cb.peer_event != NULL)
			c->cb.peer_event(c->cb.ctx, c->peers[p].gw, RG_PEER_CLOSED,
					 c->peers[p].inc);
		break;
	case RG_FRAME_HELLO:
		RG_CTR(c, hello_rx)++;
		c->peers[p].lanes_seen = f->hello.lanes;
		if (f->hello.flags & RG_HELLO_ASK)
			l->hello_due = 1; /* it wants our lane count: a HELLO goes back */
		break;
	case RG_FRAME_SUBSCRIBE:
		on_subscribe(c, l, f);
		break;
	case RG_FRAME_PING:
		break;
	}
	return 0;
}

/*
 * A packet number further ahead of the largest received than the peer could
 * have sent since (docs/protocol.md §5b): at most RG_PN_AHEAD_SLACK numbers,
 * plus one per RG_PN_AHEAD_NS_SHIFT-sized step of time since the largest
 * arrived (2^6 ns: 15.6 M packets/s per lane, above any lane's rate). One
 * such packet taken would become the largest every later ACK names. Worked
 * example: largest 1000 received at t = 0; at t = 1 ms the bound is
 * 1000 + 65536 + 15625 = 82161, so 100000 is dropped and 82161 is not.
 */
static int
pn_ahead(const struct rg_ackr *a, uint64_t pn, uint64_t now_ns)
{
	uint64_t since_ns, bound;

	if (!a->valid || pn <= rg_ackr_largest(a))
		return 0;
	since_ns = now_ns > a->largest_rx_ns ? now_ns - a->largest_rx_ns : 0;
	bound = rg_ackr_largest(a) + RG_PN_AHEAD_SLACK + (since_ns >> RG_PN_AHEAD_NS_SHIFT);
	return pn > bound;
}

static int
drop(struct rg_core *c, enum rg_core_drop d)
{
	c->st.drop[d]++;
	return RG_WIRE_DROP_MAX + d;
}

/* ---- AEAD (cfg.aead; docs/protocol.md §3a) ---- */

static int
sealing(const struct rg_core *c)
{
	return c->cfg.aead.seal != NULL;
}

int
rg_core_sealing(const struct rg_core *c)
{
	return sealing(c);
}

static uint32_t
lane_index(const struct rg_core *c, const struct rg_lane *l)
{
	return (uint32_t)(l - c->lanes);
}

/* nonce = lane (LE16) | packet number (LE64) | 0, 0 */
static void
aead_nonce(uint8_t nonce[RG_AEAD_NONCE_BYTES], uint16_t lane, uint64_t pn)
{
	memset(nonce, 0, RG_AEAD_NONCE_BYTES);
	nonce[0] = (uint8_t)lane;
	nonce[1] = (uint8_t)(lane >> 8);
	rg_wire_put_le64(nonce + 2, pn);
}

/* One token per 1/RG_HS_PER_S s, at most RG_HS_PER_S banked: the INITs a peer may cost. */
static int
hs_token(struct rg_peer *peer, uint64_t now_ns)
{
	const uint64_t every_ns = RG_NS_PER_S / RG_HS_PER_S;

	if (now_ns > peer->hs_fill_ns) {
		uint64_t add = (now_ns - peer->hs_fill_ns) / every_ns;

		if (add > 0) {
			peer->hs_tokens = (uint32_t)RG_MIN((uint64_t)peer->hs_tokens + add,
							   (uint64_t)RG_HS_PER_S);
			peer->hs_fill_ns += add * every_ns;
		}
	}
	if (peer->hs_tokens == 0)
		return 0;
	peer->hs_tokens--;
	return 1;
}

/* Forgets the keys of lane l's session places in mask (a restart, a session refused). */
static void
ses_forget(struct rg_core *c, struct rg_lane *l, unsigned mask)
{
	uint32_t li = lane_index(c, l);

	for (int i = 0; i < RG_SES_PER_LANE; i++)
		if (mask & (1u << i)) {
			c->cfg.aead.forget(c->cfg.aead.ctx, RG_AEAD_TX_SLOT(li, i));
			c->cfg.aead.forget(c->cfg.aead.ctx, RG_AEAD_RX_SLOT(li, i));
		}
	if (l->hs_resp_due &&
	    l->ses.s[rg_ses_place(&l->ses, l->hs_resp_epoch)].epoch != l->hs_resp_epoch)
		l->hs_resp_due = 0; /* the session it answered is gone */
}

/*
 * A HANDSHAKE packet (docs/protocol.md §5c), before anything else of the
 * lane changes; none of these checks touches protocol state:
 *   INIT: an incarnation below the peer's (STALE_SRC); an epoch whose side
 *     bit is not the sender's (BAD_HANDSHAKE); a replay or an INIT older
 *     than one answered (OLD_INIT); past the peer's RG_HS_PER_S (KEY_LIMITED);
 *     then the Noise message, which must come from the peer's identity
 *     (BAD_HANDSHAKE). Then the RESP is made, owed to the lane, and the
 *     session bound to the INIT's incarnation, not sealing until a packet
 *     under it opens.
 *   RESP: only for our pending INIT (BAD_HANDSHAKE), within the same
 *     bucket (KEY_LIMITED: anyone who saw the INIT knows its epoch); it
 *     carries the responder's incarnation, authenticated; the session seals
 *     at once.
 * Returns 0 (taken) or what rg_core_recv() returns for a drop.
 */
static int
on_handshake(struct rg_core *c, uint16_t p, struct rg_lane *l, const struct rg_hdr *h,
	     const uint8_t *pkt, uint64_t now_ns)
{
	struct rg_peer *peer = &c->peers[p];
	const struct rg_aead *a = &c->cfg.aead;
	uint32_t li = lane_index(c, l), counter = h->epoch >> 1;
	uint64_t peer_inc = 0;
	int place;

	if (h->src_inc == 0 || h->src_inc < peer->inc)
		return drop(c, RG_DROP_STALE_SRC);
	if (h->pn32 == RG_HS_INIT) {
		if (counter == 0 || h->epoch != rg_ses_epoch(counter, peer->gw, c->cfg.gateway_id))
			return drop(c, RG_DROP_BAD_HANDSHAKE);
		if (!rg_ses_init_fresh(&l->ses, h->src_inc, counter))
			return drop(c, RG_DROP_OLD_INIT);
		if (!hs_token(peer, now_ns))
			return drop(c, RG_DROP_KEY_LIMITED);
		if (a->hs_read_init(a->ctx, li, peer->gw, pkt, pkt + RG_HDR_BYTES) != 0)
			return drop(c, RG_DROP_BAD_HANDSHAKE);
		place = rg_ses_place(&l->ses, h->epoch);
		if (a->hs_answer(a->ctx, li, RG_AEAD_TX_SLOT(li, place), RG_AEAD_RX_SLOT(li, place),
				 c->cfg.incarnation, l->hs_resp) != (int)RG_HS_RESP_BYTES)
			return drop(c, RG_DROP_BAD_HANDSHAKE);
		(void)rg_ses_accept_init(&l->ses, h->src_inc, counter);
		(void)rg_ses_add(&l->ses, h->epoch, h->src_inc, 0, now_ns);
		l->hs_resp_due = 1;
		l->hs_resp_epoch = h->epoch;
		RG_CTR(c, hs_init_rx)++;
		return 0;
	}
	if (h->epoch == 0 || h->epoch != l->ses.pending_epoch)
		return drop(c, RG_DROP_BAD_HANDSHAKE);
	/* A RESP costs two X25519 before its tag checks, and the epoch it needs is on the wire */
	if (!hs_token(peer, now_ns))
		return drop(c, RG_DROP_KEY_LIMITED);
	place = rg_ses_place(&l->ses, h->epoch);
	if (a->hs_finish(a->ctx, li, peer->gw, RG_AEAD_TX_SLOT(li, place),
			 RG_AEAD_RX_SLOT(li, place), pkt + RG_HDR_BYTES, &peer_inc) != 0)
		return drop(c, RG_DROP_BAD_HANDSHAKE);
	(void)rg_ses_add(&l->ses, h->epoch, peer_inc, 1, now_ns);
	if (peer_inc == 0 || peer_inc < peer->inc) { /* an answer from an older process */
		rg_ses_drop(&l->ses, place);
		ses_forget(c, l, 1u << place);
		return drop(c, RG_DROP_STALE_SRC);
	}
	l->last_rx_ns = now_ns; /* heard from it, authenticated (session case 8) */
	RG_CTR(c, hs_done)++;
	return 0;
}

/* Handshake packets this lane owes or wants (sealing only): a RESP, else an INIT; or 0. */
static size_t
hs_write(struct rg_core *c, struct rg_lane *l, uint8_t *buf, size_t cap, uint64_t now_ns,
	 int may_init)
{
	const struct rg_peer *peer = &c->peers[l->peer];
	struct rg_hdr h = { .type = RG_PKT_HANDSHAKE,
			    .lane = l->id,
			    .src_gw = c->cfg.gateway_id,
			    .src_inc = c->cfg.incarnation,
			    .dst_inc = peer->inc };
	size_t len;

	if (l->hs_resp_due) {
		len = RG_HDR_BYTES + RG_HS_RESP_BYTES;
		if (cap < len)
			return 0;
		h.pn32 = RG_HS_RESP;
		h.epoch = l->hs_resp_epoch;
		rg_wire_put_hdr(buf, cap, &h);
		rg_wire_set_sealed_length(buf, len);
		memcpy(buf + RG_HDR_BYTES, l->hs_resp, RG_HS_RESP_BYTES);
		l->hs_resp_due = 0;
		RG_CTR(c, hs_resp_tx)++;
		return len;
	}
	len = RG_HDR_BYTES + RG_HS_INIT_BYTES;
	if (!may_init || cap < len || !rg_ses_init_due(&l->ses, &c->cfg.ses, now_ns))
		return 0;
	h.pn32 = RG_HS_INIT;
	h.epoch = rg_ses_init_sent(&l->ses, c->cfg.gateway_id, peer->gw, now_ns);
	rg_wire_put_hdr(buf, cap, &h);
	rg_wire_set_sealed_length(buf, len); /* the header, length too, is the prologue */
	if (c->cfg.aead.hs_initiate(c->cfg.aead.ctx, lane_index(c, l), peer->gw, buf,
				    buf + RG_HDR_BYTES) != (int)RG_HS_INIT_BYTES) {
		RG_CTR(c, hs_fail)++;
		return 0;
	}
	RG_CTR(c, hs_init_tx)++;
	return len;
}

/* The packet's kind is not this core's mode: dropped, and said once per peer. */
static int
mode_mismatch(struct rg_core *c, uint16_t p)
{
	struct rg_peer *peer = &c->peers[p];

	if (!peer->mode_told && c->cb.peer_event != NULL)
		c->cb.peer_event(c->cb.ctx, peer->gw, RG_PEER_MODE_MISMATCH, peer->inc);
	peer->mode_told = 1;
	return drop(c, RG_DROP_MODE_MISMATCH);
}

/*
 * A sealed packet, before anything in it may act; none of these checks
 * changes protocol state (docs/protocol.md §3a, §5b), in this order:
 *   1. an incarnation that cannot be right whatever the tag says: STALE_SRC;
 *   2. the packet number: replay window and far ahead, against the lane's
 *      ack state unless the packet claims a restart of the peer (the lane
 *      starts over then, and so do its numbers);
 *   3. the session its epoch names, bound to its source incarnation
 *      (NO_KEY without one: a forged restart has none, since only a
 *      handshake makes one), then the tag, then its frames.
 * Sessions die with their process, so a packet sealed for an older
 * incarnation of this gateway is NO_KEY here: the peer hears of this
 * process by its handshake (ours, or its own once it found us silent for
 * stale_ns: session.h case 8).
 * Returns 0 (*pn and *slot set, the plaintext in place) or what
 * rg_core_recv() returns for a drop.
 */
static int
open_sealed(struct rg_core *c, uint16_t p, struct rg_lane *l, const struct rg_hdr *h, uint8_t *pkt,
	    size_t len, uint64_t now_ns, uint64_t *pn, int *ses)
{
	const struct rg_peer *peer = &c->peers[p];
	uint8_t nonce[RG_AEAD_NONCE_BYTES];
	size_t flen = len - RG_AEAD_TAG_BYTES;
	enum rg_wire_drop wd;
	int restart;

	if (h->src_inc == 0 || h->src_inc < peer->inc)
		return drop(c, RG_DROP_STALE_SRC);
	restart = peer->inc != 0 && h->src_inc > peer->inc;
	*pn = restart ? rg_pn_decode(h->pn32, 0, 0)
		      : rg_pn_decode(h->pn32, rg_ackr_largest(&l->ackr), l->ackr.valid);
	if (!restart && rg_ackr_is_dup(&l->ackr, *pn))
		return drop(c, RG_DROP_DUP_PACKET);
	if (!restart && pn_ahead(&l->ackr, *pn, now_ns))
		return drop(c, RG_DROP_PN_AHEAD);
	*ses = rg_ses_open(&l->ses, &c->cfg.ses, h->epoch, h->src_inc, now_ns);
	if (*ses == RG_SES_NONE)
		return drop(c, RG_DROP_NO_KEY);
	aead_nonce(nonce, h->lane, *pn);
	if (c->cfg.aead.open(c->cfg.aead.ctx, RG_AEAD_RX_SLOT(lane_index(c, l), *ses), nonce, pkt,
			     RG_HDR_BYTES, pkt + RG_HDR_BYTES, flen - RG_HDR_BYTES,
			     pkt + flen) != 0)
		return drop(c, RG_DROP_BAD_TAG);
	wd = rg_wire_check_frames(pkt, flen);
	if (wd != RG_WIRE_OK) { /* authentic but malformed: a buggy peer */
		c->st.wire_drop[wd]++;
		return wd;
	}
	return 0;
}

/*
 * In plaintext the CRC and every frame are checked first (rg_wire_open),
 * then the incarnations, then the packet number; sealed, open_sealed()
 * comes first. Only then may check_incarnations() take a new incarnation,
 * and the frames act.
 */
int
rg_core_recv(struct rg_core *c, uint8_t *pkt, size_t len, void *handle, uint64_t now_ns)
{
	struct rg_hdr h;
	enum rg_wire_drop wd;
	enum rg_core_drop cd;
	struct rg_peer *peer;
	struct rg_lane *l;
	struct rg_frame f;
	uint16_t p;
	uint64_t pn = 0;
	size_t off = RG_HDR_BYTES, flen = len;
	int eliciting = 0, refused = 0, hello = 0, sealed, rc, ses = RG_SES_NONE;

	RG_CTR(c, rx_pkts)++;
	RG_CTR(c, rx_bytes) += len;
	wd = rg_wire_open_hdr(pkt, len, &h);
	if (wd == RG_WIRE_OK && h.type == RG_PKT_FRAMES)
		wd = rg_wire_open(pkt, len, &h);
	if (wd != RG_WIRE_OK) {
		c->st.wire_drop[wd]++;
		return wd;
	}
	p = find_peer(c, h.src_gw);
	if (p == RG_NIL16)
		return drop(c, RG_DROP_UNKNOWN_PEER);
	peer = &c->peers[p];
	if (h.lane >= peer->lanes_total || peer->lane_map[h.lane] == RG_NIL16)
		return drop(c, RG_DROP_UNKNOWN_LANE);
	l = &c->lanes[peer->lane_map[h.lane]];
	sealed = h.type != RG_PKT_FRAMES;
	if (sealed != sealing(c))
		return mode_mismatch(c, p);
	if (h.type == RG_PKT_HANDSHAKE)
		return on_handshake(c, p, l, &h, pkt, now_ns);
	if (sealed) {
		rc = open_sealed(c, p, l, &h, pkt, len, now_ns, &pn, &ses);
		if (rc != 0)
			return rc;
		flen = len - RG_AEAD_TAG_BYTES;
	}
	cd = check_incarnations(c, p, l, &h, pkt, flen, now_ns);
	if (cd != RG_DROP_NONE)
		return drop(c, cd);
	if (sealed) {
		rg_ses_opened(&l->ses, ses); /* the peer has its keys: it may seal (session.h 3) */
	} else {
		pn = rg_pn_decode(h.pn32, rg_ackr_largest(&l->ackr), l->ackr.valid);
		if (rg_ackr_is_dup(&l->ackr, pn))
			return drop(c, RG_DROP_DUP_PACKET);
		if (pn_ahead(&l->ackr, pn, now_ns))
			return drop(c, RG_DROP_PN_AHEAD);
	}
	/* Bounded by the frames in one packet (<= RG_PKT_BYTES_MAX / 4). */
	while (rg_wire_frame_next(pkt, flen, &off, &f)) {
		eliciting |= f.type != RG_FRAME_ACK && f.type != RG_FRAME_CLOSE;
		hello |= f.type == RG_FRAME_HELLO;
		refused |= on_frame(c, p, l, &f, handle, now_ns);
	}
	if (refused)
		return drop(c, RG_DROP_REFUSED);
	rg_ackr_insert(&l->ackr, pn, eliciting, now_ns);
	l->last_rx_ns = now_ns;
	if (hello)
		l->ackr.immediate = 1; /* answer a HELLO at once: the peer learns our incarnation */
	return RG_DROP_NONE;
}

/* ---- building packets ---- */

struct pkt {
	uint8_t *buf;
	size_t pos, end;
	uint32_t nframes; /* frame references added */
	int eliciting;
};

static size_t
pkt_room(const struct pkt *k)
{
	return k->end - k->pos;
}

static struct rg_fref *
fref_add(struct rg_lane *l, struct pkt *k, uint8_t type, uint32_t stream)
{
	struct rg_fref *f = rg_recovery_fref_add(&l->rec);

	memset(f, 0, sizeof(*f));
	f->type = type;
	f->stream = stream;
	k->nframes++;
	k->eliciting = 1;
	return f;
}

/* Writes the lowest pending control frame of s. Returns 0 when it did not fit. */
static int
write_one_ctl(struct rg_core *c, struct rg_lane *l, struct pkt *k, struct rg_stream *s)
{
	uint8_t bit = s->ctl & (uint8_t)-s->ctl;
	uint8_t *p = k->buf + k->pos;
	size_t w = 0;
	uint8_t type = 0, flags = 0;

	if (rg_recovery_frefs_free(&l->rec) == 0)
		return 0;
	switch (bit) {
	case RG_CTL_RESUME_REQ:
		if (s->state != RG_STREAM_SYNCING)
			break; /* answered meanwhile */
		w = rg_wire_put_resume(p, pkt_room(k), RG_RESUME_REQUEST, s->id, 0, 0);
		type = RG_FRAME_RESUME;
		flags = RG_RESUME_REQUEST;
		break;
	case RG_CTL_RESUME_REPLY:
		w = rg_wire_put_resume(p, pkt_room(k), RG_RESUME_REPLY, s->id, s->applied,
				       rg_reorder_max_seq(&s->ro));
		type = RG_FRAME_RESUME;
		flags = RG_RESUME_REPLY;
		break;
	case RG_CTL_CREDIT:
		w = rg_wire_put_su(p, pkt_room(k), RG_FRAME_CREDIT, s->id,
				   rg_reorder_max_seq(&s->ro));
		type = RG_FRAME_CREDIT;
		break;
	case RG_CTL_APPLIED:
		w = rg_wire_put_su(p, pkt_room(k), RG_FRAME_APPLIED, s->id, s->applied);
		type = RG_FRAME_APPLIED;
		break;
	case RG_CTL_REWIND:
		if (!s->rewinding)
			break; /* acked meanwhile */
		w = rg_wire_put_resume(p, pkt_room(k), RG_RESUME_REWIND, s->id, s->rewind_from - 1,
				       rg_reorder_max_seq(&s->ro));
		type = RG_FRAME_RESUME;
		flags = RG_RESUME_REWIND;
		break;
	}
	if (type != 0 && w == 0)
		return 0;
	s->ctl &= (uint8_t)~bit;
	if (type == 0)
		return 1;
	{
		struct rg_fref *f = fref_add(l, k, type, stream_idx(c, s));

		f->flags = flags;
		f->seq = flags == RG_RESUME_REWIND ? s->rewind_from : 0;
	}
	k->pos += w;
	/*
	 * A REPLY or REWIND: the sender's credit starts over with this one, even
	 * below an earlier grant (a rewind took next_seq back, then the sender
	 * restarted), and the next CREDIT goes once the window moves from here.
	 */
	if (flags == RG_RESUME_REWIND || flags == RG_RESUME_REPLY)
		s->credit_sent = rg_reorder_max_seq(&s->ro);
	else if (!s->tx && type == RG_FRAME_CREDIT)
		s->credit_sent = RG_MAX(s->credit_sent, rg_reorder_max_seq(&s->ro));
	if (type == RG_FRAME_APPLIED)
		s->applied_sent = s->applied;
	if (type == RG_FRAME_RESUME && flags == RG_RESUME_REQUEST)
		RG_CTR(c, resume_req_tx)++;
	else if (flags == RG_RESUME_REWIND)
		RG_CTR(c, rewind_tx)++;
	else if (type == RG_FRAME_RESUME)
		RG_CTR(c, resume_reply_tx)++;
	else if (type == RG_FRAME_CREDIT)
		RG_CTR(c, credit_tx)++;
	else
		RG_CTR(c, applied_tx)++;
	return 1;
}

static void
write_control(struct rg_core *c, struct rg_lane *l, struct pkt *k)
{
	/* Bounded: each step writes a frame or empties one stream of the queue. */
	while (!rg_idxq_empty(&l->ctlq)) {
		struct rg_stream *s = &c->streams[rg_idxq_peek(&l->ctlq)];

		while (s->ctl != 0)
			if (!write_one_ctl(c, l, k, s))
				return;
		rg_idxq_pop(&l->ctlq);
		s->sq &= (uint8_t)~RG_SQ_CTL;
	}
}

/* Writes one DATA frame for [off, off + len) of record rec of stream s. */
static void
write_data_frame(struct rg_core *c, struct rg_lane *l, struct pkt *k, struct rg_stream *s,
		 uint32_t rec, uint32_t off, uint32_t len)
{
	const struct rg_txrec *r = &c->txpool.recs[rec];
	struct rg_fref *f;
	size_t w = rg_wire_put_data(k->buf + k->pos, pkt_room(k), s->id, r->seq, r->version, off,
				    r->len, r->payload + off, (uint16_t)len);

	RG_ASSERT(w > 0);
	k->pos += w;
	f = fref_add(l, k, RG_FRAME_DATA, stream_idx(c, s));
	f->seq = r->seq;
	f->rec = rec;
	f->off = off;
	f->len = len;
	f->gen = s->gen;
	if (RG_CANARY_IS(RELAY_EARLY_RELEASE) && s->relayed && off == 0 && len == r->len)
		/* canary: the relay lets go of a record once it is sent, before the next hop acks it */
		rg_txq_on_acked(&c->txpool, &s->q, rec, r->seq, 0, len, tx_release, c);
}

/*
 * How many payload bytes a new fragment may take here (want, or what is left
 * of the packet when that is at least data_room_min), or UINT32_MAX when it
 * should wait for the next packet. Fragments are cut at most frag_bytes_max,
 * which fits in any packet beside the largest preamble a packet can have
 * (RG_PREAMBLE_BYTES_MAX), so a lost fragment is always sent again whole.
 */
static uint32_t
data_room(const struct rg_lane *l, const struct pkt *k, uint32_t want, int may_cut)
{
	size_t room = pkt_room(k);

	if (room < sizeof(struct rg_wire_data))
		return UINT32_MAX;
	room = RG_MIN(room - sizeof(struct rg_wire_data), (size_t)l->frag_bytes_max);
	if (want <= room)
		return want;
	return may_cut && room >= l->data_room_min ? (uint32_t)room : UINT32_MAX;
}

static void
write_rtx(struct rg_core *c, struct rg_lane *l, struct pkt *k)
{
	/* Bounded: each step writes a frame or drops a dead entry. */
	while (l->rtx.head != l->rtx.tail && rg_recovery_frefs_free(&l->rec) > 0) {
		struct rg_fref *f = &l->rtx.v[l->rtx.head & l->rtx.mask];
		struct rg_stream *s = &c->streams[f->stream];
		uint32_t n;

		if (!data_live(c, s, f)) {
			l->rtx.head++;
			continue;
		}
		/*
		 * Never cut: a lost fragment goes again whole, so each entry here
		 * becomes one frame in flight and the queue never holds more than
		 * the frames that were in flight (the bound rtx_push asserts).
		 */
		n = data_room(l, k, f->len, 0);
		if (n == UINT32_MAX)
			return;
		write_data_frame(c, l, k, s, f->rec, f->off, n);
		RG_CTR(c, rtx_frames)++;
		RG_CTR(c, rtx_bytes) += n;
		l->rtx.head++;
	}
}

/*
 * New fragments from one class's streams: deficit round robin over the
 * class's namespace buckets (a quantum of frag_bytes_max bytes a round, so a
 * bucket's first fragment of a turn always fits), round robin over a
 * bucket's streams, one fragment each. Returns 0 when the packet is full.
 */
static int
write_class(struct rg_core *c, struct rg_lane *l, struct pkt *k, int cls)
{
	struct rg_idxq *q = &l->bq[cls];

	/*
	 * Retransmissions first, strictly: new fragments only when none waits,
	 * so fragments in flight plus fragments waiting never exceed the frame
	 * references in flight. Bounded: each step writes a frame, takes a stream
	 * off its bucket, takes an empty bucket off the queue, or ends a turn
	 * (and the next bucket's turn starts with a quantum that fits a frame).
	 */
	while (l->rtx.head == l->rtx.tail && !rg_idxq_empty(q) &&
	       rg_recovery_frefs_free(&l->rec) > 0) {
		struct rg_bucket *b = &l->buckets[cls][rg_idxq_peek(q)];
		struct rg_stream *s;
		uint32_t rec, off, len, n;

		if (b->head == RG_NIL32) {
			b->queued = 0;
			b->turn = 0;
			b->deficit = 0;
			rg_idxq_pop(q);
			continue;
		}
		s = &c->streams[b->head];
		if (s->state != RG_STREAM_OPEN || !rg_txq_sendable(&c->txpool, &s->q, s->credit)) {
			act_pop(c, b);
			s->sq &= (uint8_t)~RG_SQ_ACT;
			continue;
		}
		n = data_room(l, k, c->txpool.recs[s->q.cur].len - s->q.cur_off, 1);
		if (n == UINT32_MAX)
			return 0;
		if (!b->turn) {
			b->turn = 1;
			b->deficit += l->frag_bytes_max;
		}
		if (n > b->deficit) { /* its turn is over: the next bucket's */
			b->turn = 0;
			rg_idxq_push(q, rg_idxq_pop(q));
			continue;
		}
		b->deficit -= n;
		rg_txq_take(&c->txpool, &s->q, n, &rec, &off, &len);
		write_data_frame(c, l, k, s, rec, off, len);
		RG_CTR(c, tx_data_frames)++;
		RG_CTR(c, tx_data_bytes) += len;
		/* Round robin in the bucket: one fragment per stream per turn. */
		act_pop(c, b);
		if (rg_txq_sendable(&c->txpool, &s->q, s->credit))
			act_push(c, l, s);
		else
			s->sq &= (uint8_t)~RG_SQ_ACT;
		if (b->head == RG_NIL32) { /* nothing left: the bucket leaves, its deficit too */
			b->queued = 0;
			b->turn = 0;
			b->deficit = 0;
			rg_idxq_pop(q);
		}
	}
	return 1;
}

/* CONTROL's data before BULK's: the lower class gets only the room the higher leaves. */
static void
write_new_data(struct rg_core *c, struct rg_lane *l, struct pkt *k)
{
	for (int cls = RG_CLASSES - 1; cls >= 0; cls--)
		if (!write_class(c, l, k, cls))
			return;
}

static int
lanes_idle_data(const struct rg_lane *l)
{
	for (int cls = 0; cls < RG_CLASSES; cls++)
		if (!rg_idxq_empty(&l->bq[cls]))
			return 0;
	return 1;
}

static int
lane_has_work(const struct rg_lane *l)
{
	return l->probe || !rg_idxq_empty(&l->ctlq) || l->rtx.head != l->rtx.tail ||
	       !lanes_idle_data(l);
}

/* Everything that makes a packet ack-eliciting, when pacing and the window allow it. */
static void
write_eliciting(struct rg_core *c, struct rg_lane *l, struct pkt *k, uint64_t now_ns)
{
	int may = rg_recovery_can_send(&l->rec, l->pkt_bytes_max, 1) &&
		  rg_pacer_ready(&l->pacer, l->pkt_bytes_max, now_ns);

	if (!may && !l->probe)
		return;
	if (l->probe) {
		/*
		 * A probe always leaves. With the in-flight ring full it goes
		 * untracked: its ACK still moves largest_acked past the packets
		 * in flight, which loss detection then resolves.
		 */
		k->pos += rg_wire_put_ping(k->buf + k->pos, pkt_room(k));
		k->eliciting = rg_recovery_can_send(&l->rec, 0, 0);
		l->probe = 0;
		RG_CTR(c, tx_probes)++;
	}
	if (!may)
		return;
	write_control(c, l, k);
	write_rtx(c, l, k);
	write_new_data(c, l, k);
	/* Window and pacer would allow more, but nothing waits: rate samples are app-limited. */
	if (l->rtx.head == l->rtx.tail && lanes_idle_data(l))
		rg_recovery_on_app_limited(&l->rec);
	if (!k->eliciting && now_ns >= l->last_eliciting_ns + c->cfg.ping_interval_ns &&
	    rg_wire_put_ping(k->buf + k->pos, pkt_room(k)) > 0) {
		k->pos += sizeof(struct rg_wire_ping);
		k->eliciting = 1;
		RG_CTR(c, tx_pings)++;
	}
}

static void
write_ack(struct rg_core *c, struct rg_lane *l, struct pkt *k, uint64_t now_ns)
{
	struct rg_pn_range r[RG_ACK_RANGES_MAX];
	unsigned n;
	size_t w;

	if (!rg_ackr_has_ranges(&l->ackr) ||
	    rg_ackr_deadline(&l->ackr, c->cfg.ack_every_pkts, c->cfg.ack_delay_ns_max) > now_ns)
		return;
	/* A packet that may carry data keeps its ACK small, so a whole fragment fits beside it. */
	n = rg_ackr_ranges(&l->ackr, r, lane_has_work(l) ? RG_ACK_RANGES_DATA : RG_ACK_RANGES_MAX);
	w = rg_wire_put_ack(k->buf + k->pos, pkt_room(k), r, n, now_ns - l->ackr.largest_rx_ns);
	if (w == 0)
		return;
	k->pos += w;
	rg_ackr_on_ack_sent(&l->ackr);
}

static void
write_handshake(struct rg_core *c, struct rg_lane *l, struct pkt *k, uint64_t now_ns)
{
	const struct rg_peer *peer = &c->peers[l->peer];
	size_t w;

	if ((peer->inc == 0 || peer->lanes_seen == 0 || l->hello_due) &&
	    now_ns >= l->hello_next_ns) {
		w = rg_wire_put_hello(k->buf + k->pos, pkt_room(k), peer->lanes_total,
				      peer->lanes_seen == 0 ? RG_HELLO_ASK : 0);
		if (w > 0) {
			k->pos += w;
			l->hello_next_ns = now_ns + c->cfg.hello_interval_ns;
			l->hello_due = 0;
			RG_CTR(c, tx_hello)++;
		}
	}
	if (l->close_due && peer->inc != 0) {
		w = rg_wire_put_close(k->buf + k->pos, pkt_room(k), 0);
		k->pos += w;
		l->close_due = w == 0;
	}
}

/* Whether lane l carries its peer's subscriptions: the lowest lane id of the peer on this core. */
static int
sub_lane(const struct rg_core *c, const struct rg_lane *l)
{
	const struct rg_peer *peer = &c->peers[l->peer];

	for (uint16_t k = 0; k < peer->lanes_total; k++) /* bounded by lanes_total */
		if (peer->lane_map[k] != RG_NIL16)
			return k == l->id;
	return 0;
}

/*
 * SUBSCRIBE frames, untracked like HELLO: the replies this lane owes (a lost
 * one is asked for again), and this core's requests that are due (again
 * every hello_interval_ns until answered). Bounded by the reply queue and by
 * subs_max.
 */
static void
write_subs(struct rg_core *c, struct rg_lane *l, struct pkt *k, uint64_t now_ns)
{
	while (l->subq_head != l->subq_tail) {
		const struct rg_sub_reply *r = &l->subq[l->subq_head % RG_SUB_REPLIES_MAX];
		size_t w = rg_wire_put_subscribe(k->buf + k->pos, pkt_room(k), RG_SUB_REPLY,
						 r->kind, r->status, r->key);

		if (w == 0)
			return;
		k->pos += w;
		l->subq_head++;
		RG_CTR(c, sub_reply_tx)++;
	}
	if (c->nsubs_want == 0 || !sub_lane(c, l))
		return;
	for (uint32_t i = 0; i < c->nsubs; i++) {
		struct rg_sub *u = &c->subs[i];
		size_t w;

		if (u->peer != l->peer || u->state != RG_SUBST_WANT || u->next_ns > now_ns)
			continue;
		w = rg_wire_put_subscribe(k->buf + k->pos, pkt_room(k), RG_SUB_REQUEST, u->kind, 0,
					  u->key);
		if (w == 0)
			return;
		k->pos += w;
		u->next_ns = now_ns + c->cfg.hello_interval_ns;
		RG_CTR(c, sub_req_tx)++;
	}
}

/*
 * Session case 8: when the peer has been silent long enough on session ses
 * that it may have lost it (it restarted). A live peer is never that quiet:
 * both sides ping when idle and every PING is acked. RG_NS_NEVER once kicked.
 */
static uint64_t
stale_at(const struct rg_core *c, const struct rg_lane *l, int ses)
{
	if (l->ses.kick)
		return RG_NS_NEVER;
	return RG_MAX(l->last_rx_ns, l->ses.s[ses].born_ns) + c->cfg.ses.stale_ns + 1;
}

static size_t
lane_write(struct rg_core *c, struct rg_lane *l, uint8_t *buf, size_t cap, uint64_t now_ns)
{
	const struct rg_peer *peer = &c->peers[l->peer];
	struct pkt k = { .buf = buf, .pos = RG_HDR_BYTES, .end = RG_MIN(cap, l->pkt_bytes_max) };
	struct rg_hdr h;
	uint64_t pn;
	int ses = RG_SES_NONE;

	if (sealing(c))
		k.end = k.end > RG_AEAD_TAG_BYTES ? k.end - RG_AEAD_TAG_BYTES : 0;
	if (k.end < RG_HDR_BYTES + sizeof(struct rg_wire_data) + 64)
		return 0;
	if (sealing(c)) {
		/* A RESP owed goes even to a client not heard from yet: its INIT was. */
		int passive = peer->passive && peer->inc == 0;
		size_t n;

		ses = rg_ses_seal(&l->ses, &c->cfg.ses, 0, now_ns);
		if (ses != RG_SES_NONE && !passive && stale_at(c, l, ses) <= now_ns)
			rg_ses_kick(&l->ses); /* case 8: the peer may have lost it; INIT now */
		n = hs_write(c, l, buf, cap, now_ns, !passive);
		if (n > 0 || passive)
			return n;
		if (ses == RG_SES_NONE)
			return 0; /* no session yet: handshakes only (session.h case 1) */
	} else if (peer->passive && peer->inc == 0) {
		return 0; /* a client that has not spoken: nowhere to send to yet */
	}
	write_ack(c, l, &k, now_ns);
	write_handshake(c, l, &k, now_ns);
	if (peer->inc != 0) {
		write_eliciting(c, l, &k, now_ns);
		write_subs(c, l, &k, now_ns);
	}
	if (k.pos == RG_HDR_BYTES)
		return 0;
	pn = rg_recovery_next_pn(&l->rec);
	h = (struct rg_hdr){ .type = sealing(c) ? RG_PKT_SEALED : RG_PKT_FRAMES,
			     .lane = l->id,
			     .src_gw = c->cfg.gateway_id,
			     .pn32 = (uint32_t)pn,
			     .src_inc = c->cfg.incarnation,
			     .dst_inc = peer->inc,
			     .epoch = ses != RG_SES_NONE ? l->ses.s[ses].epoch : 0 };
	rg_wire_put_hdr(buf, cap, &h);
	if (sealing(c)) {
		uint8_t nonce[RG_AEAD_NONCE_BYTES];

		rg_wire_set_sealed_length(buf, k.pos + RG_AEAD_TAG_BYTES);
		aead_nonce(nonce, l->id, pn);
		c->cfg.aead.seal(c->cfg.aead.ctx, RG_AEAD_TX_SLOT(lane_index(c, l), ses), nonce,
				 buf, RG_HDR_BYTES, buf + RG_HDR_BYTES, k.pos - RG_HDR_BYTES,
				 buf + k.pos);
		k.pos += RG_AEAD_TAG_BYTES;
		l->ses.s[ses].sealed_bytes += k.pos; /* towards its rekey (session.h case 2) */
	} else {
		rg_wire_seal(buf, k.pos);
	}
	if (k.eliciting) {
		rg_recovery_on_sent(&l->rec, pn, now_ns, (uint32_t)k.pos, k.nframes);
		rg_pacer_consume(&l->pacer, k.pos);
		l->last_eliciting_ns = now_ns;
	} else {
		RG_CTR(c, tx_ack_only)++;
	}
	RG_CTR(c, tx_pkts)++;
	RG_CTR(c, tx_bytes) += k.pos;
	return k.pos;
}

size_t
rg_core_send(struct rg_core *c, uint8_t *buf, size_t cap, struct rg_tx_meta *meta, uint64_t now_ns)
{
	/* Round robin over lanes, one packet per call; bounded by nlanes. */
	for (uint16_t k = 0; k < c->nlanes; k++) {
		uint16_t i = (uint16_t)((c->lane_rr + k) % c->nlanes);
		struct rg_lane *l = &c->lanes[i];
		size_t n = lane_write(c, l, buf, cap, now_ns);

		if (n > 0) {
			c->lane_rr = (uint16_t)((i + 1) % c->nlanes);
			meta->peer_gw = c->peers[l->peer].gw;
			meta->lane = l->id;
			return n;
		}
	}
	return 0;
}

/* ---- timers ---- */

/*
 * The earliest subscription request due to peer p (bounded by subs_max): a
 * part of each of its lanes' deadlines, as write_subs() is of their packets.
 */
static uint64_t
subs_deadline(const struct rg_core *c, uint16_t p)
{
	uint64_t d = RG_NS_NEVER;

	for (uint32_t i = 0; c->nsubs_want > 0 && i < c->nsubs; i++)
		if (c->subs[i].state == RG_SUBST_WANT && c->subs[i].peer == p)
			d = RG_MIN(d, c->subs[i].next_ns);
	return d;
}

static uint64_t
lane_deadline(struct rg_core *c, struct rg_lane *l, uint64_t now_ns)
{
	const struct rg_peer *peer = &c->peers[l->peer];
	uint64_t d = rg_ackr_deadline(&l->ackr, c->cfg.ack_every_pkts, c->cfg.ack_delay_ns_max);

	if (sealing(c)) {
		uint64_t hs;
		int ses;

		if (l->hs_resp_due)
			return now_ns;
		if (peer->passive && peer->inc == 0)
			return RG_NS_NEVER;
		ses = rg_ses_seal(&l->ses, &c->cfg.ses, 0, now_ns);
		hs = RG_MAX(now_ns, rg_ses_init_next_ns(&l->ses, &c->cfg.ses, now_ns));
		if (ses == RG_SES_NONE)
			return hs; /* nothing else can go before a session */
		d = RG_MIN(d, RG_MIN(hs, RG_MAX(now_ns, stale_at(c, l, ses))));
	} else if (peer->passive && peer->inc == 0) {
		return RG_NS_NEVER;
	}
	d = RG_MIN(d, rg_recovery_deadline(&l->rec));
	if (peer->inc == 0 || peer->lanes_seen == 0 || l->hello_due)
		d = RG_MIN(d, l->hello_next_ns);
	if (peer->inc == 0)
		return d;
	d = RG_MIN(d, subs_deadline(c, l->peer));
	if (l->close_due || l->probe || l->subq_head != l->subq_tail)
		return now_ns;
	/* Data and heartbeats wait for the window and the pacer; the PTO covers a full window. */
	if (rg_recovery_can_send(&l->rec, l->pkt_bytes_max, 1)) {
		uint64_t want =
		    lane_has_work(l) ? now_ns : l->last_eliciting_ns + c->cfg.ping_interval_ns;

		d = RG_MIN(d, RG_MAX(want, rg_pacer_next_ns(&l->pacer, l->pkt_bytes_max, now_ns)));
	}
	return d;
}

uint64_t
rg_core_next_deadline(struct rg_core *c, uint64_t now_ns)
{
	uint64_t d = RG_NS_NEVER;

	for (uint16_t i = 0; i < c->nlanes; i++)
		d = RG_MIN(d, lane_deadline(c, &c->lanes[i], now_ns));
	return d;
}

void
rg_core_on_timer(struct rg_core *c, uint64_t now_ns)
{
	for (uint16_t i = 0; i < c->nlanes; i++) {
		struct rg_lane *l = &c->lanes[i];
		struct fref_ctx x = { c, l };
		uint64_t lost = l->rec.lost_pkts, lost_bytes = l->rec.lost_bytes;

		if (rg_recovery_on_timeout(&l->rec, now_ns, on_fref, &x)) {
			l->probe = 1;
			RG_CTR(c, pto_fired)++;
		}
		RG_CTR(c, pkts_lost) += l->rec.lost_pkts - lost;
		if (l->rec.lost_bytes != lost_bytes) {
			rg_cc_on_loss(&l->cc, l->rec.lost_bytes - lost_bytes, now_ns);
			rg_lane_cc_apply(l, now_ns);
		}
	}
}

uint32_t
rg_core_drain(struct rg_core *c)
{
	uint32_t n = 0, waiting = c->blocked.tail - c->blocked.head;

	/* Bounded: each blocked stream is tried once per call. */
	while (waiting-- > 0) {
		struct rg_stream *s = &c->streams[rg_idxq_pop(&c->blocked)];
		struct rx_ctx x = { c, s };
		struct rg_reorder_ops ops = rx_ops(&x);

		s->sq &= (uint8_t)~RG_SQ_BLOCKED;
		if (s->tx)
			continue;
		n += rg_reorder_drain(&s->ro, &c->rxpool, &ops);
		mark_blocked(c, s);
		credit_check(c, s);
	}
	return n;
}

/* ---- producer and consumer calls ---- */

int
rg_core_publish(struct rg_core *c, uint64_t stream, uint64_t seq, uint32_t version,
		const void *payload, uint32_t len, void *handle)
{
	uint32_t idx = rg_stab_get(&c->tx_tab, stream);
	struct rg_stream *s;
	int rc;

	if (idx == RG_STAB_NONE)
		return -ENOENT;
	if (len > RG_RECORD_BYTES_MAX || (payload == NULL && len > 0))
		return -EINVAL;
	s = &c->streams[idx];
	if (s->state != RG_STREAM_OPEN)
		return -ENOTCONN; /* the replay callback will name where to publish from */
	rc = rg_txq_push(&c->txpool, &s->q, seq, version, payload, len, handle);
	if (rc != 0)
		return rc;
	s->seq_hi = RG_MAX(s->seq_hi, seq);
	RG_CTR(c, published)++;
	mark_active(c, s);
	return 0;
}

void
rg_core_set_rx_deliver_cap(struct rg_core *c, uint32_t records)
{
	c->rx_deliver_cap = RG_MAX(records, 1u);
}

void
rg_core_set_rx_frags_room(struct rg_core *c, uint32_t room)
{
	struct rg_rxpool *p = &c->rxpool;

	p->reserve = room >= p->nfree ? 0 : p->nfree - room;
}

uint32_t
rg_core_rx_streams(const struct rg_core *c)
{
	return c->nrx;
}

int
rg_core_applied(struct rg_core *c, uint64_t stream, uint64_t applied)
{
	uint32_t idx = rg_stab_get(&c->rx_tab, stream);
	struct rg_stream *s;

	if (idx == RG_STAB_NONE)
		return -ENOENT;
	s = &c->streams[idx];
	if (s->state != RG_STREAM_RX)
		return 0; /* waiting for rg_core_rx_accept, which says where it stands */
	applied = RG_MIN(applied, s->ro.next_seq - 1); /* nothing past what was delivered */
	if (applied > s->applied) {
		s->applied = applied;
		mark_ctl(c, s, RG_CTL_APPLIED);
	}
	return 0;
}

int
rg_core_rx_accept(struct rg_core *c, uint64_t stream, uint64_t applied)
{
	uint32_t idx = rg_stab_get(&c->rx_tab, stream);
	struct rg_stream *s;

	if (idx == RG_STAB_NONE)
		return -ENOENT;
	if (applied == UINT64_MAX)
		return -EINVAL;
	s = &c->streams[idx];
	if (s->state != RG_STREAM_RX_WAIT)
		return -EALREADY;
	s->state = RG_STREAM_RX;
	rx_window_restart(c, s, applied + 1);
	s->applied = s->applied_sent = applied;
	RG_CTR(c, rx_accepted)++;
	mark_ctl(c, s, RG_CTL_RESUME_REPLY);
	return 0;
}

int
rg_core_rx_rewind(struct rg_core *c, uint64_t stream, uint64_t from)
{
	uint32_t idx = rg_stab_get(&c->rx_tab, stream);
	struct rg_stream *s;

	if (idx == RG_STAB_NONE)
		return -ENOENT;
	s = &c->streams[idx];
	if (s->state != RG_STREAM_RX)
		return -EAGAIN;
	if (from <= s->applied)
		return -EINVAL;
	rx_window_restart(c, s, from);
	s->rewind_from = from;
	s->rewinding = 1;
	mark_ctl(c, s, RG_CTL_REWIND);
	return 0;
}

int
rg_core_subscribe(struct rg_core *c, uint16_t peer_gw, uint8_t kind, uint64_t key, uint64_t now_ns)
{
	uint16_t p = find_peer(c, peer_gw);
	struct rg_sub *u = NULL;

	if (p == RG_NIL16)
		return -ENOENT;
	if ((kind != RG_SUB_STREAM && kind != RG_SUB_NAMESPACE) || key == 0 ||
	    (kind == RG_SUB_NAMESPACE && (uint32_t)key != 0))
		return -EINVAL;
	for (uint32_t i = 0; i < c->nsubs && u == NULL; i++) /* bounded by subs_max */
		if (c->subs[i].kind == kind && c->subs[i].key == key)
			u = &c->subs[i];
	if (u == NULL) {
		if (c->nsubs >= c->cfg.subs_max)
			return -ENOSPC;
		u = &c->subs[c->nsubs++];
		*u = (struct rg_sub){ .key = key, .kind = kind };
	}
	if (u->state != RG_SUBST_WANT)
		c->nsubs_want++;
	u->peer = p;
	u->state = RG_SUBST_WANT;
	u->next_ns = now_ns;
	return 0;
}

void
rg_core_close(struct rg_core *c)
{
	for (uint16_t i = 0; i < c->nlanes; i++)
		c->lanes[i].close_due = 1;
}
