/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control thread (DESIGN §4.5, §4.6, §4.8): a DPDK control thread
 * (rte_ctrl_thread_create) that wakes every period, reads the workers'
 * published stats (per-core counters and lane views), feeds the membership
 * detectors with when each peer was last heard, logs and counts every
 * liveness change, and sends the workers commands through their rings when
 * streams must move (a peer went DEAD: its streams fail over to a live
 * gateway of its region) or when an operator changes the WAN emulator.
 *
 * It never touches a worker's state directly: commands down a ring, stats
 * up through the worker's sequence-locked snapshot. Its own state is read
 * by telemetry (other threads) under `lock`; it is the slow path, so a mutex
 * is the simple, right tool.
 *
 * Clock: rg_worker_clock_ns(tsc0), the workers' clock, so a lane's
 * last_rx_ns and the control thread's now_ns compare directly.
 */
#ifndef RG_APPS_CTL_H
#define RG_APPS_CTL_H

#include <pthread.h>
#include <stdint.h>

#include "membership.h"
#include "worker.h"

struct rg_ctl_peer_def {
	uint16_t gw;
	char region[RG_MEMBERSHIP_REGION_BYTES];
};

struct rg_ctl_config {
	uint64_t period_ns;
	uint64_t cmd_timeout_ns; /* how long a worker may take to answer a command */
	struct rg_detector_config det;
	uint64_t tsc0;
	struct rg_worker *workers;
	uint16_t nworkers;
	struct rg_ctl_peer_def peers[RG_MEMBERSHIP_PEERS_MAX];
	uint16_t npeers;
	int quiet; /* 1: do not log transitions (tests) */
};

/* What telemetry sees of one peer (rg_ctl_peers). */
struct rg_ctl_peer_view {
	uint16_t gw;
	char region[RG_MEMBERSHIP_REGION_BYTES];
	enum rg_liveness state;
	double phi;
	uint64_t silent_ns; /* since the last packet from it (0 if never heard) */
	uint64_t incarnation;
	uint64_t restarts;
	uint64_t transitions;
	uint64_t heartbeats;
	uint64_t state_for_ns; /* how long it has been in this state */
	uint16_t route;        /* where its streams go now */
	uint16_t lanes;        /* lanes to it over all workers */
	uint64_t srtt_ns;      /* the smallest smoothed RTT over those lanes (0: none) */
};

/* What telemetry sees of the control thread itself. */
struct rg_ctl_counters {
	uint64_t ticks;
	uint64_t transitions[RG_LIVENESS_MAX][RG_LIVENESS_MAX];
	uint64_t restarts_seen;
	uint64_t failovers;     /* failover commands that every worker ran */
	uint64_t streams_moved; /* over all workers */
	uint64_t cmd_failed;    /* commands refused, or not answered in time */
	uint64_t now_ns;
};

struct rg_ctl {
	struct rg_ctl_config cfg;
	pthread_t tid;
	int started;
	int stop; /* main → control thread (release, T1); read each period (acquire) */
	pthread_mutex_t lock; /* guards mem and ctr for readers on other threads */
	struct rg_membership mem;
	struct rg_ctl_counters ctr;
	struct rg_worker_stats *scratch;          /* one worker's stats, read each period */
	uint16_t placed[RG_MEMBERSHIP_PEERS_MAX]; /* where each peer's streams are now */
};

/* Starts the thread. 0, or -errno after printing why. */
int rg_ctl_start(struct rg_ctl *ctl, const struct rg_ctl_config *cfg);
/* Stops and joins it (safe if it never started). */
void rg_ctl_stop(struct rg_ctl *ctl);

/* A copy of the peers' view, at most max; returns how many. Any thread. */
unsigned rg_ctl_peers(struct rg_ctl *ctl, struct rg_ctl_peer_view *out, unsigned max);
void rg_ctl_counters(struct rg_ctl *ctl, struct rg_ctl_counters *out);

/*
 * Sends cmd to every worker and waits for each (bounded by cmd_timeout_ns).
 * Returns the sum of the results, or the first -errno; -ETIMEDOUT when a
 * worker did not answer (its command is then leaked on purpose: the worker
 * may still write it). Any thread; commands from several threads interleave
 * safely (the command rings are multi-producer).
 */
int rg_ctl_broadcast(struct rg_ctl *ctl, const struct rg_worker_cmd *cmd);

#endif /* RG_APPS_CTL_H */
