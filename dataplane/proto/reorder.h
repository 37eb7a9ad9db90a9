/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-stream receive reorder windows: fragments arrive in any order, leave
 * in (seq, offset) order, each byte exactly once (DESIGN §3.1, §3.2, §4.4).
 *
 * A stream's window covers seqs [next_seq, next_seq + W), W a power of two;
 * W is also the stream's credit, so a sender within its credit always finds
 * a slot. Slot of seq s is s & (W - 1). Worked example with W = 8:
 * next_seq = 0x0FFE: slots hold 0x0FFE..0x1005; seq 0x1003 goes to slot 3,
 * 0x0FFF to slot 7; seq 0x1006 (offset 8 from next_seq) is beyond the window.
 * seq is 64-bit and starts at 1, so it never wraps (2^64 records at 10^9
 * records/s is 584 years); only the slot index wraps, by the mask.
 *
 * The cases for a fragment (stream, seq, off, len), in the order handled:
 *   1. seq < next_seq, or seq == next_seq and off + len <= deliver_off:
 *      every byte was delivered: a duplicate, dropped and counted.
 *   2. seq >= next_seq + W: beyond the credit the receiver granted: refused,
 *      the packet is not acked (the sender retransmits it later).
 *   2a. its record_len disagrees with the record's bytes already delivered
 *      (seq == next_seq, deliver_off > 0: deliver_len) or buffered (its
 *      slot's head): refused (MISMATCH), not acked. The first length taken
 *      wins, so every fragment of a record the consumer sees says the same
 *      length (a consumer sizes its record by the first one).
 *   3. seq == next_seq and off <= deliver_off: in order: its new bytes go to
 *      the consumer now, then buffered fragments that became contiguous.
 *   4. otherwise: buffered in its slot, sorted by offset; a fragment whose
 *      bytes are all covered by one already buffered is a duplicate. No
 *      fragment descriptor free (beyond the pool's reserve): refused (not
 *      acked).
 * A fragment that overlaps what was delivered gives only its new bytes, so
 * retransmissions cut at other boundaries than the original are fine.
 *
 * Payloads are not copied: a buffered fragment points into its packet and
 * holds the packet's handle (hold/release callbacks).
 */
#ifndef RG_PROTO_REORDER_H
#define RG_PROTO_REORDER_H

#include <stdint.h>

#include "common.h"

#define RG_RX_NIL UINT32_MAX

/* A fragment as handed to the consumer. data is valid during the callback only. */
struct rg_rx_frag {
	uint64_t seq;
	const uint8_t *data;
	void *handle; /* the packet it points into */
	uint32_t off;
	uint32_t len;
	uint32_t record_len;
	uint32_t version;
};

struct rg_rxfrag {
	struct rg_rx_frag f;
	uint32_t next;
};

struct rg_rxpool {
	struct rg_rxfrag *frags;
	uint32_t cap;
	uint32_t free_head;
	uint32_t nfree;
	uint32_t reserve; /* descriptors not to take: buffering stops at nfree == reserve */
};

struct rg_rxslot {
	uint64_t seq; /* 0: empty */
	uint32_t head, tail;
};

struct rg_reorder {
	struct rg_rxslot *slots; /* W of them */
	uint32_t window;         /* W, a power of two */
	uint32_t deliver_off;    /* bytes of next_seq already delivered */
	uint32_t deliver_len;    /* next_seq's record_len, while deliver_off > 0 (case 2a) */
	uint64_t next_seq;       /* the first seq not fully delivered */
	uint32_t buffered;       /* fragments held in slots */
	uint32_t blocked;        /* the consumer refused the last delivery */
};

/* Hands a fragment to the consumer: 0 taken, -EAGAIN no room now (try again later). */
typedef int (*rg_deliver_fn)(void *ctx, const struct rg_rx_frag *f);

struct rg_reorder_ops {
	rg_deliver_fn deliver;
	void (*hold)(void *ctx, void *handle);    /* keep the packet: a fragment points into it */
	void (*release)(void *ctx, void *handle); /* done with it */
	void *ctx;
};

enum rg_reorder_result {
	RG_REORDER_DELIVERED, /* some of it reached the consumer */
	RG_REORDER_BUFFERED,
	RG_REORDER_DUP,
	RG_REORDER_BEYOND,    /* refused: beyond the window */
	RG_REORDER_NO_BUFFER, /* refused: no fragment descriptor */
	RG_REORDER_MISMATCH, /* refused: disagrees with the same record's delivered or buffered bytes */
};

int rg_rxpool_init(struct rg_rxpool *p, uint32_t cap, const struct rg_mem *mem);
void rg_rxpool_fini(struct rg_rxpool *p, const struct rg_mem *mem);

/* Starts a window whose next seq is first_seq; slots[] has window entries. */
void rg_reorder_init(struct rg_reorder *r, struct rg_rxslot *slots, uint32_t window,
		     uint64_t first_seq);

/* Offers one fragment (cases 1-4 above). */
enum rg_reorder_result rg_reorder_offer(struct rg_reorder *r, struct rg_rxpool *p,
					const struct rg_rx_frag *f,
					const struct rg_reorder_ops *ops);

/* Delivers buffered fragments that are contiguous; returns fragments delivered. */
uint32_t rg_reorder_drain(struct rg_reorder *r, struct rg_rxpool *p,
			  const struct rg_reorder_ops *ops);

/* Drops every buffered fragment (releasing their packets); next_seq stays. */
void rg_reorder_clear(struct rg_reorder *r, struct rg_rxpool *p, const struct rg_reorder_ops *ops);

/* The highest seq the sender may send: the credit (next_seq - 1 + W). */
static inline uint64_t
rg_reorder_max_seq(const struct rg_reorder *r)
{
	return r->next_seq - 1 + r->window;
}

int rg_reorder_check(const struct rg_reorder *r, const struct rg_rxpool *p);

#endif /* RG_PROTO_REORDER_H */
