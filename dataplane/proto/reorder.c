/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "reorder.h"

int
rg_rxpool_init(struct rg_rxpool *p, uint32_t cap, const struct rg_mem *mem)
{
	memset(p, 0, sizeof(*p));
	if (cap == 0 || cap == RG_RX_NIL)
		return -EINVAL;
	p->frags = rg_mem_alloc(mem, sizeof(p->frags[0]) * cap);
	if (p->frags == NULL)
		return -ENOMEM;
	p->cap = cap;
	for (uint32_t i = 0; i < cap; i++)
		p->frags[i].next = i + 1 < cap ? i + 1 : RG_RX_NIL;
	p->nfree = cap;
	return 0;
}

void
rg_rxpool_fini(struct rg_rxpool *p, const struct rg_mem *mem)
{
	rg_mem_free(mem, p->frags);
	p->frags = NULL;
}

void
rg_reorder_init(struct rg_reorder *r, struct rg_rxslot *slots, uint32_t window, uint64_t first_seq)
{
	RG_ASSERT(rg_is_pow2(window) && first_seq >= 1);
	r->slots = slots;
	r->window = window;
	r->deliver_off = 0;
	r->deliver_len = 0;
	r->next_seq = first_seq;
	r->buffered = 0;
	r->blocked = 0;
	for (uint32_t i = 0; i < window; i++)
		slots[i] = (struct rg_rxslot){ .seq = 0, .head = RG_RX_NIL, .tail = RG_RX_NIL };
}

static struct rg_rxslot *
slot_of(const struct rg_reorder *r, uint64_t seq)
{
	return &r->slots[seq & (r->window - 1)];
}

static void
frag_free(struct rg_rxpool *p, uint32_t i, const struct rg_reorder_ops *ops)
{
	ops->release(ops->ctx, p->frags[i].f.handle);
	p->frags[i].next = p->free_head;
	p->free_head = i;
	p->nfree++;
}

/* Gives the consumer the bytes of f past deliver_off. Returns 0 or -EAGAIN. */
static int
deliver_tail(struct rg_reorder *r, const struct rg_rx_frag *f, const struct rg_reorder_ops *ops)
{
	struct rg_rx_frag out = *f;
	uint32_t skip = r->deliver_off - f->off;
	int rc;

	out.off += skip;
	out.len -= skip;
	out.data += skip;
	rc = ops->deliver(ops->ctx, &out);
	if (rc != 0) {
		r->blocked = 1;
		return rc;
	}
	r->blocked = 0;
	r->deliver_off = f->off + f->len;
	r->deliver_len = f->record_len;
	if (r->deliver_off == f->record_len) {
		r->next_seq++;
		r->deliver_off = 0;
	}
	return 0;
}

/* Empties the slot of a record that was just completed (its leftovers are duplicates). */
static void
slot_clear(struct rg_reorder *r, struct rg_rxpool *p, struct rg_rxslot *s,
	   const struct rg_reorder_ops *ops)
{
	uint32_t i = s->head;

	while (i != RG_RX_NIL) {
		uint32_t next = p->frags[i].next;

		frag_free(p, i, ops);
		r->buffered--;
		i = next;
	}
	s->seq = 0;
	s->head = s->tail = RG_RX_NIL;
}

uint32_t
rg_reorder_drain(struct rg_reorder *r, struct rg_rxpool *p, const struct rg_reorder_ops *ops)
{
	uint32_t n = 0;

	r->blocked = 0; /* deliver_tail() sets it again if the consumer still has no room */
	/* Bounded: every step frees a buffered fragment or completes a record that had one. */
	for (;;) {
		struct rg_rxslot *s = slot_of(r, r->next_seq);
		uint32_t i = s->head;
		struct rg_rx_frag *f;

		if (s->seq != r->next_seq || i == RG_RX_NIL)
			return n;
		f = &p->frags[i].f;
		if (f->off > r->deliver_off)
			return n; /* a gap inside the record */
		if (f->off + f->len > r->deliver_off ||
		    (f->len == 0 && f->record_len == 0 && r->deliver_off == 0)) {
			uint64_t seq = r->next_seq;

			if (deliver_tail(r, f, ops) != 0)
				return n;
			n++;
			if (r->next_seq != seq) {
				slot_clear(r, p, s, ops);
				continue;
			}
		}
		s->head = p->frags[i].next;
		if (s->head == RG_RX_NIL)
			s->tail = RG_RX_NIL;
		frag_free(p, i, ops);
		r->buffered--;
	}
}

