/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lane's congestion and pacing controller (cc.h has the policies, the
 * state diagram and the invariants). Every function here is O(1).
 */
#include <string.h>

#include "cc.h"
#include "common.h"

#define PACING_MARGIN_PCT 1 /* pace 1 % under the estimate, so the queue drains (BBR v1) */
#define CWND_QUANTA_PKTS  3 /* window headroom for acks that come in bursts */

/* The PROBE_BW gain cycle: probe up, drain what the probe queued, cruise six min-RTTs. */
static const uint32_t cycle_gain[RG_CC_CYCLE_LEN] = {
	1250, 750, 1000, 1000, 1000, 1000, 1000, 1000
};

static const char *const state_names[RG_CC_STATE_MAX] = {
#define RG_X(name, text) [RG_CC_##name] = text,
	RG_CC_STATES(RG_X)
#undef RG_X
};

const char *
rg_cc_state_name(enum rg_cc_state s)
{
	return (unsigned)s < RG_CC_STATE_MAX ? state_names[s] : "?";
}

/* a × b / c without overflow in the product; saturates at UINT64_MAX. */
static uint64_t
mul_div(uint64_t a, uint64_t b, uint64_t c)
{
	unsigned __int128 x = (unsigned __int128)a * b / c;

	return x > UINT64_MAX ? UINT64_MAX : (uint64_t)x;
}

/* ---- the windowed max filter ---- */

void
rg_cc_maxfilt_reset(struct rg_cc_maxfilt *f, uint64_t round, uint64_t v)
{
	for (int i = 0; i < 3; i++) {
		f->s[i].round = round;
		f->s[i].v = v;
	}
}

/*
 * Keeps the best, second best and third best samples of the window, each
 * from a later part of it than the one before, so when the best ages out
 * the next best of the remaining window is already at hand. Cases, for a
 * new sample v in round r:
 *   1. v >= best, or even the newest sample is older than win: v is all
 *      that counts; reset.
 *   2. v >= second: v replaces the second and the third.
 *   3. v >= third: v replaces the third.
 *   4. the best is older than win: shift (second → best, third → second,
 *      v → third), twice if the new best is also too old.
 *   5. otherwise a sample that has been standing for a quarter (second) or
 *      half (third) of the window while equal in age to the one above it
 *      is refreshed with v, so the three keep spanning the window.
 */
void
rg_cc_maxfilt_update(struct rg_cc_maxfilt *f, uint64_t win, uint64_t round, uint64_t v)
{
	uint64_t age;

	if (v >= f->s[0].v || round - f->s[2].round > win) {
		rg_cc_maxfilt_reset(f, round, v);
		return;
	}
	if (v >= f->s[1].v) {
		f->s[1].round = f->s[2].round = round;
		f->s[1].v = f->s[2].v = v;
	} else if (v >= f->s[2].v) {
		f->s[2].round = round;
		f->s[2].v = v;
	}
	age = round - f->s[0].round;
	if (age > win) {
		f->s[0] = f->s[1];
		f->s[1] = f->s[2];
		f->s[2].round = round;
		f->s[2].v = v;
		if (round - f->s[0].round > win) {
			f->s[0] = f->s[1];
			f->s[1] = f->s[2];
		}
	} else if (f->s[1].round == f->s[0].round && age > win / 4) {
		f->s[1].round = f->s[2].round = round;
		f->s[1].v = f->s[2].v = v;
	} else if (f->s[2].round == f->s[1].round && age > win / 2) {
		f->s[2].round = round;
		f->s[2].v = v;
	}
}

/* ---- window and rate helpers ---- */

static uint64_t
cwnd_min(const struct rg_cc *cc)
{
	return RG_MIN((uint64_t)RG_CC_CWND_MIN_PKTS * cc->cfg.pkt_bytes, cc->cfg.cwnd_bytes_max);
}

static uint64_t
cwnd_init(const struct rg_cc *cc)
{
	return RG_MIN((uint64_t)RG_CC_INIT_CWND_PKTS * cc->cfg.pkt_bytes, cc->cfg.cwnd_bytes_max);
}

/* The lowest adaptive pacing rate: the minimum window per initial RTT, under the cap. */
static uint64_t
rate_min(const struct rg_cc *cc)
{
	uint64_t r = RG_MAX(mul_div(cwnd_min(cc), RG_NS_PER_S, cc->cfg.initial_rtt_ns), 1);

	return cc->cfg.rate_bytes_per_s != 0 ? RG_MIN(r, cc->cfg.rate_bytes_per_s) : r;
}

static uint64_t
rate_cap(const struct rg_cc *cc, uint64_t r)
{
	if (cc->cfg.rate_bytes_per_s != 0)
		r = RG_MIN(r, cc->cfg.rate_bytes_per_s);
	return RG_MAX(r, rate_min(cc));
}

