/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The core's internals: peers, lanes, streams, and the small index rings that
 * schedule them. Tests and the simulator may include this; everything else
 * goes through core.h.
 *
 * Invariants (rg_core_check):
 *   1. A stream is in its lane's control queue iff RG_SQ_CTL is set, in the
 *      list of its (class, bucket) on its lane iff RG_SQ_ACT is set (once),
 *      a bucket is in its class's bucket queue (once) iff `queued`, and a
 *      stream is in the core's blocked queue iff
 *      RG_SQ_BLOCKED is set; so each ring holds every stream at most once
 *      and a ring of streams_max entries cannot overflow.
 *   2. A SYNCING send stream has an empty queue and is not in the active queue.
 *   3. Each lane's ack ranges, recovery state, congestion controller, and
 *      each stream's queue or reorder window satisfy their own module's
 *      invariants.
 *   4. Each lane's recovery window is its controller's window, and its
 *      pacer runs at the controller's pacing rate (rg_lane_cc_apply after
 *      every controller update).
 *   5. A DATA frame reference counts only for the generation of its stream
 *      it was sent in (rg_fref.gen == rg_stream.gen): a send stream that
 *      starts over (reset, rewind) bumps gen, so an ack or a loss of what
 *      its old queue sent can never touch the new queue's records, even
 *      when a record descriptor and its seq are reused.
 *   6. A receive stream in RX_WAIT has an empty window and is in no queue
 *      but its lane's control queue (for nothing: its ctl is 0 until
 *      rg_core_rx_accept marks the REPLY).
 *   7. Subscriptions (client side): nsubs <= subs_max; a sub in SUB_WANT is
 *      counted in nsubs_want and has a request due at next_ns.
 */
#ifndef RG_PROTO_CORE_IMPL_H
#define RG_PROTO_CORE_IMPL_H

#include "ackr.h"
#include "cc.h"
#include "core.h"
#include "pacer.h"
#include "recovery.h"
#include "reorder.h"
#include "stab.h"
#include "txq.h"

#define RG_NIL16 UINT16_MAX
#define RG_NIL32 UINT32_MAX

/*
 * Namespace buckets: a lane shares its sending among the namespaces of its
 * streams (namespace = stream id >> 32), a quantum of bytes per bucket per
 * round (deficit round robin), and among a bucket's streams one fragment
 * each. Namespaces hash onto RG_LANE_BUCKETS buckets per class; two that
 * collide share one bucket's turn.
 */
#define RG_LANE_BUCKETS 64

/* One class's active streams of one namespace bucket on a lane: an intrusive FIFO. */
struct rg_bucket {
	uint32_t head, tail; /* stream indices linked by rg_stream.act_next; RG_NIL32: empty */
	uint32_t deficit;    /* bytes it may still send in this round */
	uint8_t queued;      /* in the lane's bucket queue of its class */
	uint8_t turn;        /* its quantum for this visit was added */
	uint8_t reserved[2];
};

static inline uint16_t
rg_stream_bucket(uint64_t id)
{
	return (uint16_t)(((uint32_t)(id >> 32) * 0x9e3779b1u) >> 26); /* 6 bits: 64 buckets */
}

/*
 * A packet that carries data keeps its ACK to RG_ACK_RANGES_DATA ranges; with
 * a HELLO, a CLOSE and a probe PING that is the most that precedes data in
 * one packet (the preamble), and fragments are cut to fit beside it.
 */
#define RG_ACK_RANGES_DATA 4
#define RG_PREAMBLE_BYTES_MAX                                                   \
	(rg_wire_ack_bytes(RG_ACK_RANGES_DATA) + sizeof(struct rg_wire_hello) + \
	 sizeof(struct rg_wire_close) + sizeof(struct rg_wire_ping))

/* A FIFO of stream indices; capacity is a power of two >= the streams it may hold. */
struct rg_idxq {
	uint32_t *v;
	uint32_t mask;
	uint32_t head, tail;
};

static inline int
rg_idxq_empty(const struct rg_idxq *q)
{
	return q->head == q->tail;
}

static inline void
rg_idxq_push(struct rg_idxq *q, uint32_t x)
{
	RG_ASSERT(q->tail - q->head <= q->mask);
	q->v[q->tail++ & q->mask] = x;
}

static inline uint32_t
rg_idxq_peek(const struct rg_idxq *q)
{
	return q->v[q->head & q->mask];
}

static inline uint32_t
rg_idxq_pop(struct rg_idxq *q)
{
	return q->v[q->head++ & q->mask];
}

