/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "txq.h"

int
rg_txpool_init(struct rg_txpool *p, uint32_t cap, const struct rg_mem *mem)
{
	memset(p, 0, sizeof(*p));
	if (cap == 0 || cap == RG_TXQ_NIL)
		return -EINVAL;
	p->recs = rg_mem_alloc(mem, sizeof(p->recs[0]) * cap);
	if (p->recs == NULL)
		return -ENOMEM;
	p->cap = cap;
	for (uint32_t i = 0; i < cap; i++) {
		p->recs[i].next = i + 1 < cap ? i + 1 : RG_TXQ_NIL;
		p->recs[i].released = 1;
	}
	p->free_head = 0;
	p->nfree = cap;
	return 0;
}

void
rg_txpool_fini(struct rg_txpool *p, const struct rg_mem *mem)
{
	rg_mem_free(mem, p->recs);
	p->recs = NULL;
}

void
rg_txq_init(struct rg_txq *q, uint32_t records_max, uint64_t first_seq)
{
	q->head = q->tail = q->cur = RG_TXQ_NIL;
	q->cur_off = 0;
	q->count = 0;
	q->records_max = records_max;
	q->next_seq = first_seq;
	q->acked_seq = first_seq - 1;
}

int
rg_txq_push(struct rg_txpool *p, struct rg_txq *q, uint64_t seq, uint32_t version,
	    const void *payload, uint32_t len, void *handle)
{
	struct rg_txrec *r;
	uint32_t i;

	if (seq != q->next_seq)
		return -EINVAL;
	if (q->count >= q->records_max || p->nfree == 0)
		return -EAGAIN;
	i = p->free_head;
	r = &p->recs[i];
	p->free_head = r->next;
	p->nfree--;
	r->payload = payload;
	r->handle = handle;
	r->seq = seq;
	r->len = len;
	r->version = version;
	r->acked_bytes = 0;
	r->last_acked = 0;
	r->released = 0;
	r->next = RG_TXQ_NIL;
	if (q->tail == RG_TXQ_NIL)
		q->head = i;
	else
		p->recs[q->tail].next = i;
	q->tail = i;
	if (q->cur == RG_TXQ_NIL) {
		q->cur = i;
		q->cur_off = 0;
	}
	q->count++;
	q->next_seq++;
	return 0;
}

void
rg_txq_take(struct rg_txpool *p, struct rg_txq *q, uint32_t room, uint32_t *rec, uint32_t *off,
	    uint32_t *len)
{
	struct rg_txrec *r = &p->recs[q->cur];
	uint32_t left = r->len - q->cur_off;

	*rec = q->cur;
	*off = q->cur_off;
	*len = RG_MIN(left, room);
	q->cur_off += *len;
	if (q->cur_off == r->len) {
		q->cur = r->next;
		q->cur_off = 0;
	}
}

static void
free_rec(struct rg_txpool *p, uint32_t i)
{
	p->recs[i].next = p->free_head;
	p->recs[i].seq = 0;
	p->free_head = i;
	p->nfree++;
}

int
rg_txq_on_acked(struct rg_txpool *p, struct rg_txq *q, uint32_t rec, uint64_t seq, uint32_t off,
		uint32_t len, rg_txrel_fn rel, void *ctx)
{
	struct rg_txrec *r = &p->recs[rec];
	int advanced = 0;

	if (!rg_txq_live(p, rec, seq))
		return 0;
	r->acked_bytes += len;
	if (off + len == r->len)
		r->last_acked = 1;
	RG_DEBUG_ASSERT(r->acked_bytes <= r->len);
	if (r->acked_bytes == r->len && r->last_acked) {
		r->released = 1;
		rel(ctx, r->handle);
		r->handle = NULL;
		r->payload = NULL;
	}
	/* Pop completed records at the head; bounded by the queue length. */
	while (q->head != RG_TXQ_NIL && p->recs[q->head].released) {
		uint32_t h = q->head;

		RG_DEBUG_ASSERT(q->cur != h);
		q->acked_seq = p->recs[h].seq;
		q->head = p->recs[h].next;
		if (q->head == RG_TXQ_NIL)
			q->tail = RG_TXQ_NIL;
		q->count--;
		free_rec(p, h);
		advanced = 1;
	}
	return advanced;
}

void
rg_txq_drop_all(struct rg_txpool *p, struct rg_txq *q, uint64_t first_seq, rg_txrel_fn rel,
		void *ctx)
{
	uint32_t i = q->head;

	while (i != RG_TXQ_NIL) { /* bounded by records_max */
		uint32_t next = p->recs[i].next;

		if (!p->recs[i].released) {
			p->recs[i].released = 1;
			rel(ctx, p->recs[i].handle);
		}
		free_rec(p, i);
		i = next;
	}
	rg_txq_init(q, q->records_max, first_seq);
}

int
rg_txq_check(const struct rg_txpool *p, const struct rg_txq *q)
{
	uint32_t n = 0, i = q->head;
	uint64_t expect = q->acked_seq + 1;
	int seen_cur = q->cur == RG_TXQ_NIL;

	while (i != RG_TXQ_NIL) {
		if (i >= p->cap || p->recs[i].seq != expect || ++n > q->count)
			return -1;
		if (i == q->cur)
			seen_cur = 1;
		else if (!seen_cur && p->recs[i].released == 0 &&
			 p->recs[i].acked_bytes > p->recs[i].len)
			return -1;
		expect++;
		if (p->recs[i].next == RG_TXQ_NIL && i != q->tail)
			return -1;
		i = p->recs[i].next;
	}
	if (n != q->count || expect != q->next_seq || !seen_cur)
		return -1;
	return 0;
}
