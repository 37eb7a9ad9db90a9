/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-stream send queues. A core owns one pool of record descriptors; each
 * stream owns a FIFO of them, linked by index, limited to records_max
 * (publish sees -EAGAIN past it: backpressure, DESIGN §3.5).
 *
 * Payloads are not copied here: a descriptor points at the producer's bytes
 * and carries its opaque handle until the record is fully acknowledged, when
 * the release callback gives the handle back (zero copy, DESIGN §4.2).
 *
 * A record is sent once in fragments, in order: `cur` is the first record
 * with bytes never sent and `cur_off` how far it got. Fragments of a lost
 * packet are retransmitted from the lane's retransmit queue, each with one
 * live copy in flight (recovery.h, invariant 4), so a record is fully acked
 * exactly when its acked bytes reach its length and its last fragment is acked.
 *
 * Invariants (rg_txq_check):
 *   1. head..tail are linked in seq order, consecutive seqs, count of them.
 *   2. acked_seq + 1 == seq of head (or next_seq when empty): everything
 *      before head was fully acked and popped.
 *   3. cur is head or after it; every record before cur was fully sent.
 */
#ifndef RG_PROTO_TXQ_H
#define RG_PROTO_TXQ_H

#include <stdint.h>

#include "common.h"

#define RG_TXQ_NIL UINT32_MAX

struct rg_txrec {
	const uint8_t *payload;
	void *handle;
	uint64_t seq;
	uint32_t len;
	uint32_t version;
	uint32_t acked_bytes;
	uint32_t next; /* next in its stream's FIFO, or in the free list */
	uint8_t last_acked;
	uint8_t released;
	uint8_t reserved[6];
};

struct rg_txpool {
	struct rg_txrec *recs;
	uint32_t cap;
	uint32_t free_head;
	uint32_t nfree;
};

struct rg_txq {
	uint32_t head, tail; /* oldest unpopped record, newest record */
	uint32_t cur;        /* first record with unsent bytes, or NIL */
	uint32_t cur_off;    /* bytes of cur already sent */
	uint32_t count;
	uint32_t records_max;
	uint64_t next_seq;  /* the seq the next publish must carry */
	uint64_t acked_seq; /* every seq <= acked_seq is fully acked */
};

/* Releases a record's handle to its producer. */
typedef void (*rg_txrel_fn)(void *ctx, void *handle);

int rg_txpool_init(struct rg_txpool *p, uint32_t cap, const struct rg_mem *mem);
void rg_txpool_fini(struct rg_txpool *p, const struct rg_mem *mem);

/* An empty queue whose next publish must carry first_seq. */
void rg_txq_init(struct rg_txq *q, uint32_t records_max, uint64_t first_seq);

/* Appends a record; -EAGAIN when the queue or the pool is full, -EINVAL on a wrong seq. */
int rg_txq_push(struct rg_txpool *p, struct rg_txq *q, uint64_t seq, uint32_t version,
		const void *payload, uint32_t len, void *handle);

/* 1 when some record has unsent bytes and its seq is within max_seq (the credit). */
static inline int
rg_txq_sendable(const struct rg_txpool *p, const struct rg_txq *q, uint64_t max_seq)
{
	return q->cur != RG_TXQ_NIL && p->recs[q->cur].seq <= max_seq;
}

/*
 * Takes the next fragment to send, of at most room bytes: fills *rec, *off,
 * *len and advances cur. Call only when sendable.
 */
void rg_txq_take(struct rg_txpool *p, struct rg_txq *q, uint32_t room, uint32_t *rec, uint32_t *off,
		 uint32_t *len);

/*
 * A fragment [off, off + len) of record rec (seq) was acked. Releases the
 * record when it is complete and pops completed records at the head.
 * Returns 1 when acked_seq advanced.
 */
int rg_txq_on_acked(struct rg_txpool *p, struct rg_txq *q, uint32_t rec, uint64_t seq, uint32_t off,
		    uint32_t len, rg_txrel_fn rel, void *ctx);

/* Whether a fragment of record rec (seq) still needs to reach the peer (not yet released). */
static inline int
rg_txq_live(const struct rg_txpool *p, uint32_t rec, uint64_t seq)
{
	return rec < p->cap && p->recs[rec].seq == seq && !p->recs[rec].released;
}

/* Drops every record, releasing the unreleased ones; the queue restarts at first_seq. */
void rg_txq_drop_all(struct rg_txpool *p, struct rg_txq *q, uint64_t first_seq, rg_txrel_fn rel,
		     void *ctx);

int rg_txq_check(const struct rg_txpool *p, const struct rg_txq *q);

#endif /* RG_PROTO_TXQ_H */
