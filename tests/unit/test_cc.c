/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lane's pacing controller (cc.h), driven with literal timestamps and
 * hand-made rate samples. A test "lane" turns (bandwidth, RTT, in flight)
 * into one ACK's rate sample; each ACK closes one round trip, so a test can
 * step the model round by round. rg_cc_check runs after every step.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cc.h"
#include "common.h"

#define PKT    1000u
#define RTT_NS (100 * RG_NS_PER_MS)

struct lane {
	struct rg_cc cc;
	uint64_t now_ns;
	uint64_t delivered_bytes;
};

static void
lane_init(struct lane *l, enum rg_pacing pacing, uint64_t rate, uint32_t seed)
{
	struct rg_cc_config cfg = { .pacing = pacing,
				    .rate_bytes_per_s = rate,
				    .cwnd_bytes_max = 100u << 20,
				    .pkt_bytes = PKT,
				    .initial_rtt_ns = RTT_NS };

	l->now_ns = 1000;
	l->delivered_bytes = 0;
	rg_cc_init(&l->cc, &cfg, seed, l->now_ns);
	assert_int_equal(rg_cc_check(&l->cc), 0);
}

/* One ACK after dt_ns: bw bytes/s measured over one RTT of rtt_ns, one round trip closed. */
static void
ack(struct lane *l, uint64_t bw, uint64_t rtt_ns, uint64_t inflight, uint64_t dt_ns)
{
	uint64_t acked = bw * rtt_ns / RG_NS_PER_S;
	struct rg_rate_sample rs = { .delivered_bytes = acked,
				     .interval_ns = rtt_ns,
				     .prior_delivered_bytes = l->delivered_bytes,
				     .newly_acked_bytes = acked,
				     .rtt_ns = rtt_ns,
				     .valid = 1 };

	l->now_ns += dt_ns;
	l->delivered_bytes += acked;
	rs.lane_delivered_bytes = l->delivered_bytes;
	rg_cc_on_ack(&l->cc, &rs, rtt_ns, inflight, l->now_ns);
	assert_int_equal(rg_cc_check(&l->cc), 0);
}

/* STARTUP, doubling for 4 rounds to 8 MB/s, then flat until the pipe is full. */
static void
to_probe_bw(struct lane *l)
{
	for (uint64_t bw = 1000000; bw <= 8000000; bw *= 2)
		ack(l, bw, RTT_NS, 0, RTT_NS);
	for (int i = 0; i < RG_CC_FULL_BW_ROUNDS; i++)
		ack(l, 8000000, RTT_NS, 0, RTT_NS);
	assert_int_equal(l->cc.state, RG_CC_PROBE_BW);
}

static void
test_cc_maxfilt_keeps_max_within_window(void **state)
{
	struct rg_cc_maxfilt f;

	(void)state;
	rg_cc_maxfilt_reset(&f, 0, 0);
	rg_cc_maxfilt_update(&f, 10, 1, 500);
	assert_int_equal(rg_cc_maxfilt_get(&f), 500);
	/* Lower samples do not replace the max while it is within 10 rounds. */
	for (uint64_t r = 2; r <= 11; r++) {
		rg_cc_maxfilt_update(&f, 10, r, 300 - r);
		assert_int_equal(rg_cc_maxfilt_get(&f), 500);
	}
	/* Round 12: the 500 of round 1 is 11 rounds old; the best of the rest takes over. */
	rg_cc_maxfilt_update(&f, 10, 12, 100);
	assert_true(rg_cc_maxfilt_get(&f) < 500);
	assert_true(rg_cc_maxfilt_get(&f) >= 100);
	/* A higher sample wins at once. */
	rg_cc_maxfilt_update(&f, 10, 13, 900);
	assert_int_equal(rg_cc_maxfilt_get(&f), 900);
	/* A long silence: the next sample is all that counts. */
	rg_cc_maxfilt_update(&f, 10, 100, 7);
	assert_int_equal(rg_cc_maxfilt_get(&f), 7);
}

static void
test_cc_maxfilt_follows_a_falling_rate(void **state)
{
	struct rg_cc_maxfilt f;

	(void)state;
	rg_cc_maxfilt_reset(&f, 0, 1000);
	/* The rate falls 10 per round: the estimate lags by at most the window (10 rounds). */
	for (uint64_t r = 1; r <= 60; r++) {
		uint64_t v = 1000 - 10 * r;

		rg_cc_maxfilt_update(&f, 10, r, v);
		assert_true(rg_cc_maxfilt_get(&f) >= v);
		assert_true(rg_cc_maxfilt_get(&f) <= v + 10 * 11);
		assert_true(f.s[0].v >= f.s[1].v && f.s[1].v >= f.s[2].v);
	}
}

