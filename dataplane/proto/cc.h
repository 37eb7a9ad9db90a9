/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Congestion and pacing control of one lane (DESIGN §4.5): it says how fast
 * the lane's pacer runs (rg_cc_pacing_rate) and how many bytes may be in
 * flight (rg_cc_cwnd, the lane's byte window). Pure; time passed in; no
 * allocation. Two policies, chosen by rg_cc_config.pacing:
 *
 *   fixed     a provisioned link. The pacing rate is the configured rate
 *             and never changes; loss is not congestion here, so nothing
 *             backs off. The window is sized from bandwidth × RTT:
 *             max(2 × rate × srtt, RG_CC_FIXED_WINDOW_MIN), capped at
 *             cwnd_bytes_max. Rate 0 (unpaced) keeps the window at
 *             cwnd_bytes_max, exactly the behaviour before this module.
 *
 *   adaptive  BBR-like, after BBR v1 (Cardwell et al., ACM Queue 2016, and
 *             draft-cardwell-iccrg-bbr-congestion-control-00): the
 *             bottleneck bandwidth btl_bw is the windowed max of the
 *             delivery-rate samples over RG_CC_BW_ROUNDS round trips, the
 *             path's RTT the windowed min over RG_CC_MIN_RTT_WIN_NS;
 *             pacing rate = pacing_gain × btl_bw, window = cwnd_gain ×
 *             btl_bw × min_rtt. Sustained queueing shows as a lower
 *             delivery rate and a longer RTT, and that is what it reacts
 *             to; a lost packet only ends a bandwidth probe early, it never
 *             cuts the rate. A configured rate, when not 0, caps the pacing
 *             rate.
 *
 * The adaptive state machine (state, the function that moves it, the gains):
 *
 *            filled_pipe               inflight <= BDP
 *   STARTUP ─────────────▶ DRAIN ─────────────────────▶ PROBE_BW ◀──┐
 *   pacing 2.885           pacing 1/2.885               gain cycle   │
 *   cwnd   2.885           cwnd   2.885                 [1.25, 0.75, │
 *      ▲                                                 1 ×6], cwnd 2
 *      │ (pipe not filled)            min_rtt older than 10 s │       │
 *      └──────────────────────────── PROBE_RTT ◀──────────────┘       │
 *                                    cwnd 4 packets for 200 ms        │
 *                                    and one round ──────────────────┘
 *
 *   STARTUP → DRAIN        check_full_pipe(): at a round start, btl_bw grew
 *                          less than 25 % for 3 rounds in a row
 *   DRAIN → PROBE_BW       check_drain(): bytes in flight <= 1 × BDP
 *   PROBE_BW cycle         update_cycle(): one phase per min_rtt; the 1.25
 *                          phase also ends on loss or once inflight reaches
 *                          1.25 × BDP, the 0.75 phase early once inflight
 *                          <= BDP
 *   any → PROBE_RTT        update_min_rtt(): the min RTT was not seen again
 *                          for RG_CC_MIN_RTT_WIN_NS
 *   PROBE_RTT → PROBE_BW   probe_rtt(): 200 ms and a round at 4 packets
 *   (or STARTUP)
 *
 * Invariants (rg_cc_check):
 *   1. state is FIXED iff pacing is fixed.
 *   2. 0 < cwnd_bytes <= cwnd_bytes_max, and for adaptive cwnd_bytes >=
 *      min(RG_CC_CWND_MIN_PKTS packets, cwnd_bytes_max).
 *   3. fixed: pacing rate == the configured rate. adaptive: pacing rate > 0
 *      and <= the configured rate when one is set.
 *   4. the PROBE_BW cycle index is < RG_CC_CYCLE_LEN; gains are the state's.
 *   5. the bandwidth filter's three samples are ordered by round (oldest,
 *      the best, first) and by value (best first): s[0].v >= s[1].v >= s[2].v.
 */
#ifndef RG_PROTO_CC_H
#define RG_PROTO_CC_H

#include <stdint.h>

#define RG_CC_UNIT             1000 /* gains are in thousandths */
#define RG_CC_HIGH_GAIN        2885 /* 2/ln 2: doubles the delivery rate each round */
#define RG_CC_DRAIN_GAIN       347  /* 1/2.885 */
#define RG_CC_CWND_GAIN        2000
#define RG_CC_CYCLE_LEN        8
#define RG_CC_BW_ROUNDS        10 /* btl_bw: max over this many round trips */
#define RG_CC_MIN_RTT_WIN_NS   (10ull * 1000000000ull)
#define RG_CC_PROBE_RTT_NS     (200ull * 1000000ull)
#define RG_CC_FULL_BW_GROWTH   1250 /* STARTUP goes on while btl_bw grows by 25 % ... */
#define RG_CC_FULL_BW_ROUNDS   3    /* ... within this many rounds */
#define RG_CC_CWND_MIN_PKTS    4
#define RG_CC_INIT_CWND_PKTS   16
#define RG_CC_FIXED_WINDOW_MIN (64u * 1024u)

enum rg_pacing {
	RG_PACING_FIXED = 0,
	RG_PACING_ADAPTIVE,
};