/* gain × btl_bw × min_rtt in bytes; the initial window before there is a model. */
static uint64_t
bdp(const struct rg_cc *cc, uint32_t gain)
{
	uint64_t bw = rg_cc_maxfilt_get(&cc->bw);

	if (bw == 0 || cc->min_rtt_ns == RG_NS_NEVER)
		return cwnd_init(cc);
	return mul_div(mul_div(bw, cc->min_rtt_ns, RG_NS_PER_S), gain, RG_CC_UNIT);
}

/* fixed: window = clamp(2 × rate × srtt, RG_CC_FIXED_WINDOW_MIN, cwnd_bytes_max). */
static void
fixed_update(struct rg_cc *cc, uint64_t srtt_ns)
{
	uint64_t rate = cc->cfg.rate_bytes_per_s, w;

	cc->pacing_rate_bytes_per_s = rate;
	if (rate == 0) {
		cc->cwnd_bytes = cc->cfg.cwnd_bytes_max; /* unpaced: only inflight_bytes_max */
		return;
	}
	w = RG_MAX(mul_div(2 * rate, srtt_ns, RG_NS_PER_S), (uint64_t)RG_CC_FIXED_WINDOW_MIN);
	cc->cwnd_bytes = RG_MIN(w, cc->cfg.cwnd_bytes_max);
}

/* ---- adaptive state transitions ---- */

static void
enter_startup(struct rg_cc *cc)
{
	cc->state = RG_CC_STARTUP;
	cc->pacing_gain = RG_CC_HIGH_GAIN;
	cc->cwnd_gain = RG_CC_HIGH_GAIN;
}

static void
enter_probe_bw(struct rg_cc *cc, uint64_t now_ns)
{
	cc->state = RG_CC_PROBE_BW;
	cc->cycle_stamp_ns = now_ns;
	cc->pacing_gain = cycle_gain[cc->cycle_idx];
	cc->cwnd_gain = RG_CC_CWND_GAIN;
}

void
rg_cc_init(struct rg_cc *cc, const struct rg_cc_config *cfg, uint32_t cycle_seed, uint64_t now_ns)
{
	memset(cc, 0, sizeof(*cc));
	cc->cfg = *cfg;
	cc->min_rtt_ns = RG_NS_NEVER;
	cc->min_rtt_stamp_ns = now_ns;
	/* Any phase but the 0.75 one (index 1): a lane starts probing or cruising, never draining. */
	cc->cycle_idx = (uint8_t)((2 + cycle_seed % (RG_CC_CYCLE_LEN - 1)) % RG_CC_CYCLE_LEN);
	if (cfg->pacing == RG_PACING_FIXED) {
		cc->state = RG_CC_FIXED;
		cc->pacing_gain = cc->cwnd_gain = RG_CC_UNIT;
		fixed_update(cc, cfg->initial_rtt_ns);
		return;
	}
	enter_startup(cc);
	cc->cwnd_bytes = cwnd_init(cc);
	cc->pacing_rate_bytes_per_s =
	    rate_cap(cc, mul_div(cc->cwnd_bytes, (uint64_t)RG_CC_HIGH_GAIN * RG_NS_PER_S,
				 (uint64_t)RG_CC_UNIT * cfg->initial_rtt_ns));
}

/* A round trip ends when a packet sent after the previous round's end is acked. */
static void
update_round(struct rg_cc *cc, const struct rg_rate_sample *rs)
{
	cc->round_start = 0;
	if (rs->newly_acked_bytes == 0 ||
	    rs->prior_delivered_bytes < cc->next_round_delivered_bytes)
		return;
	cc->next_round_delivered_bytes = rs->lane_delivered_bytes;
	cc->round_count++;
	cc->round_start = 1;
}

/* An app-limited sample only counts when it shows more than the estimate. */
static void
update_bw(struct rg_cc *cc, const struct rg_rate_sample *rs)
{
	uint64_t bw;

	if (!rs->valid || rs->interval_ns == 0)
		return;
	bw = mul_div(rs->delivered_bytes, RG_NS_PER_S, rs->interval_ns);
	if (!rs->app_limited || bw >= rg_cc_maxfilt_get(&cc->bw))
		rg_cc_maxfilt_update(&cc->bw, RG_CC_BW_ROUNDS, cc->round_count, bw);
}