static void
test_cc_fixed_window_from_rate_and_rtt(void **state)
{
	struct lane l;

	(void)state;
	/* 10 MB/s: the initial window is 2 × 10 MB/s × 100 ms = 2 MB. */
	lane_init(&l, RG_PACING_FIXED, 10000000, 0);
	assert_int_equal(l.cc.state, RG_CC_FIXED);
	assert_int_equal(rg_cc_pacing_rate(&l.cc), 10000000);
	assert_int_equal(rg_cc_cwnd(&l.cc), 2000000);
	/* srtt 30 ms: 600 kB. */
	ack(&l, 0, 30 * RG_NS_PER_MS, 0, RG_NS_PER_MS);
	assert_int_equal(rg_cc_cwnd(&l.cc), 600000);
	/* srtt 1 ms: 20 kB, under the floor. */
	ack(&l, 0, RG_NS_PER_MS, 0, RG_NS_PER_MS);
	assert_int_equal(rg_cc_cwnd(&l.cc), RG_CC_FIXED_WINDOW_MIN);
	/* srtt 60 s: capped at cwnd_bytes_max. */
	ack(&l, 0, 60 * RG_NS_PER_S, 0, RG_NS_PER_MS);
	assert_int_equal(rg_cc_cwnd(&l.cc), 100u << 20);
	assert_int_equal(rg_cc_pacing_rate(&l.cc), 10000000);
	assert_int_equal(rg_cc_btl_bw(&l.cc), 10000000);
}

static void
test_cc_fixed_unpaced_window_is_the_max(void **state)
{
	struct lane l;

	(void)state;
	lane_init(&l, RG_PACING_FIXED, 0, 0);
	assert_int_equal(rg_cc_pacing_rate(&l.cc), 0);
	assert_int_equal(rg_cc_cwnd(&l.cc), 100u << 20);
	ack(&l, 5000000, RG_NS_PER_MS, 0, RG_NS_PER_MS);
	assert_int_equal(rg_cc_cwnd(&l.cc), 100u << 20);
}

static void
test_cc_fixed_no_backoff_on_loss(void **state)
{
	struct lane l;

	(void)state;
	lane_init(&l, RG_PACING_FIXED, 10000000, 0);
	for (int i = 0; i < 100; i++) {
		rg_cc_on_loss(&l.cc, 50 * PKT, l.now_ns);
		ack(&l, 1000, RTT_NS, 0, RG_NS_PER_MS);
	}
	assert_int_equal(rg_cc_pacing_rate(&l.cc), 10000000);
	assert_int_equal(rg_cc_cwnd(&l.cc), 2000000);
	assert_int_equal(l.cc.lost_bytes, 100 * 50 * PKT);
}

static void
test_cc_startup_exits_when_bw_stops_growing(void **state)
{
	struct lane l;

	(void)state;
	lane_init(&l, RG_PACING_ADAPTIVE, 0, 0);
	assert_int_equal(l.cc.state, RG_CC_STARTUP);
	/* Before any sample: 2.885 × the initial window (16 packets) per initial RTT. */
	assert_int_equal(rg_cc_pacing_rate(&l.cc), 16 * PKT * 2885 / 100);
	for (uint64_t bw = 1000000; bw <= 8000000; bw *= 2) {
		ack(&l, bw, RTT_NS, 0, RTT_NS);
		assert_int_equal(l.cc.state, RG_CC_STARTUP);
		assert_false(l.cc.filled_pipe);
	}
	/* Growth under 25 %: rounds 1 and 2 stay in STARTUP, round 3 fills the pipe. */
	ack(&l, 9000000, RTT_NS, 10u << 20, RTT_NS);
	ack(&l, 8000000, RTT_NS, 10u << 20, RTT_NS);
	assert_int_equal(l.cc.state, RG_CC_STARTUP);
	ack(&l, 8000000, RTT_NS, 10u << 20, RTT_NS);
	assert_true(l.cc.filled_pipe);
	/* DRAIN while more than one BDP (9 MB/s × 100 ms = 900 kB) is in flight. */
	assert_int_equal(l.cc.state, RG_CC_DRAIN);
	assert_int_equal(l.cc.pacing_gain, RG_CC_DRAIN_GAIN);
	ack(&l, 9000000, RTT_NS, 900001, RG_NS_PER_MS);
	assert_int_equal(l.cc.state, RG_CC_DRAIN);
	ack(&l, 9000000, RTT_NS, 900000, RG_NS_PER_MS);
	assert_int_equal(l.cc.state, RG_CC_PROBE_BW);
	assert_int_equal(rg_cc_btl_bw(&l.cc), 9000000);
}

