/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RTT estimator (RFC 9002 §5): every expected value below is worked out by
 * hand in the comment next to it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common.h"
#include "rtt.h"

#define MS RG_NS_PER_MS

static void
test_rtt_init_before_samples(void **state)
{
	struct rg_rtt r;

	(void)state;
	rg_rtt_init(&r, 100 * MS);
	assert_int_equal(r.smoothed_ns, 100000000);
	assert_int_equal(r.var_ns, 50000000);
	assert_int_equal(r.min_ns, RG_NS_NEVER);
	assert_int_equal(r.latest_ns, 0);
	assert_int_equal(r.samples, 0);
	/* 100 ms + max(4 * 50 ms, 1 ms) + 25 ms */
	assert_int_equal(rg_rtt_pto_ns(&r, 1 * MS, 25 * MS), 325000000);
	/* 9/8 * max(100 ms, 0) */
	assert_int_equal(rg_rtt_loss_delay_ns(&r, 1 * MS), 112500000);
}

static void
test_rtt_first_sample_sets_everything(void **state)
{
	struct rg_rtt r;

	(void)state;
	rg_rtt_init(&r, 100 * MS);
	/* The first sample is min_rtt itself, so the 3 ms ack delay cannot be subtracted. */
	rg_rtt_sample(&r, 10 * MS, 3 * MS, 25 * MS);
	assert_int_equal(r.latest_ns, 10000000);
	assert_int_equal(r.min_ns, 10000000);
	assert_int_equal(r.smoothed_ns, 10000000);
	assert_int_equal(r.var_ns, 5000000);
	assert_int_equal(r.samples, 1);
}

static void
test_rtt_ewma_updates(void **state)
{
	struct rg_rtt r;

	(void)state;
	rg_rtt_init(&r, 100 * MS);
	rg_rtt_sample(&r, 10 * MS, 0, 25 * MS);
	/* dev = |10 - 20| = 10 ms; var = (3 * 5 + 10) / 4 = 6.25 ms; srtt = (7 * 10 + 20) / 8 = 11.25 ms */
	rg_rtt_sample(&r, 20 * MS, 0, 25 * MS);
	assert_int_equal(r.var_ns, 6250000);
	assert_int_equal(r.smoothed_ns, 11250000);
	assert_int_equal(r.min_ns, 10000000);
	assert_int_equal(r.latest_ns, 20000000);
	assert_int_equal(r.samples, 2);
	/*
	 * 30 ms with 5 ms ack delay: 30 >= 10 + 5, so adjusted = 25 ms.
	 * dev = |11.25 - 25| = 13.75 ms; var = (3 * 6.25 + 13.75) / 4 = 8.125 ms;
	 * srtt = (7 * 11.25 + 25) / 8 = 12.96875 ms.
	 */
	rg_rtt_sample(&r, 30 * MS, 5 * MS, 25 * MS);
	assert_int_equal(r.var_ns, 8125000);
	assert_int_equal(r.smoothed_ns, 12968750);
	assert_int_equal(r.latest_ns, 30000000); /* latest is the raw sample */
	assert_int_equal(r.min_ns, 10000000);
	/*
	 * 12 ms with 5 ms ack delay: 12 < 10 + 5, so the delay is not subtracted (min_rtt guard).
	 * dev = 12.96875 - 12 = 0.96875 ms; var = (3 * 8.125 + 0.96875) / 4 = 6.3359375 ms → 6335937 ns;
	 * srtt = (7 * 12.96875 + 12) / 8 = 12.84765625 ms → 12847656 ns.
	 */
	rg_rtt_sample(&r, 12 * MS, 5 * MS, 25 * MS);
	assert_int_equal(r.var_ns, 6335937);
	assert_int_equal(r.smoothed_ns, 12847656);
	assert_int_equal(r.latest_ns, 12000000);
	assert_int_equal(r.samples, 4);
}

static void
test_rtt_ack_delay_capped_at_max(void **state)
{
	struct rg_rtt r;

	(void)state;
	rg_rtt_init(&r, 100 * MS);
	rg_rtt_sample(&r, 10 * MS, 0, 5 * MS);
	/* 50 ms claimed, 5 ms max: adjusted = 40 - 5 = 35 ms; dev = 25 ms;
	 * var = (3 * 5 + 25) / 4 = 10 ms; srtt = (7 * 10 + 35) / 8 = 13.125 ms. */
	rg_rtt_sample(&r, 40 * MS, 50 * MS, 5 * MS);
	assert_int_equal(r.var_ns, 10000000);
	assert_int_equal(r.smoothed_ns, 13125000);
}