/* Inserts f into its slot, sorted by offset. Returns a result for the caller. */
static enum rg_reorder_result
buffer(struct rg_reorder *r, struct rg_rxpool *p, const struct rg_rx_frag *f,
       const struct rg_reorder_ops *ops)
{
	struct rg_rxslot *s = slot_of(r, f->seq);
	uint32_t prev = RG_RX_NIL, i, n;

	if (s->seq != 0 && s->seq != f->seq)
		return RG_REORDER_MISMATCH; /* cannot happen within the window; counted if it does */
	/* Usually fragments come in order: start at the tail when f goes after it. */
	if (s->tail != RG_RX_NIL && p->frags[s->tail].f.off < f->off) {
		prev = s->tail;
		i = RG_RX_NIL;
	} else {
		for (i = s->head; i != RG_RX_NIL && p->frags[i].f.off < f->off;
		     i = p->frags[i].next)
			prev = i;
	}
	if (prev != RG_RX_NIL && p->frags[prev].f.off + p->frags[prev].f.len >= f->off + f->len)
		return RG_REORDER_DUP;
	if (i != RG_RX_NIL && p->frags[i].f.off == f->off && p->frags[i].f.len >= f->len)
		return RG_REORDER_DUP;
	if (p->nfree <= p->reserve)
		return RG_REORDER_NO_BUFFER;
	n = p->free_head;
	p->free_head = p->frags[n].next;
	p->nfree--;
	p->frags[n].f = *f;
	p->frags[n].next = i;
	ops->hold(ops->ctx, f->handle);
	if (prev == RG_RX_NIL)
		s->head = n;
	else
		p->frags[prev].next = n;
	if (i == RG_RX_NIL)
		s->tail = n;
	s->seq = f->seq;
	r->buffered++;
	return RG_REORDER_BUFFERED;
}

/* Case 2a: f's record_len is not the one its record's delivered or buffered bytes have. */
static int
disagrees(const struct rg_reorder *r, const struct rg_rxpool *p, const struct rg_rx_frag *f)
{
	const struct rg_rxslot *s = slot_of(r, f->seq);

	if (f->seq == r->next_seq && r->deliver_off > 0 && f->record_len != r->deliver_len)
		return 1;
	return s->seq == f->seq && s->head != RG_RX_NIL &&
	       p->frags[s->head].f.record_len != f->record_len;
}

enum rg_reorder_result
rg_reorder_offer(struct rg_reorder *r, struct rg_rxpool *p, const struct rg_rx_frag *f,
		 const struct rg_reorder_ops *ops)
{
	int in_order;

	if (f->seq < r->next_seq || (f->seq == r->next_seq && f->off + f->len <= r->deliver_off &&
				     (f->record_len != 0 || r->deliver_off != 0))) {
		if (!RG_CANARY_IS(ACCEPT_DUP))
			return RG_REORDER_DUP;
		/* Canary: the duplicate is handed to the consumer again. */
		return ops->deliver(ops->ctx, f) == 0 ? RG_REORDER_DELIVERED : RG_REORDER_DUP;
	}
	if (f->seq - r->next_seq >= r->window)
		return RG_REORDER_BEYOND;
	if (disagrees(r, p, f))
		return RG_REORDER_MISMATCH;
	if (RG_CANARY_IS(REORDER) && f->seq > r->next_seq && f->off == 0 &&
	    f->len == f->record_len) {
		/* Canary: a whole record past a gap is released at once, skipping the gap. */
		slot_clear(r, p, slot_of(r, r->next_seq), ops);
		r->next_seq = f->seq;
		r->deliver_off = 0;
	}
	in_order = f->seq == r->next_seq && f->off <= r->deliver_off && !r->blocked;
	if (in_order && deliver_tail(r, f, ops) == 0) {
		struct rg_rxslot *s = slot_of(r, f->seq);

		/* The record completed: fragments of it still buffered are duplicates now. */
		if (r->next_seq != f->seq && s->seq == f->seq)
			slot_clear(r, p, s, ops);
		rg_reorder_drain(r, p, ops);
		return RG_REORDER_DELIVERED;
	}
	return buffer(r, p, f, ops);
}

void
rg_reorder_clear(struct rg_reorder *r, struct rg_rxpool *p, const struct rg_reorder_ops *ops)
{
	for (uint32_t k = 0; k < r->window && r->buffered > 0; k++) {
		struct rg_rxslot *s = &r->slots[k];

		if (s->seq != 0)
			slot_clear(r, p, s, ops);
	}
	/*
	 * deliver_off stays: the consumer has those bytes, and a replay of the
	 * record from its first byte gives it only the rest (case 3).
	 */
	r->blocked = 0;
}

int
rg_reorder_check(const struct rg_reorder *r, const struct rg_rxpool *p)
{
	uint32_t total = 0;

	for (uint32_t k = 0; k < r->window; k++) {
		const struct rg_rxslot *s = &r->slots[k];
		uint32_t prev_off = 0;
		int first = 1;

		if (s->seq == 0) {
			if (s->head != RG_RX_NIL)
				return -1;
			continue;
		}
		if (s->seq < r->next_seq || s->seq - r->next_seq >= r->window ||
		    (s->seq & (r->window - 1)) != k)
			return -1;
		for (uint32_t i = s->head; i != RG_RX_NIL; i = p->frags[i].next) {
			const struct rg_rx_frag *f = &p->frags[i].f;

			if (f->seq != s->seq || (!first && f->off < prev_off) || ++total > p->cap)
				return -1;
			prev_off = f->off;
			first = 0;
		}
	}
	return total == r->buffered ? 0 : -1;
}
