/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-stream send queues: backpressure, fragmenting, acks in any order
 * releasing each handle exactly once, drop_all. rg_txq_check() after every step.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "txq.h"

#define HANDLES 64

/* Handles are &rel.h[i]; the callback counts releases per handle. */
struct rel {
	char h[HANDLES];
	unsigned count[HANDLES];
	unsigned total;
};

static void
on_release(void *ctx, void *handle)
{
	struct rel *r = ctx;
	ptrdiff_t i = (char *)handle - r->h;

	assert_true(i >= 0 && i < HANDLES);
	r->count[i]++;
	r->total++;
}

static uint8_t payload[4096];

static void
push_ok(struct rg_txpool *p, struct rg_txq *q, struct rel *rel, uint64_t seq, uint32_t len)
{
	assert_int_equal(rg_txq_push(p, q, seq, 1, payload, len, &rel->h[seq % HANDLES]), 0);
	assert_int_equal(rg_txq_check(p, q), 0);
}

/* Takes one fragment and asserts what it is. */
static uint32_t
take(struct rg_txpool *p, struct rg_txq *q, uint32_t room, uint32_t want_off, uint32_t want_len)
{
	uint32_t rec, off, len;

	rg_txq_take(p, q, room, &rec, &off, &len);
	assert_int_equal(off, want_off);
	assert_int_equal(len, want_len);
	assert_int_equal(rg_txq_check(p, q), 0);
	return rec;
}

static int
acked(struct rg_txpool *p, struct rg_txq *q, struct rel *rel, uint32_t rec, uint64_t seq,
      uint32_t off, uint32_t len)
{
	int adv = rg_txq_on_acked(p, q, rec, seq, off, len, on_release, rel);

	assert_int_equal(rg_txq_check(p, q), 0);
	return adv;
}

static void
setup(struct rg_txpool *p, uint32_t cap)
{
	assert_int_equal(rg_txpool_init(p, cap, rg_mem_default()), 0);
	assert_int_equal(p->nfree, cap);
}

static void
test_txq_pool_init_rejects_zero(void **state)
{
	struct rg_txpool p;

	(void)state;
	assert_int_equal(rg_txpool_init(&p, 0, rg_mem_default()), -EINVAL);
	assert_int_equal(rg_txpool_init(&p, RG_TXQ_NIL, rg_mem_default()), -EINVAL);
}

static void
test_txq_push_wrong_seq_is_einval(void **state)
{
	struct rg_txpool p;
	struct rg_txq q;
	struct rel rel = { .total = 0 };

	(void)state;
	setup(&p, 8);
	rg_txq_init(&q, 4, 1);
	assert_int_equal(rg_txq_check(&p, &q), 0);
	assert_int_equal(rg_txq_push(&p, &q, 2, 1, payload, 10, &rel.h[2]), -EINVAL);
	assert_int_equal(rg_txq_push(&p, &q, 0, 1, payload, 10, &rel.h[0]), -EINVAL);
	assert_int_equal(q.count, 0);
	push_ok(&p, &q, &rel, 1, 10);
	assert_int_equal(rg_txq_push(&p, &q, 1, 1, payload, 10, &rel.h[1]), -EINVAL);
	assert_int_equal(q.count, 1);
	assert_int_equal(q.next_seq, 2);
	assert_int_equal(p.nfree, 7);
	assert_int_equal(q.acked_seq, 0);
	rg_txpool_fini(&p, rg_mem_default());
}

static void
test_txq_push_full_queue_is_eagain(void **state)
{
	struct rg_txpool p;
	struct rg_txq q;
	struct rel rel = { .total = 0 };

	(void)state;
	setup(&p, 8);
	rg_txq_init(&q, 3, 1);
	push_ok(&p, &q, &rel, 1, 10);
	push_ok(&p, &q, &rel, 2, 10);
	push_ok(&p, &q, &rel, 3, 10);
	assert_int_equal(rg_txq_push(&p, &q, 4, 1, payload, 10, &rel.h[4]), -EAGAIN);
	assert_int_equal(rg_txq_push(&p, &q, 5, 1, payload, 10, &rel.h[5]), -EINVAL);
	assert_int_equal(q.count, 3);
	assert_int_equal(q.next_seq, 4);
	assert_int_equal(p.nfree, 5);
	/* Acking the head makes room. */
	assert_int_equal(acked(&p, &q, &rel, take(&p, &q, 100, 0, 10), 1, 0, 10), 1);
	push_ok(&p, &q, &rel, 4, 10);
	assert_int_equal(rel.total, 1);
	rg_txpool_fini(&p, rg_mem_default());
}