static void
test_cc_startup_keeps_going_while_bw_grows(void **state)
{
	struct lane l;
	uint64_t bw = 100000, last = 0;

	(void)state;
	lane_init(&l, RG_PACING_ADAPTIVE, 0, 0);
	/* 30 % more each round, 20 rounds: never a plateau. */
	for (int i = 0; i < 20; i++, bw = bw * 13 / 10) {
		ack(&l, bw, RTT_NS, 0, RTT_NS);
		last = bw;
	}
	assert_int_equal(l.cc.state, RG_CC_STARTUP);
	assert_false(l.cc.filled_pipe);
	/* Pacing at 2.885 x the latest (highest) estimate, less the 1 % margin. */
	assert_int_equal(rg_cc_btl_bw(&l.cc), last / 10 * 10); /* bytes acked per 100 ms, whole */
	assert_int_equal(rg_cc_pacing_rate(&l.cc), rg_cc_btl_bw(&l.cc) * 2885 * 99 / 100000);
}

static void
test_cc_gain_cycle_one_phase_per_min_rtt(void **state)
{
	static const uint32_t want[] = { 1250, 750, 1000, 1000, 1000, 1000, 1000, 1000, 1250, 750 };
	struct lane l;

	(void)state;
	/* seed 6: the first phase is (2 + 6 % 7) % 8 = 0, the 1.25 probe. */
	lane_init(&l, RG_PACING_ADAPTIVE, 0, 6);
	to_probe_bw(&l);
	for (size_t i = 0; i < RG_ARRAY_SIZE(want); i++) {
		assert_int_equal(l.cc.pacing_gain, want[i]);
		assert_int_equal(l.cc.cwnd_gain, RG_CC_CWND_GAIN);
		/* pacing = gain × btl_bw less the 1 % margin */
		assert_int_equal(rg_cc_pacing_rate(&l.cc), 8000000ull * want[i] * 99 / 100000);
		/* Half a min RTT later: the phase holds. */
		ack(&l, 8000000, RTT_NS, 10u << 20, RTT_NS / 2);
		assert_int_equal(l.cc.pacing_gain, want[i]);
		/* Past one min RTT (in flight above 1.25 BDP, so the probe may end): next phase. */
		ack(&l, 8000000, RTT_NS, 10u << 20, RTT_NS / 2 + 1);
	}
}

static void
test_cc_probe_ends_early_on_loss_only_after_a_min_rtt(void **state)
{
	struct lane l;

	(void)state;
	lane_init(&l, RG_PACING_ADAPTIVE, 0, 6);
	to_probe_bw(&l);
	assert_int_equal(l.cc.pacing_gain, 1250);
	/* In flight below 1.25 BDP: without loss the probe goes on past a min RTT ... */
	ack(&l, 8000000, RTT_NS, 1000, RTT_NS + 1);
	assert_int_equal(l.cc.pacing_gain, 1250);
	/* ... and a loss ends it. */
	rg_cc_on_loss(&l.cc, PKT, l.now_ns);
	ack(&l, 8000000, RTT_NS, 1000, 1);
	assert_int_equal(l.cc.pacing_gain, 750);
}

static void
test_cc_adaptive_no_backoff_on_isolated_loss(void **state)
{
	struct lane a, b;

	(void)state;
	/* seed 0: first phase (2 + 0) % 8 = 2, a cruise phase at gain 1. */
	lane_init(&a, RG_PACING_ADAPTIVE, 0, 0);
	lane_init(&b, RG_PACING_ADAPTIVE, 0, 0);
	to_probe_bw(&a);
	to_probe_bw(&b);
	for (int i = 0; i < 50; i++) {
		/* b loses a packet every step; a never does. */
		rg_cc_on_loss(&b.cc, PKT, b.now_ns);
		ack(&a, 8000000, RTT_NS, 800000, RTT_NS / 4);
		ack(&b, 8000000, RTT_NS, 800000, RTT_NS / 4);
		assert_int_equal(rg_cc_pacing_rate(&b.cc), rg_cc_pacing_rate(&a.cc));
		assert_int_equal(rg_cc_cwnd(&b.cc), rg_cc_cwnd(&a.cc));
	}
	assert_int_equal(rg_cc_btl_bw(&b.cc), 8000000);
	assert_int_equal(b.cc.state, RG_CC_PROBE_BW);
}

