/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The receiver's record of packet numbers it accepted on one lane, and when
 * to acknowledge them. Pure; one per lane.
 *
 * Invariants (checked by rg_ackr_check):
 *   1. r[0..n) are disjoint, descending (r[i].lo > r[i+1].hi + 1: separated
 *      by at least one missing number), and r[i].lo <= r[i].hi.
 *   2. Every range lies at or above floor; numbers below floor count as
 *      received (too old to tell), so a straggler below it is dropped as a
 *      duplicate and its frames come back in a retransmission.
 *   3. n <= RG_ACKR_RANGES_MAX; when a new range would exceed it, the lowest
 *      range is forgotten and floor rises above it.
 *
 * The replay window: a number more than RG_ACKR_WINDOW below the largest
 * also counts as received (rg_ackr_is_dup), however few ranges there are, so
 * a replayed or forged old number is dropped as a duplicate, as WireGuard's
 * window does. A real packet that late was declared lost long ago; its
 * frames went again in newer packets.
 *
 * When to ack (DESIGN §4.4, RFC 9000 §13.2): after ack_every_pkts
 * ack-eliciting packets, or ack_delay_ns_max after the first unacked one,
 * whichever comes first, and at once when a packet arrives out of order (so
 * the sender learns of a loss one RTT sooner).
 */
#ifndef RG_PROTO_ACKR_H
#define RG_PROTO_ACKR_H

#include <stdint.h>

#include "wire.h"

#define RG_ACKR_RANGES_MAX 64
#define RG_ACKR_WINDOW     65536u

struct rg_ackr {
	struct rg_pn_range r[RG_ACKR_RANGES_MAX];
	unsigned n;
	int valid;                  /* anything received since the last reset */
	uint64_t floor;             /* numbers below are treated as received */
	uint64_t largest_rx_ns;     /* when the largest number arrived */
	uint32_t unacked_eliciting; /* ack-eliciting packets since the last ACK sent */
	uint32_t immediate;         /* an out-of-order arrival asks for an ACK now */
	uint64_t first_unacked_ns;  /* arrival of the first of those, or RG_NS_NEVER */
};

void rg_ackr_reset(struct rg_ackr *a);

/* The largest number accepted so far (valid only when a->valid). */
static inline uint64_t
rg_ackr_largest(const struct rg_ackr *a)
{
	return a->r[0].hi;
}

/* 1 when pn was accepted already, or is below floor or the replay window. */
int rg_ackr_is_dup(const struct rg_ackr *a, uint64_t pn);

/* Records pn as accepted. pn must not be a duplicate. */
void rg_ackr_insert(struct rg_ackr *a, uint64_t pn, int ack_eliciting, uint64_t now_ns);

/* When an ACK must leave: RG_NS_NEVER when nothing awaits one. */
uint64_t rg_ackr_deadline(const struct rg_ackr *a, uint32_t ack_every_pkts,
			  uint64_t ack_delay_ns_max);

/* Whether an ACK may be sent at all (anything received). */
static inline int
rg_ackr_has_ranges(const struct rg_ackr *a)
{
	return a->valid;
}

/* Copies up to max ranges, newest first; returns how many. */
unsigned rg_ackr_ranges(const struct rg_ackr *a, struct rg_pn_range *out, unsigned max);

/* An ACK left at now_ns: clears the pending state. */
void rg_ackr_on_ack_sent(struct rg_ackr *a);

/* Checks the invariants above; returns 0 or -1 (tests and the simulator call it). */
int rg_ackr_check(const struct rg_ackr *a);

#endif /* RG_PROTO_ACKR_H */