static int
next_cycle_phase(const struct rg_cc *cc, const struct rg_rate_sample *rs, uint64_t bytes_in_flight,
		 uint64_t now_ns)
{
	int full = now_ns - cc->cycle_stamp_ns > cc->min_rtt_ns;
	uint32_t gain = cc->pacing_gain;

	if (gain == RG_CC_UNIT)
		return full;
	if (gain > RG_CC_UNIT) /* probe until the pipe held more, or a loss said it is full */
		return full && (cc->loss_in_round ||
				bytes_in_flight + rs->newly_acked_bytes >= bdp(cc, gain));
	return full || bytes_in_flight <= bdp(cc, RG_CC_UNIT); /* drained what the probe queued */
}

static void
update_cycle(struct rg_cc *cc, const struct rg_rate_sample *rs, uint64_t bytes_in_flight,
	     uint64_t now_ns)
{
	if (cc->state != RG_CC_PROBE_BW || !next_cycle_phase(cc, rs, bytes_in_flight, now_ns))
		return;
	cc->cycle_idx = (uint8_t)((cc->cycle_idx + 1) % RG_CC_CYCLE_LEN);
	cc->cycle_stamp_ns = now_ns;
	cc->pacing_gain = cycle_gain[cc->cycle_idx];
}

/* STARTUP ends when btl_bw grew less than 25 % over RG_CC_FULL_BW_ROUNDS rounds. */
static void
check_full_pipe(struct rg_cc *cc, const struct rg_rate_sample *rs)
{
	uint64_t bw = rg_cc_maxfilt_get(&cc->bw);

	if (cc->filled_pipe || !cc->round_start || rs->app_limited || bw == 0)
		return;
	if (bw >= mul_div(cc->full_bw, RG_CC_FULL_BW_GROWTH, RG_CC_UNIT)) {
		cc->full_bw = bw;
		cc->full_bw_rounds = 0;
		return;
	}
	if (++cc->full_bw_rounds >= RG_CC_FULL_BW_ROUNDS)
		cc->filled_pipe = 1;
}

static void
check_drain(struct rg_cc *cc, uint64_t bytes_in_flight, uint64_t now_ns)
{
	if (cc->state == RG_CC_STARTUP && cc->filled_pipe) {
		cc->state = RG_CC_DRAIN;
		cc->pacing_gain = RG_CC_DRAIN_GAIN;
		cc->cwnd_gain = RG_CC_HIGH_GAIN;
	}
	if (cc->state == RG_CC_DRAIN && bytes_in_flight <= bdp(cc, RG_CC_UNIT))
		enter_probe_bw(cc, now_ns);
}

/*
 * The min RTT is refreshed whenever a sample matches or beats it; one not
 * seen again for RG_CC_MIN_RTT_WIN_NS sends the lane to PROBE_RTT, which
 * empties the queue for 200 ms and a round so the true path RTT shows.
 */
static void
update_min_rtt(struct rg_cc *cc, const struct rg_rate_sample *rs, uint64_t bytes_in_flight,
	       uint64_t now_ns)
{
	int expired =
	    cc->min_rtt_ns != RG_NS_NEVER && now_ns > cc->min_rtt_stamp_ns + RG_CC_MIN_RTT_WIN_NS;

	if (rs->rtt_ns != 0 && (rs->rtt_ns <= cc->min_rtt_ns || expired)) {
		cc->min_rtt_ns = rs->rtt_ns;
		cc->min_rtt_stamp_ns = now_ns;
	}
	if (expired && cc->state != RG_CC_PROBE_RTT) {
		cc->state = RG_CC_PROBE_RTT;
		cc->pacing_gain = cc->cwnd_gain = RG_CC_UNIT;
		cc->prior_cwnd_bytes = cc->cwnd_bytes;
		cc->probe_rtt_done_ns = 0;
	}
	if (cc->state != RG_CC_PROBE_RTT)
		return;
	if (cc->probe_rtt_done_ns == 0 && bytes_in_flight <= cwnd_min(cc)) {
		cc->probe_rtt_done_ns = now_ns + RG_CC_PROBE_RTT_NS;
		cc->probe_rtt_round_done = 0;
		cc->next_round_delivered_bytes = rs->lane_delivered_bytes;
	} else if (cc->probe_rtt_done_ns != 0) {
		if (cc->round_start)
			cc->probe_rtt_round_done = 1;
		if (cc->probe_rtt_round_done && now_ns >= cc->probe_rtt_done_ns) {
			cc->min_rtt_stamp_ns = now_ns;
			cc->cwnd_bytes = RG_MAX(cc->cwnd_bytes, cc->prior_cwnd_bytes);
			if (cc->filled_pipe)
				enter_probe_bw(cc, now_ns);
			else
				enter_startup(cc);
		}
	}
}

