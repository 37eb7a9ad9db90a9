/* SPDX-License-Identifier: Apache-2.0 */
/* Pacing token bucket: exact refill arithmetic with literal timestamps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common.h"
#include "pacer.h"

static void
test_pacer_unpaced_always_ready(void **state)
{
	struct rg_pacer p;
	unsigned checked = 0;

	(void)state;
	rg_pacer_init(&p, 0, 3000, 0);
	for (uint64_t t = 0; t < 5; t++) {
		assert_true(rg_pacer_ready(&p, 1000000, t));
		rg_pacer_consume(&p, 1000000);
		assert_int_equal(rg_pacer_next_ns(&p, 1000000, t), t);
		checked++;
	}
	assert_int_equal(checked, 5);
	assert_int_equal(p.tokens, 3000 * RG_NS_PER_S); /* consume does not count when unpaced */
}

static void
test_pacer_starts_full(void **state)
{
	struct rg_pacer p;

	(void)state;
	rg_pacer_init(&p, 1000000, 3000, 500);
	assert_int_equal(p.tokens, 3000 * RG_NS_PER_S);
	assert_true(rg_pacer_ready(&p, 3000, 500));
	assert_int_equal(rg_pacer_next_ns(&p, 3000, 500), 500);
}

static void
test_pacer_refills_exactly(void **state)
{
	struct rg_pacer p;

	(void)state;
	/* 1,000,000 B/s is 1 byte per µs: 1000 bytes take exactly 1 ms. */
	rg_pacer_init(&p, 1000000, 3000, 0);
	assert_true(rg_pacer_ready(&p, 3000, 0));
	rg_pacer_consume(&p, 3000);
	assert_int_equal(p.tokens, 0);
	assert_false(rg_pacer_ready(&p, 1, 0));
	assert_false(rg_pacer_ready(&p, 1000, 999999));
	assert_true(rg_pacer_ready(&p, 1000, 1000000));
	assert_false(rg_pacer_ready(&p, 1001, 1000000));
	rg_pacer_consume(&p, 1000);
	assert_int_equal(p.tokens, 0);
	/* One more byte after 1 µs. */
	assert_false(rg_pacer_ready(&p, 1, 1000999));
	assert_true(rg_pacer_ready(&p, 1, 1001000));
}

static void
test_pacer_refill_caps_at_burst(void **state)
{
	struct rg_pacer p;

	(void)state;
	rg_pacer_init(&p, 1000000, 3000, 0);
	rg_pacer_consume(&p, 3000);
	/* 10 s idle would earn 10 MB; the bucket holds 3000 bytes. */
	assert_true(rg_pacer_ready(&p, 3000, 10 * RG_NS_PER_S));
	assert_int_equal(p.tokens, 3000 * RG_NS_PER_S);
	rg_pacer_consume(&p, 3000);
	assert_false(rg_pacer_ready(&p, 1, 10 * RG_NS_PER_S));
	/* Just below the time it takes to fill: 2999 µs earn 2999 bytes. */
	assert_true(rg_pacer_ready(&p, 2999, 10 * RG_NS_PER_S + 2999000));
	assert_false(rg_pacer_ready(&p, 3000, 10 * RG_NS_PER_S + 2999000));
	assert_true(rg_pacer_ready(&p, 3000, 10 * RG_NS_PER_S + 3000000));
}

static void
test_pacer_oversized_packet_needs_full_bucket(void **state)
{
	struct rg_pacer p;

	(void)state;
	rg_pacer_init(&p, 1000000, 3000, 0);
	/* A packet larger than the burst may leave when the bucket is full. */
	assert_true(rg_pacer_ready(&p, 9000, 0));
	rg_pacer_consume(&p, 9000); /* does not go below empty */
	assert_int_equal(p.tokens, 0);
	assert_int_equal(rg_pacer_next_ns(&p, 9000, 0), 3000000);
	assert_false(rg_pacer_ready(&p, 9000, 2999999));
	assert_true(rg_pacer_ready(&p, 9000, 3000000));
}

