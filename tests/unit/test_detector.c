/* SPDX-License-Identifier: Apache-2.0 */
/* The accrual failure detector, driven with literal timestamps (ns). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common.h"
#include "detector.h"

#define MS RG_NS_PER_MS

static struct rg_detector
regular(uint64_t interval_ns, int beats, uint64_t *now)
{
	struct rg_detector_config c;
	struct rg_detector d;

	rg_detector_config_default(&c);
	rg_detector_init(&d, &c, 0);
	for (int i = 1; i <= beats; i++) {
		*now = (uint64_t)i * interval_ns;
		rg_detector_heartbeat(&d, *now);
		assert_int_equal(rg_detector_check(&d), 0);
	}
	return d;
}

static void
test_detector_regular_heartbeats_stay_alive(void **state)
{
	uint64_t now = 0;
	struct rg_detector d = regular(100 * MS, 50, &now);
	unsigned checked = 0;

	(void)state;
	assert_int_equal(d.n, 49); /* the first heartbeat only starts the clock */
	/* Right after a heartbeat, and up to a bit past the next one, the peer is ALIVE. */
	for (uint64_t t = now; t <= now + 130 * MS; t += 10 * MS, checked++)
		assert_int_equal(rg_detector_update(&d, t), RG_LIVENESS_ALIVE);
	assert_true(checked == 14);
	assert_true(rg_detector_phi(&d, now) == 0);
	assert_true(rg_detector_phi(&d, now + 100 * MS) < 1);
}

static void
test_detector_silence_suspect_then_dead_then_back(void **state)
{
	uint64_t now = 0, t;
	struct rg_detector d = regular(100 * MS, 50, &now);

	(void)state;
	/* φ grows with the silence: find when SUSPECT and DEAD come, in 1 ms steps. */
	for (t = now; rg_detector_update(&d, t) == RG_LIVENESS_ALIVE; t += MS)
		assert_true(t < now + 10 * RG_NS_PER_S);
	assert_int_equal(d.state, RG_LIVENESS_SUSPECT);
	/* With sd floored at 10 ms, φ 5 is about 4.3 sd past the 100 ms mean. */
	assert_in_range(t - now, 140 * MS, 150 * MS);
	for (; rg_detector_update(&d, t) == RG_LIVENESS_SUSPECT; t += MS)
		assert_true(t < now + 10 * RG_NS_PER_S);
	assert_int_equal(d.state, RG_LIVENESS_DEAD);
	assert_in_range(t - now, 150 * MS, 175 * MS);
	rg_detector_heartbeat(&d, t);
	assert_int_equal(d.state, RG_LIVENESS_ALIVE);
	assert_int_equal(d.transitions[RG_LIVENESS_ALIVE][RG_LIVENESS_SUSPECT], 1);
	assert_int_equal(d.transitions[RG_LIVENESS_SUSPECT][RG_LIVENESS_DEAD], 1);
	assert_int_equal(d.transitions[RG_LIVENESS_DEAD][RG_LIVENESS_ALIVE], 1);
	assert_int_equal(rg_detector_check(&d), 0);
}

static void
test_detector_jittery_peer_is_suspected_later(void **state)
{
	struct rg_detector_config c;
	struct rg_detector calm, jittery;
	uint64_t t = 0, t_calm, t_jit;

	(void)state;
	rg_detector_config_default(&c);
	rg_detector_init(&calm, &c, 0);
	rg_detector_init(&jittery, &c, 0);
	for (int i = 1; i <= 100; i++) {
		t += 100 * MS;
		rg_detector_heartbeat(&calm, t);
		rg_detector_heartbeat(&jittery, t + (i % 2 ? 60 * MS : 0)); /* 40 / 160 ms apart */
	}
	t += (100 % 2 ? 60 : 0) * MS;
	for (t_calm = t; rg_detector_update(&calm, t_calm) == RG_LIVENESS_ALIVE; t_calm += MS)
		;
	for (t_jit = t; rg_detector_update(&jittery, t_jit) == RG_LIVENESS_ALIVE; t_jit += MS)
		;
	/* Same mean interval, larger deviation: the jittery peer earns more patience. */
	assert_true(t_jit > t_calm + 50 * MS);
}

static void
test_detector_hard_bound_and_first_interval(void **state)
{
	struct rg_detector_config c;
	struct rg_detector d;

	(void)state;
	rg_detector_config_default(&c);
	rg_detector_init(&d, &c, 1000);
	/* No interval yet: the first_interval guess (100 ms, sd 25 ms) decides. */
	assert_int_equal(rg_detector_update(&d, 1000 + 150 * MS), RG_LIVENESS_ALIVE);
	assert_int_equal(rg_detector_update(&d, 1000 + 225 * MS), RG_LIVENESS_SUSPECT);
	assert_int_equal(rg_detector_update(&d, 1000 + 275 * MS), RG_LIVENESS_DEAD);
	/* A very tolerant deviation keeps φ low for seconds: only the hard bound makes it DEAD. */
	c.min_stddev_ns = 100 * RG_NS_PER_S;
	rg_detector_init(&d, &c, 1000);
	assert_int_equal(rg_detector_update(&d, 1000 + 10 * RG_NS_PER_S - 1), RG_LIVENESS_ALIVE);
	assert_int_equal(rg_detector_update(&d, 1000 + 10 * RG_NS_PER_S), RG_LIVENESS_DEAD);
}

static void
test_detector_phi_grows_with_silence(void **state)
{
	uint64_t now = 0;
	struct rg_detector d = regular(100 * MS, 20, &now);
	double prev = -1;
	unsigned checked = 0;

	(void)state;
	for (uint64_t t = now; t < now + 400 * MS; t += 5 * MS, checked++) {
		double phi = rg_detector_phi(&d, t);

		assert_true(phi >= prev);
		prev = phi;
	}
	assert_true(checked == 80 && prev > 12);
}

static void
test_detector_window_wraps(void **state)
{
	uint64_t now = 0;
	struct rg_detector d = regular(50 * MS, 3 * RG_DETECTOR_WINDOW, &now);

	(void)state;
	assert_int_equal(d.n, RG_DETECTOR_WINDOW);
	assert_int_equal(rg_detector_check(&d), 0);
	assert_true(d.sum / d.n > 49.9 * MS && d.sum / d.n < 50.1 * MS);
}

static void
test_detector_config_check(void **state)
{
	struct rg_detector_config c;

	(void)state;
	rg_detector_config_default(&c);
	assert_int_equal(rg_detector_config_check(&c), 0);
	c.dead_phi = c.suspect_phi;
	assert_int_equal(rg_detector_config_check(&c), -22);
	rg_detector_config_default(&c);
	c.first_interval_ns = 0;
	assert_int_equal(rg_detector_config_check(&c), -22);
	assert_string_equal(rg_liveness_name(RG_LIVENESS_SUSPECT), "SUSPECT");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detector_regular_heartbeats_stay_alive),
		cmocka_unit_test(test_detector_silence_suspect_then_dead_then_back),
		cmocka_unit_test(test_detector_jittery_peer_is_suspected_later),
		cmocka_unit_test(test_detector_hard_bound_and_first_interval),
		cmocka_unit_test(test_detector_phi_grows_with_silence),
		cmocka_unit_test(test_detector_window_wraps),
		cmocka_unit_test(test_detector_config_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