static void
test_cc_adaptive_follows_a_slower_bottleneck(void **state)
{
	struct lane l;

	(void)state;
	lane_init(&l, RG_PACING_ADAPTIVE, 0, 0);
	to_probe_bw(&l);
	/* The path drops to 2 MB/s: after the 10-round window the estimate is 2 MB/s. */
	for (int i = 0; i < RG_CC_BW_ROUNDS + 2; i++)
		ack(&l, 2000000, RTT_NS, 200000, RTT_NS);
	assert_int_equal(rg_cc_btl_bw(&l.cc), 2000000);
	/* cwnd: 2 × 2 MB/s × 100 ms + 3 packets of headroom. */
	assert_int_equal(rg_cc_cwnd(&l.cc), 400000 + 3 * PKT);
}

static void
test_cc_adaptive_caps_at_the_configured_rate(void **state)
{
	struct lane l;

	(void)state;
	lane_init(&l, RG_PACING_ADAPTIVE, 5000000, 6);
	to_probe_bw(&l);
	assert_int_equal(l.cc.pacing_gain, 1250);
	assert_int_equal(rg_cc_pacing_rate(&l.cc), 5000000);
}

static void
test_cc_probe_rtt_after_ten_seconds_without_the_min(void **state)
{
	struct lane l;
	uint64_t before;

	(void)state;
	lane_init(&l, RG_PACING_ADAPTIVE, 0, 0);
	to_probe_bw(&l);
	before = rg_cc_cwnd(&l.cc);
	/* RTT 120 ms (a standing queue) for 10 s: the 100 ms min expires. */
	for (int i = 0; i < 101 && l.cc.state != RG_CC_PROBE_RTT; i++)
		ack(&l, 8000000, 120 * RG_NS_PER_MS, 800000, RTT_NS);
	assert_int_equal(l.cc.state, RG_CC_PROBE_RTT);
	assert_int_equal(rg_cc_cwnd(&l.cc), RG_CC_CWND_MIN_PKTS * PKT);
	/* In flight down to 4 packets: 200 ms and a round later, back to PROBE_BW. */
	ack(&l, 8000000, RTT_NS, RG_CC_CWND_MIN_PKTS * PKT, RG_NS_PER_MS);
	ack(&l, 8000000, RTT_NS, 0, 100 * RG_NS_PER_MS);
	assert_int_equal(l.cc.state, RG_CC_PROBE_RTT);
	ack(&l, 8000000, RTT_NS, 0, 100 * RG_NS_PER_MS);
	assert_int_equal(l.cc.state, RG_CC_PROBE_BW);
	assert_int_equal(l.cc.min_rtt_ns, RTT_NS);
	assert_true(rg_cc_cwnd(&l.cc) >= RG_MIN(before, 2 * 800000));
}

static void
test_cc_check_catches_a_broken_state(void **state)
{
	struct lane l;

	(void)state;
	lane_init(&l, RG_PACING_ADAPTIVE, 0, 0);
	l.cc.cwnd_bytes = 0;
	assert_int_equal(rg_cc_check(&l.cc), -1);
	lane_init(&l, RG_PACING_ADAPTIVE, 0, 0);
	l.cc.pacing_gain = 1000; /* STARTUP's gain is 2.885 */
	assert_int_equal(rg_cc_check(&l.cc), -1);
	lane_init(&l, RG_PACING_FIXED, 1000000, 0);
	l.cc.pacing_rate_bytes_per_s = 2000000;
	assert_int_equal(rg_cc_check(&l.cc), -1);
	assert_string_equal(rg_cc_state_name(RG_CC_PROBE_BW), "probe_bw");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cc_maxfilt_keeps_max_within_window),
		cmocka_unit_test(test_cc_maxfilt_follows_a_falling_rate),
		cmocka_unit_test(test_cc_fixed_window_from_rate_and_rtt),
		cmocka_unit_test(test_cc_fixed_unpaced_window_is_the_max),
		cmocka_unit_test(test_cc_fixed_no_backoff_on_loss),
		cmocka_unit_test(test_cc_startup_exits_when_bw_stops_growing),
		cmocka_unit_test(test_cc_startup_keeps_going_while_bw_grows),
		cmocka_unit_test(test_cc_gain_cycle_one_phase_per_min_rtt),
		cmocka_unit_test(test_cc_probe_ends_early_on_loss_only_after_a_min_rtt),
		cmocka_unit_test(test_cc_adaptive_no_backoff_on_isolated_loss),
		cmocka_unit_test(test_cc_adaptive_follows_a_slower_bottleneck),
		cmocka_unit_test(test_cc_adaptive_caps_at_the_configured_rate),
		cmocka_unit_test(test_cc_probe_rtt_after_ten_seconds_without_the_min),
		cmocka_unit_test(test_cc_check_catches_a_broken_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