static void
test_pacer_next_ns(void **state)
{
	struct rg_pacer p;

	(void)state;
	rg_pacer_init(&p, 1000000, 3000, 0);
	rg_pacer_consume(&p, 3000);
	assert_int_equal(rg_pacer_next_ns(&p, 1000, 0), 1000000);
	assert_int_equal(rg_pacer_next_ns(&p, 3000, 0), 3000000);
	/* At 0.5 ms the bucket has 500 bytes: the other 500 take 0.5 ms more. */
	assert_int_equal(rg_pacer_next_ns(&p, 1000, 500000), 1000000);
	/* Ready now: now. */
	assert_int_equal(rg_pacer_next_ns(&p, 500, 500000), 500000);
	/* Fractions of a ns round up: 1 byte at 3 B/s is 333333333.3 ns. */
	rg_pacer_init(&p, 3, 10, 0);
	rg_pacer_consume(&p, 10);
	assert_int_equal(rg_pacer_next_ns(&p, 1, 0), 333333334);
	assert_false(rg_pacer_ready(&p, 1, 333333333));
	assert_true(rg_pacer_ready(&p, 1, 333333334));
}

static void
test_pacer_rate_change_keeps_earned_tokens(void **state)
{
	struct rg_pacer p;

	(void)state;
	rg_pacer_init(&p, 1000000, 3000, 0);
	rg_pacer_consume(&p, 3000);
	/* 1 ms at 1 MB/s earned 1000 bytes; then 0.5 ms at 2 MB/s earns 1000 more. */
	rg_pacer_set_rate(&p, 2000000, 1000000);
	assert_int_equal(p.tokens, 1000 * RG_NS_PER_S);
	assert_false(rg_pacer_ready(&p, 2001, 1500000));
	assert_true(rg_pacer_ready(&p, 2000, 1500000));
	assert_int_equal(rg_pacer_next_ns(&p, 3000, 1500000), 2000000);
}

static void
test_pacer_rate_change_from_and_to_unpaced(void **state)
{
	struct rg_pacer p;

	(void)state;
	rg_pacer_init(&p, 0, 3000, 0);
	/* Unpaced time does not count as earning: pacing starts at the switch. */
	rg_pacer_set_rate(&p, 1000000, 5000000);
	assert_int_equal(p.last_ns, 5000000);
	assert_true(rg_pacer_ready(&p, 3000, 5000000));
	rg_pacer_consume(&p, 3000);
	assert_false(rg_pacer_ready(&p, 1000, 5999999));
	assert_true(rg_pacer_ready(&p, 1000, 6000000));
	rg_pacer_consume(&p, 1000);
	rg_pacer_set_rate(&p, 0, 6000000);
	assert_true(rg_pacer_ready(&p, 100000, 6000000));
	assert_int_equal(rg_pacer_next_ns(&p, 100000, 6000000), 6000000);
}

static void
test_pacer_time_going_back_earns_nothing(void **state)
{
	struct rg_pacer p;

	(void)state;
	rg_pacer_init(&p, 1000000, 3000, 0);
	rg_pacer_consume(&p, 3000);
	assert_true(rg_pacer_ready(&p, 1000, 1000000));
	rg_pacer_consume(&p, 1000);
	assert_false(rg_pacer_ready(&p, 1, 500000));
	assert_int_equal(p.last_ns, 1000000);
	assert_false(rg_pacer_ready(&p, 1000, 1999999));
	assert_true(rg_pacer_ready(&p, 1000, 2000000));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pacer_unpaced_always_ready),
		cmocka_unit_test(test_pacer_starts_full),
		cmocka_unit_test(test_pacer_refills_exactly),
		cmocka_unit_test(test_pacer_refill_caps_at_burst),
		cmocka_unit_test(test_pacer_oversized_packet_needs_full_bucket),
		cmocka_unit_test(test_pacer_next_ns),
		cmocka_unit_test(test_pacer_rate_change_keeps_earned_tokens),
		cmocka_unit_test(test_pacer_rate_change_from_and_to_unpaced),
		cmocka_unit_test(test_pacer_time_going_back_earns_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
