/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Receiver ack ranges: insertion in and out of order, merging, duplicates,
 * the range limit and its floor, the ack deadline rules. rg_ackr_check()
 * runs after every step.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "ackr.h"

#define US RG_NS_PER_US

/* Inserts pn (asserting it was new) and checks the invariants. */
static void
put(struct rg_ackr *a, uint64_t pn, int eliciting, uint64_t now_ns)
{
	assert_false(rg_ackr_is_dup(a, pn));
	rg_ackr_insert(a, pn, eliciting, now_ns);
	assert_int_equal(rg_ackr_check(a), 0);
	assert_true(rg_ackr_is_dup(a, pn));
}

/* Asserts the ranges are exactly want[0..n) (newest first). */
static void
assert_ranges(const struct rg_ackr *a, const struct rg_pn_range *want, unsigned n)
{
	struct rg_pn_range got[RG_ACKR_RANGES_MAX];
	unsigned k = rg_ackr_ranges(a, got, RG_ACKR_RANGES_MAX);

	assert_int_equal(k, n);
	assert_int_equal(a->n, n);
	for (unsigned i = 0; i < n; i++) {
		if (got[i].lo != want[i].lo || got[i].hi != want[i].hi)
			fail_msg("range %u: got [%llu, %llu], want [%llu, %llu]", i,
				 (unsigned long long)got[i].lo, (unsigned long long)got[i].hi,
				 (unsigned long long)want[i].lo, (unsigned long long)want[i].hi);
	}
}

static void
test_ackr_reset_state(void **state)
{
	struct rg_ackr a;

	(void)state;
	memset(&a, 0x5a, sizeof(a));
	rg_ackr_reset(&a);
	assert_int_equal(rg_ackr_check(&a), 0);
	assert_false(rg_ackr_has_ranges(&a));
	assert_false(rg_ackr_is_dup(&a, 0));
	assert_false(rg_ackr_is_dup(&a, 12345));
	assert_int_equal(rg_ackr_deadline(&a, 4, 1000), RG_NS_NEVER);
	assert_int_equal(a.first_unacked_ns, RG_NS_NEVER);
}

static void
test_ackr_insert_in_order(void **state)
{
	const struct rg_pn_range want[] = { { 10, 12 } };
	struct rg_ackr a;

	(void)state;
	rg_ackr_reset(&a);
	put(&a, 10, 1, 100);
	assert_true(rg_ackr_has_ranges(&a));
	put(&a, 11, 1, 200);
	put(&a, 12, 1, 300);
	assert_ranges(&a, want, 1);
	assert_int_equal(rg_ackr_largest(&a), 12);
	assert_int_equal(a.largest_rx_ns, 300);
	assert_int_equal(a.immediate, 0);
	assert_false(rg_ackr_is_dup(&a, 13));
	assert_false(rg_ackr_is_dup(&a, 9));
	assert_int_equal(a.floor, 0);
}

static void
test_ackr_insert_out_of_order_then_fill(void **state)
{
	const struct rg_pn_range two[] = { { 12, 12 }, { 10, 10 } };
	const struct rg_pn_range one[] = { { 10, 12 } };
	struct rg_ackr a;

	(void)state;
	rg_ackr_reset(&a);
	put(&a, 10, 1, 100);
	put(&a, 12, 1, 200);
	assert_ranges(&a, two, 2);
	assert_false(rg_ackr_is_dup(&a, 11));
	put(&a, 11, 1, 300); /* fills the gap: both ranges merge */
	assert_ranges(&a, one, 1);
	/* 11 is not the largest: its arrival time does not replace 12's. */
	assert_int_equal(a.largest_rx_ns, 200);
}