/* The lane's frames lost in flight, waiting to be sent again (FIFO). */
struct rg_rtxq {
	struct rg_fref *v;
	uint32_t mask;
	uint32_t head, tail;
};

struct rg_peer {
	uint16_t gw;
	uint16_t lanes_total;
	uint16_t *lane_map;     /* lane id → index in rg_core.lanes, or RG_NIL16 */
	uint64_t inc;           /* the peer's incarnation; 0 = not known yet */
	uint16_t lanes_seen;    /* the lane count its HELLO announced; 0 = none seen yet */
	uint8_t passive;        /* a client: we send nothing until it has spoken */
	uint32_t pkt_bytes_max; /* largest packet to it (its link's MTU less IPv4 and UDP) */
	uint8_t mode_told;      /* RG_PEER_MODE_MISMATCH was reported */
	uint32_t hs_tokens;     /* INITs it may still have answered: RG_HS_PER_S a second */
	uint64_t hs_fill_ns;    /* when the last token was added */
};

/* A SUBSCRIBE reply a lane owes (gateway side): written once, untracked (the client asks again). */
struct rg_sub_reply {
	uint64_t key;
	uint8_t kind;
	uint8_t status;
};
#define RG_SUB_REPLIES_MAX 16 /* per lane; a full queue drops the reply (the request comes again) */

/* A subscription this core asked a peer for (client side). */
enum rg_sub_state {
	RG_SUBST_WANT = 1, /* a REQUEST is due at next_ns, again every hello_interval_ns */
	RG_SUBST_DONE,     /* the peer replied: status */
};

struct rg_sub {
	uint64_t key;
	uint64_t next_ns;
	uint16_t peer; /* index in rg_core.peers */
	uint8_t kind;  /* enum rg_sub_kind */
	uint8_t state; /* enum rg_sub_state */
	uint8_t status;
};

struct rg_lane {
	uint16_t peer; /* index in rg_core.peers */
	uint16_t id;
	uint32_t pkt_bytes_max;  /* largest packet built on it: its peer's */
	uint32_t frag_bytes_max; /* the largest fragment: fits beside RG_PREAMBLE_BYTES_MAX */
	uint32_t data_room_min;  /* do not start a fragment in less room than this */
	uint8_t probe;           /* the probe timeout fired: send an ack-eliciting packet now */
	uint8_t hello_due;       /* the peer addressed an old incarnation of us: tell it */
	uint8_t close_due;
	struct rg_ackr ackr;
	struct rg_recovery rec;
	struct rg_pacer pacer;
	struct rg_cc cc; /* drives the pacer's rate and rec's window */
	struct rg_rtxq rtx;
	struct rg_idxq ctlq;           /* streams with control frames to send */
	struct rg_idxq bq[RG_CLASSES]; /* per class: buckets with active streams, in turn order */
	struct rg_bucket buckets[RG_CLASSES][RG_LANE_BUCKETS];
	uint64_t hello_next_ns;
	uint64_t last_eliciting_ns;
	uint64_t last_rx_ns; /* the last packet accepted from the peer (0: none yet) */
	struct rg_sub_reply subq[RG_SUB_REPLIES_MAX];
	uint32_t subq_head, subq_tail;
	/* Sealing (docs/protocol.md §5c): the lane's sessions and a RESP it owes. */
	struct rg_lane_ses ses;
	uint8_t hs_kick;     /* start a handshake though a session seals (the peer lost it) */
	uint8_t hs_resp_due; /* hs_resp goes in the next packet of this lane */
	uint32_t hs_resp_epoch;
	uint64_t hs_sealed_ns; /* when the sealing session first went unanswered (0: it is) */
	uint8_t hs_resp[RG_HS_RESP_BYTES];
} __attribute__((aligned(RG_CACHE_LINE)));

/* Stream queue flags (rg_stream.sq). */
#define RG_SQ_CTL     0x01
#define RG_SQ_ACT     0x02
#define RG_SQ_BLOCKED 0x04

/* Pending control frames (rg_stream.ctl). */
#define RG_CTL_RESUME_REQ   0x01
#define RG_CTL_RESUME_REPLY 0x02
#define RG_CTL_CREDIT       0x04
#define RG_CTL_APPLIED      0x08
#define RG_CTL_REWIND       0x10

enum rg_stream_state {
	RG_STREAM_SYNCING = 1,
	RG_STREAM_OPEN,
	RG_STREAM_RX,
	RG_STREAM_RX_WAIT, /* a RESUME request waits for rg_core_rx_accept (inv. 6) */
};