/* X-macro: controller states and their names (telemetry prints them). */
#define RG_CC_STATES(X)         \
	X(FIXED, "fixed")       \
	X(STARTUP, "startup")   \
	X(DRAIN, "drain")       \
	X(PROBE_BW, "probe_bw") \
	X(PROBE_RTT, "probe_rtt")

enum rg_cc_state {
#define RG_X(name, text) RG_CC_##name,
	RG_CC_STATES(RG_X)
#undef RG_X
	RG_CC_STATE_MAX
};

struct rg_cc_config {
	enum rg_pacing pacing;
	uint64_t rate_bytes_per_s; /* fixed: the rate (0 = unpaced); adaptive: a cap (0 = none) */
	uint64_t cwnd_bytes_max;   /* the lane's inflight_bytes_max */
	uint32_t pkt_bytes;        /* the largest packet */
	uint64_t initial_rtt_ns;   /* before the first RTT sample */
};

/*
 * One delivery-rate sample (draft-cheng-iccrg-delivery-rate-estimation),
 * made by rg_recovery_on_ack() from the packets one ACK newly acked.
 * delivered_bytes were delivered over interval_ns; valid = 0 when no packet
 * was newly acked or the interval is shorter than the min RTT (ack
 * compression), in which case only the byte counts mean anything.
 */
struct rg_rate_sample {
	uint64_t delivered_bytes;       /* over interval_ns */
	uint64_t interval_ns;           /* max(send elapsed, ack elapsed) */
	uint64_t prior_delivered_bytes; /* the lane's delivered count when the newest acked left */
	uint64_t lane_delivered_bytes;  /* the lane's delivered count after this ACK */
	uint64_t newly_acked_bytes;
	uint64_t rtt_ns; /* this ACK's RTT sample; 0 when it gave none */
	uint8_t app_limited;
	uint8_t valid;
};

/* A windowed max over rounds (Kathleen Nichols' algorithm, as Linux's win_minmax). */
struct rg_cc_maxfilt {
	struct {
		uint64_t round;
		uint64_t v;
	} s[3]; /* s[0] best, s[1] second best, s[2] third, newest rounds last */
};

struct rg_cc {
	struct rg_cc_config cfg;
	enum rg_cc_state state;
	uint64_t pacing_rate_bytes_per_s;
	uint64_t cwnd_bytes;
	uint32_t pacing_gain, cwnd_gain; /* RG_CC_UNIT = 1 */
	/* adaptive model */
	struct rg_cc_maxfilt bw; /* bytes/s */
	uint64_t min_rtt_ns;     /* RG_NS_NEVER before the first sample */
	uint64_t min_rtt_stamp_ns;
	uint64_t round_count;
	uint64_t next_round_delivered_bytes;
	uint8_t round_start;
	uint8_t filled_pipe;
	uint8_t full_bw_rounds;
	uint8_t cycle_idx;
	uint8_t loss_in_round; /* a loss was seen since the last ACK: ends a 1.25 probe */
	uint8_t probe_rtt_round_done;
	uint64_t full_bw;
	uint64_t cycle_stamp_ns;
	uint64_t probe_rtt_done_ns; /* 0 until inflight reached 4 packets in PROBE_RTT */
	uint64_t prior_cwnd_bytes;  /* restored after PROBE_RTT */
	/* totals, for stats */
	uint64_t lost_bytes;
};

/*
 * Starts the controller. cycle_seed picks the first PROBE_BW phase (as BBR's
 * random start, so lanes sharing a bottleneck do not probe in step); the
 * core passes bits of the lane's random first packet number.
 */
void rg_cc_init(struct rg_cc *cc, const struct rg_cc_config *cfg, uint32_t cycle_seed,
		uint64_t now_ns);

/*
 * One ACK's worth of news: the rate sample, the smoothed RTT after it and
 * the bytes still in flight. Updates the model, the state, the pacing rate
 * and the window.
 */
void rg_cc_on_ack(struct rg_cc *cc, const struct rg_rate_sample *rs, uint64_t srtt_ns,
		  uint64_t bytes_in_flight, uint64_t now_ns);

/* Packets of bytes were declared lost. Never cuts the rate (see the top of this file). */
void rg_cc_on_loss(struct rg_cc *cc, uint64_t bytes, uint64_t now_ns);

static inline uint64_t
rg_cc_pacing_rate(const struct rg_cc *cc)
{
	return cc->pacing_rate_bytes_per_s;
}

static inline uint64_t
rg_cc_cwnd(const struct rg_cc *cc)
{
	return cc->cwnd_bytes;
}

/* The bottleneck bandwidth estimate (adaptive), or the configured rate (fixed). */
uint64_t rg_cc_btl_bw(const struct rg_cc *cc);

const char *rg_cc_state_name(enum rg_cc_state s);

/* The windowed max: takes v measured in round; samples older than win rounds age out. */
void rg_cc_maxfilt_update(struct rg_cc_maxfilt *f, uint64_t win, uint64_t round, uint64_t v);
void rg_cc_maxfilt_reset(struct rg_cc_maxfilt *f, uint64_t round, uint64_t v);

static inline uint64_t
rg_cc_maxfilt_get(const struct rg_cc_maxfilt *f)
{
	return f->s[0].v;
}

/* 0 when every invariant above holds, else -1. */
int rg_cc_check(const struct rg_cc *cc);

#endif /* RG_PROTO_CC_H */