static void
test_ackr_fill_gaps_merges_every_way(void **state)
{
	struct rg_ackr a;

	(void)state;
	rg_ackr_reset(&a);
	put(&a, 8, 1, 1);
	put(&a, 12, 1, 2);
	put(&a, 16, 1, 3);
	put(&a, 20, 1, 4);
	assert_ranges(
	    &a, (const struct rg_pn_range[]){ { 20, 20 }, { 16, 16 }, { 12, 12 }, { 8, 8 } }, 4);
	put(&a, 13, 1, 5); /* extends a range up */
	assert_ranges(
	    &a, (const struct rg_pn_range[]){ { 20, 20 }, { 16, 16 }, { 12, 13 }, { 8, 8 } }, 4);
	put(&a, 15, 1, 6); /* extends a range down */
	assert_ranges(
	    &a, (const struct rg_pn_range[]){ { 20, 20 }, { 15, 16 }, { 12, 13 }, { 8, 8 } }, 4);
	put(&a, 14, 1, 7); /* fills the gap: two ranges merge */
	assert_ranges(&a, (const struct rg_pn_range[]){ { 20, 20 }, { 12, 16 }, { 8, 8 } }, 3);
	put(&a, 17, 1, 8);
	put(&a, 19, 1, 9);
	assert_ranges(&a, (const struct rg_pn_range[]){ { 19, 20 }, { 12, 17 }, { 8, 8 } }, 3);
	put(&a, 18, 1, 10); /* merges into the top range */
	assert_ranges(&a, (const struct rg_pn_range[]){ { 12, 20 }, { 8, 8 } }, 2);
	put(&a, 9, 1, 11);
	put(&a, 11, 1, 12);
	assert_ranges(&a, (const struct rg_pn_range[]){ { 11, 20 }, { 8, 9 } }, 2);
	put(&a, 10, 1, 13);
	assert_ranges(&a, (const struct rg_pn_range[]){ { 8, 20 } }, 1);
	put(&a, 7, 1, 14); /* below everything, adjacent */
	put(&a, 5, 1, 15); /* below everything, a new lowest range */
	assert_ranges(&a, (const struct rg_pn_range[]){ { 7, 20 }, { 5, 5 } }, 2);
	put(&a, 6, 1, 16);
	assert_ranges(&a, (const struct rg_pn_range[]){ { 5, 20 } }, 1);
	put(&a, 22, 1, 17); /* above, with a gap */
	put(&a, 21, 1, 18);
	assert_ranges(&a, (const struct rg_pn_range[]){ { 5, 22 } }, 1);
	assert_int_equal(a.largest_rx_ns, 17);
}

static void
test_ackr_is_dup(void **state)
{
	struct rg_ackr a;
	unsigned checked = 0;
	/* received: 100..104, 110, 120..121 */
	const uint64_t rx[] = { 100, 101, 102, 103, 104, 110, 120, 121 };

	(void)state;
	rg_ackr_reset(&a);
	for (size_t i = 0; i < RG_ARRAY_SIZE(rx); i++)
		put(&a, rx[i], 1, i);
	for (uint64_t pn = 90; pn < 130; pn++) {
		int want = (pn >= 100 && pn <= 104) || pn == 110 || pn == 120 || pn == 121;

		assert_int_equal(rg_ackr_is_dup(&a, pn), want);
		checked++;
	}
	assert_int_equal(checked, 40);
}

/*
 * The replay window, with largest L = 100000 (only 100000 and 1000 received):
 *   1. L - RG_ACKR_WINDOW (34464) is new: inside the window, never seen;
 *   2. L - RG_ACKR_WINDOW - 1 (34463) is old: below the window, a duplicate;
 *   3. 1000 was received and is below the window: a duplicate either way;
 *   4. L + 1 is new; L itself a duplicate.
 */
static void
test_ackr_replay_window(void **state)
{
	struct rg_ackr a;

	(void)state;
	rg_ackr_reset(&a);
	put(&a, 1000, 1, 0);
	put(&a, 100000, 1, 1);
	assert_int_equal(a.floor, 0);
	assert_false(rg_ackr_is_dup(&a, 100000 - RG_ACKR_WINDOW));
	assert_true(rg_ackr_is_dup(&a, 100000 - RG_ACKR_WINDOW - 1));
	assert_true(rg_ackr_is_dup(&a, 1000));
	assert_true(rg_ackr_is_dup(&a, 999));
	assert_false(rg_ackr_is_dup(&a, 100001));
	assert_true(rg_ackr_is_dup(&a, 100000));
}

/* 64 single-number ranges: 10, 14, ..., 262 (three missing numbers between). */
static void
fill_max_ranges(struct rg_ackr *a)
{
	rg_ackr_reset(a);
	for (uint64_t k = 0; k < RG_ACKR_RANGES_MAX; k++)
		put(a, 10 + 4 * k, 0, k);
	assert_int_equal(a->n, RG_ACKR_RANGES_MAX);
	assert_int_equal(a->r[RG_ACKR_RANGES_MAX - 1].lo, 10);
	assert_int_equal(a->r[0].hi, 262);
}

static void
test_ackr_max_ranges_new_top_drops_lowest(void **state)
{
	struct rg_ackr a;

	(void)state;
	fill_max_ranges(&a);
	put(&a, 270, 0, 100);
	assert_int_equal(a.n, RG_ACKR_RANGES_MAX);
	assert_int_equal(a.r[0].lo, 270);
	assert_int_equal(a.r[RG_ACKR_RANGES_MAX - 1].lo, 14);
	assert_int_equal(a.floor, 11);
	/* Below floor counts as received: the forgotten 10 and the never-seen 0..9. */
	assert_true(rg_ackr_is_dup(&a, 10));
	assert_true(rg_ackr_is_dup(&a, 3));
	assert_false(rg_ackr_is_dup(&a, 11));
	assert_false(rg_ackr_is_dup(&a, 13));
}

