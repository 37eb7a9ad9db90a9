/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway as a relay (DESIGN §4.9): a stream that arrives on one hop
 * continues on the next, on the same core, run to completion. Pure, like the
 * core it drives: the DPDK worker and the simulator run this same code.
 *
 *   producer ──hop──▶ [ rx S ─relay─▶ tx S ] ──hop──▶ [ rx S ─relay─▶ tx S ] ──hop──▶ consumer
 *                       gateway A (origin)              gateway B (replica)
 *
 * A relay stream is a receive stream S from its upstream peer joined to the
 * send stream of the same id to its downstream peer, both in one rg_core.
 * Where S goes: from a producer client, to the gateway route() names; from a
 * gateway, to the consumer client subscribed to S or to its namespace.
 *
 * The coupling rules (docs/protocol.md §Relay):
 *   1. Resume end to end. The upstream's RESUME is answered with the
 *      downstream's applied watermark, so the producer replays from what the
 *      consumer made durable. Until the downstream send stream is OPEN the
 *      answer waits (rx_open says -EINPROGRESS; rg_core_rx_accept later):
 *      nothing is refused, nothing is retransmitted meanwhile.
 *   2. Keep until acked. A record received in one fragment is published
 *      downstream pointing into its packet (zero copy: the relay holds the
 *      packet), one in several fragments is reassembled into a buffer; either
 *      way the record stays until the next hop acks it (the core's
 *      tx_release), so a loss on the next hop is repaired from here.
 *   3. Credit couples the hops. A fragment is taken only when the downstream
 *      send stream is OPEN and its queue (and the core's pool) has room for
 *      the record; otherwise deliver says -EAGAIN, the record waits in the
 *      receive window, the window stops moving and so does the upstream's
 *      credit. Memory is bounded at every hop by the send queue, the window,
 *      the stage and the reassembly buffers.
 *   4. Applied flows back. The downstream's applied watermark becomes the
 *      receive stream's (rg_core_applied), which the core sends upstream.
 *   5. Replays pass upstream. When the downstream asks to replay from a seq
 *      this relay has not got next (its send queue was dropped when the next
 *      hop restarted), the receive stream is rewound there
 *      (rg_core_rx_rewind), so the previous hop — the producer if need be —
 *      sends from there again. A replay from at most what was applied end to
 *      end cannot be served (the producer trimmed those: the consumer's
 *      durable state went back); the stream is held (counted `regressed`,
 *      nothing taken, nothing dropped) until a replay it can serve comes.
 *
 * Callbacks never re-enter the core: what the rules decide inside a callback
 * (records to publish, opens, accepts, rewinds, applied watermarks) is queued
 * and done by rg_relay_flush(), which the glue calls after every core entry
 * point (rg_core_recv, rg_core_drain, rg_core_on_timer). Work per flush is
 * bounded by the stage and the dirty list (streams_max).
 *
 * Streams the relay does not own (a local endpoint on the same core, such as
 * the daemon's bench instrument) are handed to the `local` callbacks given at
 * create; a local producer's records must use packet handles (the relay
 * releases every send record it does not own with pkt_release).
 *
 * Invariants (rg_relay_check):
 *   1. nstage <= stage_max; the stage holds, per stream, `staged` records,
 *      and staged_total counts them plus the records being reassembled.
 *   2. A stream is in the dirty list iff it has pending actions (RLY_P_*).
 *   3. A stream being reassembled has a buffer and asm_got < asm_len.
 *   4. Every subscription's client is a CLIENT peer.
 */
#ifndef RG_PROTO_RELAY_H
#define RG_PROTO_RELAY_H

#include <stdint.h>

#include "core.h"

enum rg_relay_peer_kind {
	RG_RELAY_CLIENT = 1, /* a producer or consumer client (LAN hop) */
	RG_RELAY_GATEWAY,    /* another gateway (WAN hop) */
};

struct rg_relay_config {
	uint32_t streams_max; /* relayed streams (each a receive and a send stream in the core) */
	uint32_t subs_max;    /* subscriptions from consumer clients */
	uint32_t stage_max;   /* records taken in one core call, published by rg_relay_flush */
	uint16_t peers_max;
};

struct rg_relay_ops {
	/* Where a producer client's stream goes: a gateway peer id, or 0 (no route: refused). */
	uint16_t (*route)(void *ctx, uint16_t client, uint64_t stream);
	/* A contiguous buffer for a record of len bytes that came in fragments; NULL: none now. */
	uint8_t *(*buf_alloc)(void *ctx, uint32_t len, void **handle);
	void (*buf_free)(void *ctx, void *handle);
	/* Packet handles, as the core's rx_hold / rx_release take them. */
	void (*pkt_hold)(void *ctx, void *pkt);
	void (*pkt_release)(void *ctx, void *pkt);
	void *ctx;
};

/* X-macro: what the relay did, counted. */
#define RG_RELAY_COUNTERS(X)                                                            \
	X(records)        /* records published downstream */                            \
	X(bytes)          /* their payload bytes */                                     \
	X(zero_copy)      /* of them, pointing into the packet they came in */          \
	X(reassembled)    /* of them, copied together from several fragments */         \
	X(down_busy)      /* fragments refused: next hop not open, or its queue full */ \
	X(stage_full)     /* fragments refused: the stage was full */                   \
	X(no_buffer)      /* fragments refused: no reassembly buffer */                 \
	X(opens)          /* send streams opened downstream */                          \
	X(open_failed)    /* ... that the core refused (streams_max?) */                \
	X(waits)          /* upstream RESUMEs answered later (rule 1) */                \
	X(accepts)        /* ... answered */                                            \
	X(rewinds)        /* receive streams rewound (rule 5) */                        \
	X(applied_up)     /* applied watermarks passed upstream */                      \
	X(publish_failed) /* records the core would not take (then rewound) */          \
	X(no_route)       /* producer streams with nowhere to go */                     \
	X(table_full)     /* streams refused: streams_max relayed already */            \
	X(subs)           /* subscriptions taken */                                     \
	X(subs_refused)   /* subscriptions refused (busy, full, not a client) */        \
	X(regressed)      /* next hops that asked for records applied before: held */

enum rg_relay_counter {
#define RG_X(name) RG_RLY_CTR_##name,
	RG_RELAY_COUNTERS(RG_X)
#undef RG_X
	RG_RLY_CTR_MAX
};

struct rg_relay_stats {
	uint64_t ctr[RG_RLY_CTR_MAX];
	uint32_t streams;    /* relayed streams now */
	uint32_t subs;       /* subscriptions now */
	uint32_t staged;     /* records staged now (0 between flushes) */
	uint32_t assembling; /* records being reassembled now */
	uint64_t asm_bytes;  /* bytes of reassembly buffers held now */
};

struct rg_relay;

/*
 * A relay for one core. local: the callbacks for streams it does not own (any
 * may be NULL; rx_open NULL refuses them). Memory is taken here only.
 * 0, -EINVAL, -ENOMEM.
 */
int rg_relay_create(const struct rg_relay_config *cfg, const struct rg_relay_ops *ops,
		    const struct rg_core_cb *local, const struct rg_mem *mem,
		    struct rg_relay **out);
/* Releases what it holds (staged records, reassembly buffers), then frees it. */
void rg_relay_destroy(struct rg_relay *r);

/* The core callbacks that drive it (ctx = r): pass them to rg_core_create. */
void rg_relay_core_cb(struct rg_relay *r, struct rg_core_cb *cb);
/* The core it acts on (after rg_core_create). */
void rg_relay_attach(struct rg_relay *r, struct rg_core *c);
/* Declares a peer of the core and its kind (setup). 0, -EEXIST, -ENOSPC, -EINVAL. */
int rg_relay_add_peer(struct rg_relay *r, uint16_t gw, enum rg_relay_peer_kind kind);

/*
 * Publishes what was staged and carries out what the rules decided; call
 * after every rg_core_recv, rg_core_drain and rg_core_on_timer (and before
 * rg_core_send). Bounded by stage_max records and streams_max actions.
 */
void rg_relay_flush(struct rg_relay *r, uint64_t now_ns);

void rg_relay_stats(const struct rg_relay *r, struct rg_relay_stats *out);
const char *rg_relay_counter_name(enum rg_relay_counter c);
/* 0 when every invariant holds, else -1 (tests and the simulator). */
int rg_relay_check(const struct rg_relay *r);

#endif /* RG_PROTO_RELAY_H */