static void
test_txq_push_pool_exhausted_is_eagain(void **state)
{
	struct rg_txpool p;
	struct rg_txq a, b;
	struct rel rel = { .total = 0 };

	(void)state;
	setup(&p, 4);
	rg_txq_init(&a, 10, 1);
	rg_txq_init(&b, 10, 100);
	push_ok(&p, &a, &rel, 1, 10);
	push_ok(&p, &a, &rel, 2, 10);
	push_ok(&p, &a, &rel, 3, 10);
	push_ok(&p, &b, &rel, 100, 10);
	assert_int_equal(p.nfree, 0);
	assert_int_equal(rg_txq_push(&p, &b, 101, 1, payload, 10, &rel.h[1]), -EAGAIN);
	assert_int_equal(rg_txq_push(&p, &a, 4, 1, payload, 10, &rel.h[4]), -EAGAIN);
	assert_int_equal(b.count, 1);
	assert_int_equal(b.next_seq, 101);
	assert_int_equal(rg_txq_check(&p, &a), 0);
	assert_int_equal(rg_txq_check(&p, &b), 0);
	rg_txpool_fini(&p, rg_mem_default());
}

static void
test_txq_take_fragments_large_record(void **state)
{
	struct rg_txpool p;
	struct rg_txq q;
	struct rel rel = { .total = 0 };
	uint32_t rec;

	(void)state;
	setup(&p, 8);
	rg_txq_init(&q, 8, 1);
	push_ok(&p, &q, &rel, 1, 1000);
	push_ok(&p, &q, &rel, 2, 50);
	assert_true(rg_txq_sendable(&p, &q, 1));
	rec = take(&p, &q, 300, 0, 300);
	assert_int_equal(p.recs[rec].seq, 1);
	assert_int_equal(take(&p, &q, 300, 300, 300), rec);
	assert_int_equal(take(&p, &q, 300, 600, 300), rec);
	assert_int_equal(q.cur, rec);
	assert_int_equal(q.cur_off, 900);
	assert_int_equal(take(&p, &q, 300, 900, 100), rec); /* the rest, shorter than room */
	/* Credit up to seq 1: seq 2 must wait. */
	assert_false(rg_txq_sendable(&p, &q, 1));
	assert_true(rg_txq_sendable(&p, &q, 2));
	rec = take(&p, &q, 300, 0, 50);
	assert_int_equal(p.recs[rec].seq, 2);
	assert_int_equal(q.cur, RG_TXQ_NIL);
	assert_false(rg_txq_sendable(&p, &q, UINT64_MAX));
	/* A new record becomes cur. */
	push_ok(&p, &q, &rel, 3, 7);
	assert_true(rg_txq_sendable(&p, &q, 3));
	assert_int_equal(p.recs[take(&p, &q, 300, 0, 7)].seq, 3);
	rg_txpool_fini(&p, rg_mem_default());
}

static void
test_txq_acked_out_of_order_releases_once(void **state)
{
	struct rg_txpool p;
	struct rg_txq q;
	struct rel rel = { .total = 0 };
	uint32_t r1, r2, r3;

	(void)state;
	setup(&p, 8);
	rg_txq_init(&q, 8, 1);
	push_ok(&p, &q, &rel, 1, 100);
	push_ok(&p, &q, &rel, 2, 100);
	push_ok(&p, &q, &rel, 3, 100);
	r1 = take(&p, &q, 500, 0, 100);
	r2 = take(&p, &q, 500, 0, 100);
	r3 = take(&p, &q, 500, 0, 100);
	/* 3 first: released, but not popped (1 and 2 are not acked). */
	assert_int_equal(acked(&p, &q, &rel, r3, 3, 0, 100), 0);
	assert_int_equal(rel.count[3], 1);
	assert_int_equal(rel.total, 1);
	assert_int_equal(q.acked_seq, 0);
	assert_int_equal(q.count, 3);
	assert_false(rg_txq_live(&p, r3, 3));
	/* An ack of it again: nothing. */
	assert_int_equal(acked(&p, &q, &rel, r3, 3, 0, 100), 0);
	assert_int_equal(rel.count[3], 1);
	/* 1: popped; 2 still holds 3 back. */
	assert_int_equal(acked(&p, &q, &rel, r1, 1, 0, 100), 1);
	assert_int_equal(rel.count[1], 1);
	assert_int_equal(q.acked_seq, 1);
	assert_int_equal(q.count, 2);
	assert_int_equal(p.nfree, 6);
	/* 2: pops 2 and 3. */
	assert_int_equal(acked(&p, &q, &rel, r2, 2, 0, 100), 1);
	assert_int_equal(rel.count[2], 1);
	assert_int_equal(q.acked_seq, 3);
	assert_int_equal(q.count, 0);
	assert_int_equal(q.head, RG_TXQ_NIL);
	assert_int_equal(q.tail, RG_TXQ_NIL);
	assert_int_equal(p.nfree, 8);
	assert_int_equal(rel.total, 3);
	/* A stale fragment reference (the descriptor is free now): ignored. */
	assert_int_equal(acked(&p, &q, &rel, r2, 2, 0, 100), 0);
	assert_int_equal(rel.total, 3);
	rg_txpool_fini(&p, rg_mem_default());
}