static void
test_ackr_max_ranges_new_middle_drops_lowest(void **state)
{
	struct rg_ackr a;

	(void)state;
	fill_max_ranges(&a);
	put(&a, 68, 1, 100); /* between 66 and 70, touching neither: a 65th range */
	assert_int_equal(a.n, RG_ACKR_RANGES_MAX);
	assert_int_equal(a.floor, 11);
	assert_int_equal(a.r[RG_ACKR_RANGES_MAX - 1].lo, 14);
	assert_true(rg_ackr_is_dup(&a, 68));
	assert_false(rg_ackr_is_dup(&a, 67));
	assert_int_equal(a.immediate, 1);
}

static void
test_ackr_max_ranges_new_second_lowest(void **state)
{
	struct rg_ackr a;

	(void)state;
	rg_ackr_reset(&a);
	put(&a, 4, 0, 0);
	for (uint64_t k = 1; k < RG_ACKR_RANGES_MAX; k++)
		put(&a, 10 + 2 * k, 0, k); /* 12 .. 136 */
	assert_int_equal(a.n, RG_ACKR_RANGES_MAX);
	/* 8 goes between [12,12] and [4,4]: the lowest ([4,4]) is forgotten, 8 is kept. */
	put(&a, 8, 0, 100);
	assert_int_equal(a.n, RG_ACKR_RANGES_MAX);
	assert_int_equal(a.floor, 5);
	assert_int_equal(a.r[RG_ACKR_RANGES_MAX - 1].lo, 8);
	assert_int_equal(a.r[RG_ACKR_RANGES_MAX - 1].hi, 8);
	assert_int_equal(a.r[RG_ACKR_RANGES_MAX - 2].lo, 12);
	assert_false(rg_ackr_is_dup(&a, 6));
	assert_false(rg_ackr_is_dup(&a, 9));
	assert_true(rg_ackr_is_dup(&a, 4));
}

static void
test_ackr_max_ranges_new_below_all(void **state)
{
	struct rg_ackr a;

	(void)state;
	fill_max_ranges(&a);
	/* 5 is above the floor (0) but below every range and not adjacent to [10,10]. */
	put(&a, 5, 1, 100);
	/* The lowest range is forgotten, and 5 below it too: floor rises above [10,10]. */
	assert_int_equal(a.floor, 11);
	assert_int_equal(a.n, RG_ACKR_RANGES_MAX - 1);
	assert_int_equal(a.r[a.n - 1].lo, 14);
	assert_int_equal(a.r[0].hi, 262);
	assert_true(rg_ackr_is_dup(&a, 5));
	assert_true(rg_ackr_is_dup(&a, 10));
	assert_false(rg_ackr_is_dup(&a, 13));
	/* Out of order: an immediate ack. */
	assert_int_equal(rg_ackr_deadline(&a, 4, 1000), 0);
}

static void
test_ackr_deadline_every_n(void **state)
{
	struct rg_ackr a;

	(void)state;
	rg_ackr_reset(&a);
	put(&a, 1, 1, 1000);
	assert_int_equal(rg_ackr_deadline(&a, 4, 200 * US), 1000 + 200000);
	put(&a, 2, 1, 2000);
	put(&a, 3, 1, 3000);
	/* Still timed from the first unacked packet. */
	assert_int_equal(rg_ackr_deadline(&a, 4, 200 * US), 201000);
	put(&a, 4, 1, 4000);
	assert_int_equal(rg_ackr_deadline(&a, 4, 200 * US), 0);
	assert_int_equal(rg_ackr_deadline(&a, 5, 200 * US), 201000);
	rg_ackr_on_ack_sent(&a);
	assert_int_equal(rg_ackr_deadline(&a, 4, 200 * US), RG_NS_NEVER);
	assert_int_equal(rg_ackr_check(&a), 0);
	/* The next one starts a new delay. */
	put(&a, 5, 1, 9000);
	assert_int_equal(rg_ackr_deadline(&a, 4, 200 * US), 209000);
}

static void
test_ackr_deadline_not_eliciting(void **state)
{
	struct rg_ackr a;

	(void)state;
	rg_ackr_reset(&a);
	put(&a, 1, 0, 1000);
	put(&a, 3, 0, 2000); /* out of order but ack-only: no ack for acks */
	assert_int_equal(rg_ackr_deadline(&a, 1, 200 * US), RG_NS_NEVER);
	assert_int_equal(a.immediate, 0);
	assert_true(rg_ackr_has_ranges(&a));
	put(&a, 4, 1, 3000);
	assert_int_equal(rg_ackr_deadline(&a, 4, 200 * US), 203000);
}