static void
set_pacing(struct rg_cc *cc)
{
	uint64_t bw = rg_cc_maxfilt_get(&cc->bw), r;

	if (bw == 0)
		return;
	r = mul_div(bw, (uint64_t)cc->pacing_gain * (100 - PACING_MARGIN_PCT), RG_CC_UNIT * 100);
	/* In STARTUP the rate only grows: an early, low sample must not slow the ramp. */
	if (cc->filled_pipe || r > cc->pacing_rate_bytes_per_s)
		cc->pacing_rate_bytes_per_s = rate_cap(cc, r);
}

/* The window grows by what was acked, towards cwnd_gain × BDP (no limit before the pipe fills). */
static void
set_cwnd(struct rg_cc *cc, const struct rg_rate_sample *rs)
{
	uint64_t target = bdp(cc, cc->cwnd_gain) + (uint64_t)CWND_QUANTA_PKTS * cc->cfg.pkt_bytes;
	uint64_t w = cc->cwnd_bytes;

	if (cc->filled_pipe)
		w = RG_MIN(w + rs->newly_acked_bytes, target);
	else if (w < target || rs->lane_delivered_bytes < cwnd_init(cc))
		w += rs->newly_acked_bytes;
	w = RG_MAX(w, cwnd_min(cc));
	if (cc->state == RG_CC_PROBE_RTT)
		w = RG_MIN(w, cwnd_min(cc));
	cc->cwnd_bytes = RG_MIN(w, cc->cfg.cwnd_bytes_max);
}

void
rg_cc_on_ack(struct rg_cc *cc, const struct rg_rate_sample *rs, uint64_t srtt_ns,
	     uint64_t bytes_in_flight, uint64_t now_ns)
{
	if (cc->state == RG_CC_FIXED) {
		fixed_update(cc, srtt_ns);
		return;
	}
	update_round(cc, rs);
	update_bw(cc, rs);
	update_cycle(cc, rs, bytes_in_flight, now_ns);
	check_full_pipe(cc, rs);
	check_drain(cc, bytes_in_flight, now_ns);
	update_min_rtt(cc, rs, bytes_in_flight, now_ns);
	set_pacing(cc);
	set_cwnd(cc, rs);
	cc->loss_in_round = 0;
}

void
rg_cc_on_loss(struct rg_cc *cc, uint64_t bytes, uint64_t now_ns)
{
	(void)now_ns;
	cc->lost_bytes += bytes;
	cc->loss_in_round = 1; /* ends a 1.25 probe at its next phase check; nothing else */
}

uint64_t
rg_cc_btl_bw(const struct rg_cc *cc)
{
	return cc->state == RG_CC_FIXED ? cc->cfg.rate_bytes_per_s : rg_cc_maxfilt_get(&cc->bw);
}

static int
gains_ok(const struct rg_cc *cc)
{
	switch (cc->state) {
	case RG_CC_FIXED:
	case RG_CC_PROBE_RTT:
		return cc->pacing_gain == RG_CC_UNIT && cc->cwnd_gain == RG_CC_UNIT;
	case RG_CC_STARTUP:
		return cc->pacing_gain == RG_CC_HIGH_GAIN && cc->cwnd_gain == RG_CC_HIGH_GAIN;
	case RG_CC_DRAIN:
		return cc->pacing_gain == RG_CC_DRAIN_GAIN && cc->cwnd_gain == RG_CC_HIGH_GAIN;
	case RG_CC_PROBE_BW:
		return cc->pacing_gain == cycle_gain[cc->cycle_idx] &&
		       cc->cwnd_gain == RG_CC_CWND_GAIN;
	default:
		return 0;
	}
}

int
rg_cc_check(const struct rg_cc *cc)
{
	const struct rg_cc_maxfilt *f = &cc->bw;
	int fixed = cc->cfg.pacing == RG_PACING_FIXED;

	if ((cc->state == RG_CC_FIXED) != fixed || cc->cycle_idx >= RG_CC_CYCLE_LEN ||
	    !gains_ok(cc))
		return -1;
	if (cc->cwnd_bytes == 0 || cc->cwnd_bytes > cc->cfg.cwnd_bytes_max)
		return -1;
	if (fixed)
		return cc->pacing_rate_bytes_per_s == cc->cfg.rate_bytes_per_s ? 0 : -1;
	if (cc->cwnd_bytes < cwnd_min(cc) || cc->pacing_rate_bytes_per_s == 0 ||
	    (cc->cfg.rate_bytes_per_s != 0 &&
	     cc->pacing_rate_bytes_per_s > cc->cfg.rate_bytes_per_s))
		return -1;
	if (f->s[0].v < f->s[1].v || f->s[1].v < f->s[2].v || f->s[0].round > f->s[1].round ||
	    f->s[1].round > f->s[2].round)
		return -1;
	return 0;
}