static void
test_txq_fragments_acked_in_any_order(void **state)
{
	struct rg_txpool p;
	struct rg_txq q;
	struct rel rel = { .total = 0 };
	uint32_t rec;

	(void)state;
	setup(&p, 8);
	rg_txq_init(&q, 8, 1);
	push_ok(&p, &q, &rel, 1, 1000);
	rec = take(&p, &q, 400, 0, 400);
	take(&p, &q, 400, 400, 400);
	take(&p, &q, 400, 800, 200);
	/* The last fragment first: the record is not complete. */
	assert_int_equal(acked(&p, &q, &rel, rec, 1, 800, 200), 0);
	assert_int_equal(p.recs[rec].last_acked, 1);
	assert_int_equal(rel.total, 0);
	assert_int_equal(acked(&p, &q, &rel, rec, 1, 0, 400), 0);
	assert_int_equal(rel.total, 0);
	assert_true(rg_txq_live(&p, rec, 1));
	assert_int_equal(acked(&p, &q, &rel, rec, 1, 400, 400), 1);
	assert_int_equal(rel.count[1], 1);
	assert_int_equal(rel.total, 1);
	assert_int_equal(q.acked_seq, 1);
	assert_int_equal(q.count, 0);
	rg_txpool_fini(&p, rg_mem_default());
}

/* A lost fragment retransmitted in two pieces: the pieces' acks complete the record. */
static void
test_txq_retransmitted_pieces_complete_record(void **state)
{
	struct rg_txpool p;
	struct rg_txq q;
	struct rel rel = { .total = 0 };
	uint32_t rec;

	(void)state;
	setup(&p, 8);
	rg_txq_init(&q, 8, 5);
	push_ok(&p, &q, &rel, 5, 600);
	rec = take(&p, &q, 600, 0, 600);
	assert_int_equal(acked(&p, &q, &rel, rec, 5, 0, 250), 0);
	assert_int_equal(acked(&p, &q, &rel, rec, 5, 250, 350), 1);
	assert_int_equal(rel.count[5], 1);
	assert_int_equal(q.acked_seq, 5);
	rg_txpool_fini(&p, rg_mem_default());
}

static void
test_txq_zero_length_records(void **state)
{
	struct rg_txpool p;
	struct rg_txq q;
	struct rel rel = { .total = 0 };
	uint32_t r1, r2;

	(void)state;
	setup(&p, 8);
	rg_txq_init(&q, 8, 1);
	assert_int_equal(rg_txq_push(&p, &q, 1, 1, NULL, 0, &rel.h[1]), 0);
	assert_int_equal(rg_txq_push(&p, &q, 2, 1, NULL, 0, &rel.h[2]), 0);
	push_ok(&p, &q, &rel, 3, 5);
	assert_int_equal(rg_txq_check(&p, &q), 0);
	r1 = take(&p, &q, 100, 0, 0);
	assert_int_equal(p.recs[r1].seq, 1);
	r2 = take(&p, &q, 100, 0, 0);
	assert_int_equal(p.recs[r2].seq, 2);
	assert_int_equal(p.recs[take(&p, &q, 100, 0, 5)].seq, 3);
	assert_int_equal(acked(&p, &q, &rel, r2, 2, 0, 0), 0);
	assert_int_equal(rel.count[2], 1);
	assert_int_equal(acked(&p, &q, &rel, r1, 1, 0, 0), 1);
	assert_int_equal(rel.count[1], 1);
	assert_int_equal(q.acked_seq, 2);
	assert_int_equal(q.count, 1);
	rg_txpool_fini(&p, rg_mem_default());
}