static void
test_rtt_ack_delay_guard_exact_boundary(void **state)
{
	struct rg_rtt r;

	(void)state;
	rg_rtt_init(&r, 100 * MS);
	rg_rtt_sample(&r, 10 * MS, 0, 25 * MS);
	/* 15 ms with 5 ms delay: 15 >= 10 + 5 exactly, subtracted: adjusted 10 ms, dev 0;
	 * var = 3 * 5 / 4 = 3.75 ms; srtt stays 10 ms. */
	rg_rtt_sample(&r, 15 * MS, 5 * MS, 25 * MS);
	assert_int_equal(r.smoothed_ns, 10000000);
	assert_int_equal(r.var_ns, 3750000);
	/* 14999999 ns with 5 ms: below min + delay, not subtracted: dev 4999999;
	 * var = (3 * 3750000 + 4999999) / 4 = 4062499; srtt = (70000000 + 14999999) / 8 = 10624999. */
	rg_rtt_sample(&r, 14999999, 5 * MS, 25 * MS);
	assert_int_equal(r.var_ns, 4062499);
	assert_int_equal(r.smoothed_ns, 10624999);
}

static void
test_rtt_min_tracks_lowest_sample(void **state)
{
	struct rg_rtt r;

	(void)state;
	rg_rtt_init(&r, 100 * MS);
	rg_rtt_sample(&r, 10 * MS, 0, 0);
	rg_rtt_sample(&r, 8 * MS, 0, 0);
	rg_rtt_sample(&r, 9 * MS, 0, 0);
	assert_int_equal(r.min_ns, 8000000);
	assert_int_equal(r.latest_ns, 9000000);
}

static void
test_rtt_pto_formula(void **state)
{
	struct rg_rtt r;

	(void)state;
	rg_rtt_init(&r, 100 * MS);
	rg_rtt_sample(&r, 10 * MS, 0, 25 * MS);
	rg_rtt_sample(&r, 20 * MS, 0, 25 * MS);
	rg_rtt_sample(&r, 30 * MS, 5 * MS, 25 * MS);
	/* srtt 12.96875 ms + max(4 * 8.125 ms, 1 ms) + 25 ms = 70.46875 ms */
	assert_int_equal(rg_rtt_pto_ns(&r, 1 * MS, 25 * MS), 70468750);
	/* granularity above 4 * var: 12.96875 + 40 + 0 */
	assert_int_equal(rg_rtt_pto_ns(&r, 40 * MS, 0), 52968750);
}

static void
test_rtt_pto_granularity_floor(void **state)
{
	struct rg_rtt r;

	(void)state;
	rg_rtt_init(&r, 100 * MS);
	rg_rtt_sample(&r, 1000, 0, 0);
	/* srtt 1 µs, var 0.5 µs: 1000 + max(2000, 1 ms) + 0 */
	assert_int_equal(rg_rtt_pto_ns(&r, 1 * MS, 0), 1001000);
	assert_int_equal(rg_rtt_pto_ns(&r, 1000, 200000), 1000 + 2000 + 200000);
}

static void
test_rtt_loss_delay_formula(void **state)
{
	struct rg_rtt r;

	(void)state;
	rg_rtt_init(&r, 100 * MS);
	rg_rtt_sample(&r, 10 * MS, 0, 25 * MS);
	rg_rtt_sample(&r, 20 * MS, 0, 25 * MS);
	/* max(srtt 11.25, latest 20) = 20 ms; 9/8 of it = 22.5 ms */
	assert_int_equal(rg_rtt_loss_delay_ns(&r, 1 * MS), 22500000);
	rg_rtt_sample(&r, 11 * MS, 0, 25 * MS);
	/* srtt = (7 * 11.25 + 11) / 8 = 11.21875 ms > latest 11 ms; 9/8 → 12.62109375 ms */
	assert_int_equal(r.smoothed_ns, 11218750);
	assert_int_equal(rg_rtt_loss_delay_ns(&r, 1 * MS), 11218750 + 11218750 / 8);
	assert_int_equal(rg_rtt_loss_delay_ns(&r, 1 * MS), 12621093);
	/* granularity floor */
	assert_int_equal(rg_rtt_loss_delay_ns(&r, 50 * MS), 50000000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtt_init_before_samples),
		cmocka_unit_test(test_rtt_first_sample_sets_everything),
		cmocka_unit_test(test_rtt_ewma_updates),
		cmocka_unit_test(test_rtt_ack_delay_capped_at_max),
		cmocka_unit_test(test_rtt_ack_delay_guard_exact_boundary),
		cmocka_unit_test(test_rtt_min_tracks_lowest_sample),
		cmocka_unit_test(test_rtt_pto_formula),
		cmocka_unit_test(test_rtt_pto_granularity_floor),
		cmocka_unit_test(test_rtt_loss_delay_formula),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