/*
 * A received packet number above largest + RG_PN_AHEAD_SLACK + (ns since the
 * largest arrived >> RG_PN_AHEAD_NS_SHIFT) is further ahead than the peer
 * could have sent: dropped (PN_AHEAD) before it touches the ack state.
 */
#define RG_PN_AHEAD_SLACK    65536u
#define RG_PN_AHEAD_NS_SHIFT 6

struct rg_stream {
	uint64_t id;
	uint16_t peer; /* index in rg_core.peers */
	uint16_t lane; /* index in rg_core.lanes */
	uint8_t state;
	uint8_t ctl;
	uint8_t sq;
	uint8_t tx;        /* 1 send, 0 receive */
	uint8_t cls;       /* send: enum rg_class, the lane queue it waits in */
	uint8_t relayed;   /* send: fed by a relay (rg_core_tx_set_relay) */
	uint8_t rewinding; /* receive: a REWIND to rewind_from is not acked yet */
	uint16_t bucket;   /* send: rg_stream_bucket(id) */
	uint32_t act_next; /* send: the next stream in its bucket (RG_NIL32: last) */
	uint32_t gen;      /* send: bumped each time the queue starts over (inv. 5) */
	/* send side */
	struct rg_txq q;
	uint64_t credit;  /* highest seq the receiver granted */
	uint64_t applied; /* send: the peer's applied watermark; receive: the consumer's */
	/*
	 * send: the highest seq this core run published, or a RESUME REPLY said
	 * the receiver holds (an earlier run sent it). An APPLIED or REWIND above
	 * it and above credit names records never sent: counted, never believed
	 * (tx_seq_bound).
	 */
	uint64_t seq_hi;
	/* receive side */
	struct rg_reorder ro;
	uint64_t credit_sent;
	uint64_t applied_sent;
	uint64_t rewind_from; /* receive: the seq the sender was last told to start over at */
};

struct rg_core {
	struct rg_core_config cfg;
	struct rg_core_cb cb;
	struct rg_peer *peers;
	uint16_t npeers;
	struct rg_lane *lanes;
	uint16_t nlanes;
	uint16_t lane_rr; /* next lane rg_core_send() looks at first */
	struct rg_stream *streams;
	uint32_t nstreams;
	struct rg_stab tx_tab, rx_tab;
	struct rg_txpool txpool;
	struct rg_rxpool rxpool;
	struct rg_rxslot *slots; /* streams_max windows of rx_window_records */
	struct rg_idxq blocked;  /* receive streams whose consumer refused a delivery */
	uint32_t rx_deliver_cap; /* records past applied a receive stream may deliver */
	uint32_t nrx;            /* receive streams */
	struct rg_sub *subs;     /* subs_max subscriptions this core asked for (client side) */
	uint32_t nsubs, nsubs_want;
	struct rg_core_stats st;
};

#define RG_CTR(c, name) ((c)->st.ctr[RG_CTR_##name])

/* A fresh lane packet-number start: random below pn_start_max (docs/protocol.md). */
static inline uint64_t
rg_core_pn_start(struct rg_core *c)
{
	return c->cfg.rng.next(c->cfg.rng.ctx) % c->cfg.pn_start_max;
}

int rg_idxq_init(struct rg_idxq *q, uint32_t min_cap, const struct rg_mem *mem);
void rg_lane_reset(struct rg_core *c, struct rg_lane *l, uint64_t now_ns);
/* Empties the lane's bucket queues (the streams' RG_SQ_ACT is the caller's to clear). */
void rg_lane_clear_active(struct rg_lane *l);
/*
 * The lane's sending side starts over at pn_start: nothing in flight, no
 * retransmissions waiting, RTT, delivery-rate and congestion state fresh
 * (rg_lane_reset also forgets what was received and the queues).
 */
void rg_lane_restart_tx(struct rg_core *c, struct rg_lane *l, uint64_t pn_start, uint64_t now_ns);

/* Hands the controller's window to recovery and its rate to the pacer. */
static inline void
rg_lane_cc_apply(struct rg_lane *l, uint64_t now_ns)
{
	rg_recovery_set_window(&l->rec, rg_cc_cwnd(&l->cc));
	if (l->pacer.rate_bytes_per_s != rg_cc_pacing_rate(&l->cc))
		rg_pacer_set_rate(&l->pacer, rg_cc_pacing_rate(&l->cc), now_ns);
}

#endif /* RG_PROTO_CORE_IMPL_H */
