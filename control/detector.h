/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An accrual failure detector for one peer (DESIGN §4.6; Hayashibara et al.,
 * "The φ accrual failure detector", 2004). Instead of one fixed timeout it
 * keeps the inter-arrival times of the peer's heartbeats (any packet from it
 * counts) and turns the silence since the last one into a suspicion level
 * φ = -log10(P(a heartbeat comes later than now)), under a normal
 * distribution of intervals (the logistic approximation Akka uses). A peer is
 *
 *   ALIVE ──φ ≥ suspect_phi──▶ SUSPECT ──φ ≥ dead_phi, or silent dead_after_ns──▶ DEAD
 *     ▲                           │                                                 │
 *     └────────────── a heartbeat (rg_detector_heartbeat) ──────────────────────────┘
 *
 * Pure: time comes in as now_ns, no allocation, no clock. The control thread
 * evaluates it (rg_detector_update) every few ms and logs each transition.
 *
 * Invariants (rg_detector_check): 0 <= n <= RG_DETECTOR_WINDOW; sum and sumsq
 * are the sums over the n intervals in the window; transitions[a][b] counts
 * every change of state from a to b, and a != b for each of them.
 */
#ifndef RG_CONTROL_DETECTOR_H
#define RG_CONTROL_DETECTOR_H

#include <stdint.h>

#define RG_DETECTOR_WINDOW 128 /* intervals kept: about 13 s of history at 100 ms heartbeats */

enum rg_liveness {
	RG_LIVENESS_ALIVE,
	RG_LIVENESS_SUSPECT,
	RG_LIVENESS_DEAD,
	RG_LIVENESS_MAX
};

struct rg_detector_config {
	double suspect_phi; /* ALIVE → SUSPECT at this φ (5: about 1 in 100,000 too soon) */
	double dead_phi;    /* → DEAD at this φ */
	uint64_t first_interval_ns; /* the interval assumed before any was measured */
	uint64_t min_stddev_ns; /* floor of the deviation: very regular heartbeats stay tolerant */
	uint64_t acceptable_pause_ns; /* added to the mean: pauses that are normal (GC, bursts) */
	uint64_t dead_after_ns;       /* a hard bound: this long without a heartbeat is DEAD */
};

struct rg_detector {
	struct rg_detector_config cfg;
	uint64_t last_ns; /* the last heartbeat */
	uint64_t intervals[RG_DETECTOR_WINDOW];
	uint32_t n, next;
	double sum, sumsq; /* over the n intervals, in ns and ns² */
	enum rg_liveness state;
	uint64_t heartbeats;
	uint64_t transitions[RG_LIVENESS_MAX][RG_LIVENESS_MAX];
};

/* Defaults for 100 ms heartbeats: suspect at φ 5, dead at φ 12 or after 10 s of silence. */
void rg_detector_config_default(struct rg_detector_config *cfg);
/* 0, or -EINVAL when the thresholds or times make no sense. */
int rg_detector_config_check(const struct rg_detector_config *cfg);
/* A fresh detector; the peer counts as heard from at now_ns (it is ALIVE). */
void rg_detector_init(struct rg_detector *d, const struct rg_detector_config *cfg, uint64_t now_ns);

/* A heartbeat (any packet) from the peer at now_ns: records the interval; the peer is ALIVE. */
void rg_detector_heartbeat(struct rg_detector *d, uint64_t now_ns);
/* φ at now_ns: 0 right after a heartbeat, growing with the silence. */
double rg_detector_phi(const struct rg_detector *d, uint64_t now_ns);
/* Moves the state as φ at now_ns says; returns the state (compare to see a transition). */
enum rg_liveness rg_detector_update(struct rg_detector *d, uint64_t now_ns);

const char *rg_liveness_name(enum rg_liveness s);
int rg_detector_check(const struct rg_detector *d);

#endif /* RG_CONTROL_DETECTOR_H */