static void
test_txq_drop_all_releases_unreleased_once(void **state)
{
	struct rg_txpool p;
	struct rg_txq q;
	struct rel rel = { .total = 0 };
	uint32_t recs[6];
	unsigned checked = 0;

	(void)state;
	setup(&p, 8);
	rg_txq_init(&q, 8, 1);
	for (uint64_t s = 1; s <= 6; s++)
		push_ok(&p, &q, &rel, s, 100);
	for (unsigned i = 0; i < 4; i++) /* 5 and 6 never sent */
		recs[i] = take(&p, &q, 100, 0, 100);
	assert_int_equal(acked(&p, &q, &rel, recs[0], 1, 0, 100), 1); /* popped */
	assert_int_equal(acked(&p, &q, &rel, recs[2], 3, 0, 100), 0); /* released, held */
	assert_int_equal(rel.total, 2);
	rg_txq_drop_all(&p, &q, 42, on_release, &rel);
	assert_int_equal(rg_txq_check(&p, &q), 0);
	for (unsigned s = 1; s <= 6; s++) {
		assert_int_equal(rel.count[s], 1);
		checked++;
	}
	assert_int_equal(checked, 6);
	assert_int_equal(rel.total, 6);
	assert_int_equal(p.nfree, 8);
	assert_int_equal(q.count, 0);
	assert_int_equal(q.next_seq, 42);
	assert_int_equal(q.acked_seq, 41);
	assert_int_equal(q.cur, RG_TXQ_NIL);
	assert_int_equal(q.records_max, 8);
	/* The queue works from its new start. */
	assert_int_equal(rg_txq_push(&p, &q, 1, 1, payload, 1, &rel.h[1]), -EINVAL);
	push_ok(&p, &q, &rel, 42, 1);
	rg_txpool_fini(&p, rg_mem_default());
}

static void
test_txq_descriptors_recycled(void **state)
{
	struct rg_txpool p;
	struct rg_txq q;
	struct rel rel = { .total = 0 };
	uint32_t first = RG_TXQ_NIL;
	unsigned cycles = 0;

	(void)state;
	setup(&p, 2);
	rg_txq_init(&q, 2, 1);
	for (uint64_t s = 1; s <= 200; s++) {
		uint32_t rec;

		push_ok(&p, &q, &rel, s, (uint32_t)(s % 50));
		rec = take(&p, &q, 100, 0, (uint32_t)(s % 50));
		if (s == 1)
			first = rec;
		assert_int_equal(acked(&p, &q, &rel, rec, s, 0, (uint32_t)(s % 50)), 1);
		assert_int_equal(q.acked_seq, s);
		cycles++;
	}
	assert_int_equal(cycles, 200);
	assert_int_equal(rel.total, 200);
	assert_int_equal(p.nfree, 2);
	/* A reference to seq 1's descriptor is dead for good. */
	assert_false(rg_txq_live(&p, first, 1));
	assert_false(rg_txq_live(&p, 99, 1)); /* out of the pool */
	rg_txpool_fini(&p, rg_mem_default());
}

static void
test_txq_check_detects_corruption(void **state)
{
	struct rg_txpool p;
	struct rg_txq q;
	struct rel rel = { .total = 0 };

	(void)state;
	setup(&p, 8);
	rg_txq_init(&q, 8, 1);
	push_ok(&p, &q, &rel, 1, 10);
	push_ok(&p, &q, &rel, 2, 10);
	q.count = 3;
	assert_int_equal(rg_txq_check(&p, &q), -1);
	q.count = 2;
	q.acked_seq = 1; /* head is seq 1: acked_seq must be 0 */
	assert_int_equal(rg_txq_check(&p, &q), -1);
	q.acked_seq = 0;
	q.next_seq = 4;
	assert_int_equal(rg_txq_check(&p, &q), -1);
	q.next_seq = 3;
	assert_int_equal(rg_txq_check(&p, &q), 0);
	rg_txpool_fini(&p, rg_mem_default());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_txq_pool_init_rejects_zero),
		cmocka_unit_test(test_txq_push_wrong_seq_is_einval),
		cmocka_unit_test(test_txq_push_full_queue_is_eagain),
		cmocka_unit_test(test_txq_push_pool_exhausted_is_eagain),
		cmocka_unit_test(test_txq_take_fragments_large_record),
		cmocka_unit_test(test_txq_acked_out_of_order_releases_once),
		cmocka_unit_test(test_txq_fragments_acked_in_any_order),
		cmocka_unit_test(test_txq_retransmitted_pieces_complete_record),
		cmocka_unit_test(test_txq_zero_length_records),
		cmocka_unit_test(test_txq_drop_all_releases_unreleased_once),
		cmocka_unit_test(test_txq_descriptors_recycled),
		cmocka_unit_test(test_txq_check_detects_corruption),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