static void
test_ackr_deadline_immediate_on_out_of_order(void **state)
{
	struct rg_ackr a;

	(void)state;
	rg_ackr_reset(&a);
	put(&a, 10, 1, 1000);
	put(&a, 12, 1, 2000); /* a gap: ack now */
	assert_int_equal(rg_ackr_deadline(&a, 100, 200 * US), 0);
	rg_ackr_on_ack_sent(&a);
	assert_int_equal(rg_ackr_deadline(&a, 100, 200 * US), RG_NS_NEVER);
	put(&a, 11, 1, 3000); /* filling the gap is out of order as well */
	assert_int_equal(rg_ackr_deadline(&a, 100, 200 * US), 0);
	rg_ackr_on_ack_sent(&a);
	put(&a, 13, 1, 4000); /* in order again */
	assert_int_equal(rg_ackr_deadline(&a, 100, 200 * US), 204000);
}

static void
test_ackr_ranges_output_limited(void **state)
{
	struct rg_pn_range out[RG_ACKR_RANGES_MAX];
	struct rg_ackr a;

	(void)state;
	rg_ackr_reset(&a);
	for (uint64_t k = 0; k < 40; k++)
		put(&a, 1000 - 3 * k, 1, k); /* descending, gaps of 2 */
	assert_int_equal(a.n, 40);
	assert_int_equal(rg_ackr_ranges(&a, out, RG_ACK_RANGES_MAX), RG_ACK_RANGES_MAX);
	for (unsigned i = 0; i < RG_ACK_RANGES_MAX; i++) {
		assert_int_equal(out[i].hi, 1000 - 3 * i);
		assert_int_equal(out[i].lo, 1000 - 3 * i);
	}
	assert_int_equal(rg_ackr_ranges(&a, out, 1), 1);
	assert_int_equal(out[0].hi, 1000);
	assert_int_equal(rg_ackr_largest(&a), 1000);
}

static void
test_ackr_check_detects_corruption(void **state)
{
	struct rg_ackr a;

	(void)state;
	rg_ackr_reset(&a);
	put(&a, 10, 1, 0);
	put(&a, 20, 1, 0);
	a.r[1].hi = 19; /* touches r[0]: must have been merged */
	assert_int_equal(rg_ackr_check(&a), -1);
	a.r[1].hi = 10;
	assert_int_equal(rg_ackr_check(&a), 0);
	a.floor = 11; /* a range below floor */
	assert_int_equal(rg_ackr_check(&a), -1);
	a.floor = 0;
	a.r[0].lo = 21; /* lo > hi */
	assert_int_equal(rg_ackr_check(&a), -1);
}

/* Random arrivals against a bitmap model: is_dup is exact above floor. */
static void
test_ackr_random_against_model(void **state)
{
	enum {
		N = 600
	};
	static uint8_t received[N];
	uint64_t rng = 1234;
	unsigned checked = 0, inserted = 0;
	struct rg_ackr a;

	(void)state;
	rg_ackr_reset(&a);
	memset(received, 0, sizeof(received));
	for (unsigned step = 0; step < 3000; step++) {
		uint64_t pn = rg_splitmix64(&rng) % N;

		if (rg_ackr_is_dup(&a, pn)) {
			assert_true(received[pn] || pn < a.floor);
			continue;
		}
		assert_false(received[pn]);
		put(&a, pn, (int)(pn & 1), step);
		received[pn] = 1;
		inserted++;
		for (uint64_t q = 0; q < N; q++) {
			assert_int_equal(rg_ackr_is_dup(&a, q), received[q] || q < a.floor);
			checked++;
		}
	}
	assert_true(inserted > 100);
	assert_true(checked > 0);
	assert_true(a.floor > 0); /* the range limit was hit */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ackr_reset_state),
		cmocka_unit_test(test_ackr_insert_in_order),
		cmocka_unit_test(test_ackr_insert_out_of_order_then_fill),
		cmocka_unit_test(test_ackr_fill_gaps_merges_every_way),
		cmocka_unit_test(test_ackr_is_dup),
		cmocka_unit_test(test_ackr_replay_window),
		cmocka_unit_test(test_ackr_max_ranges_new_top_drops_lowest),
		cmocka_unit_test(test_ackr_max_ranges_new_middle_drops_lowest),
		cmocka_unit_test(test_ackr_max_ranges_new_second_lowest),
		cmocka_unit_test(test_ackr_max_ranges_new_below_all),
		cmocka_unit_test(test_ackr_deadline_every_n),
		cmocka_unit_test(test_ackr_deadline_not_eliciting),
		cmocka_unit_test(test_ackr_deadline_immediate_on_out_of_order),
		cmocka_unit_test(test_ackr_ranges_output_limited),
		cmocka_unit_test(test_ackr_check_detects_corruption),
		cmocka_unit_test(test_ackr_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
