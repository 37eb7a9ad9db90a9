/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The load generator and the verifying consumer, built into the daemon and
 * run on its main lcore (README: "Load generator and verifying consumer").
 *
 * Records are dataplane/proto/record.h's: a record's bytes are a pure
 * function of (stream, seq, length, stamp) and the seed, so the generator
 * keeps no payloads ("the log" is its watermarks: a replay makes the same
 * bytes again) and the consumer checks each record with one CRC. The stamp
 * is the record's creation time (CLOCK_MONOTONIC ns, shared by processes on
 * one host; a paced record's scheduled time), so the consumer measures
 * creation-to-delivery latency.
 *
 * Generator: streams are spread over namespaces (stream k is in namespace
 * k % namespaces) and id = (namespace + 1) << 32 | (k + 1). It makes records
 * at the configured rate, keeps at most inflight_max of a stream unacked,
 * honours backpressure (a full ingress ring), and restarts a stream from the
 * seq the gateway's replay names. It never trims: watermarks suffice.
 *
 * Consumer: checks order, gaps, duplicates and the CRC of every record with
 * dataplane/proto/history.h; it applies what it has in order and keeps the
 * applied watermarks and the anomaly counts in a mapped state file, so after
 * a crash it resumes from them (what was delivered but not applied comes
 * again, exactly once for the new incarnation).
 *
 * Threads: the worker hooks (replay, acked, applied, rx_open) run on worker
 * lcores and write the per-stream watermarks with release stores (H1); the
 * main lcore reads them with acquire loads (pairs with H1). The state file's
 * applied[] is written by the main lcore (release, A1) and read by rx_open
 * on a worker (acquire, pairs with A1). rx_open also publishes where a newly
 * opened stream resumes (open_applied, then open_gen with a release store,
 * H2); the consumer reads open_gen with an acquire load (pairs with H2)
 * before that stream's first delivery, which the ring orders after it. So a
 * stream that failed over from another gateway of the region (they share the
 * state file) continues at the region's applied watermark + 1.
 */
#ifndef RG_APPS_LOADGEN_H
#define RG_APPS_LOADGEN_H

#include <stdint.h>
#include <stdio.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "worker.h"

enum rg_load_role {
	RG_LOAD_NONE,
	RG_LOAD_GENERATOR,
	RG_LOAD_CONSUMER,
};

struct rg_loadgen_config {
	enum rg_load_role role;
	uint16_t peer_gw;
	uint16_t peer_lanes;
	uint16_t workers;
	uint32_t streams;
	uint32_t namespaces;
	uint32_t record_bytes;
	uint32_t record_bytes_max; /* 0: fixed size */
	double rate_records_s;     /* 0: as fast as backpressure allows */
	uint32_t flood_namespaces; /* the first N namespaces ignore the rate (a noisy neighbour) */
	double duration_s;
	uint64_t records_max; /* 0: no limit */
	uint64_t seed;
	uint32_t inflight_max; /* unacked records per stream */
	uint32_t progress_ms;
	double drain_s; /* after the duration, how long to wait for everything to be applied */
	const char *state_file;
	const char *report;       /* a path for the final JSON verdict, or NULL */
	struct rte_mempool *pool; /* record mbufs (generator) */
	struct rte_ring *ingress[RG_WORKER_LANES_MAX];  /* generator → worker k */
	struct rte_ring *delivery[RG_WORKER_LANES_MAX]; /* worker k → consumer */
	struct rte_ring *applied[RG_WORKER_LANES_MAX];  /* consumer → worker k */
	struct rg_worker *worker[RG_WORKER_LANES_MAX];  /* for progress: lane RTTs, retransmits */
};

struct rg_loadgen;

/* 0 or -errno with a message; maps the state file for a consumer. */
int rg_loadgen_create(const struct rg_loadgen_config *cfg, struct rg_loadgen **out, char *err,
		      size_t errlen);
void rg_loadgen_destroy(struct rg_loadgen *lg);

/* The hooks the workers call. */
struct rg_worker_hooks rg_loadgen_hooks(struct rg_loadgen *lg);

/* The stream ids the generator sends (to open them on their workers before the loop runs). */
uint64_t rg_loadgen_stream_id(const struct rg_loadgen *lg, uint32_t k);

enum rg_load_step {
	RG_LOAD_DONE = -1, /* the generator finished: all applied, or the drain time ran out */
	RG_LOAD_IDLE = 0,  /* nothing to do this time: the caller may sleep a little */
	RG_LOAD_BUSY = 1,
};

/* One step of the role's work at now_ns (since start). The consumer runs until stopped. */
enum rg_load_step rg_loadgen_step(struct rg_loadgen *lg, uint64_t now_ns);

/* Prints the progress line when it is due; 1 if it did. */
int rg_loadgen_progress(struct rg_loadgen *lg, uint64_t now_ns, FILE *f);

/* Prints the one-line JSON verdict (and writes it to cfg.report); returns 0 if it passes. */
int rg_loadgen_verdict(struct rg_loadgen *lg, uint64_t now_ns, FILE *f);

/*
 * Telemetry views, from any thread (DESIGN §4.9): copies of what the writers
 * publish with atomic stores (worker hooks: H1, A1; the main lcore: T1, see
 * loadgen.c), so they never block or disturb the load role. A view is not a
 * snapshot of all streams at one instant: each field is its own watermark.
 */
struct rg_loadgen_stream_view {
	uint64_t id;
	uint32_t ns; /* namespace index */
	uint16_t worker, peer_gw;
	uint64_t published; /* generator: the highest seq made (its head) */
	uint64_t acked;     /* generator: every seq <= acked is acked by the peer */
	uint64_t delivered; /* consumer: the highest seq checked in order */
	uint64_t applied;   /* generator: the peer's applied watermark; consumer: its own */
	uint64_t lag;       /* generator: published - applied; consumer: delivered - applied */
};

struct rg_loadgen_totals {
	uint64_t published; /* generator: records made (the verdict's records_published) */
	uint64_t checked;   /* consumer: records checked (the verdict's records_checked) */
	uint64_t acked;     /* sums of the streams' watermarks */
	uint64_t applied;   /* the verdict's records_delivered, either role */
	uint64_t lag;
};

enum rg_load_role rg_loadgen_role(const struct rg_loadgen *lg);
uint32_t rg_loadgen_streams(const struct rg_loadgen *lg);
uint32_t rg_loadgen_namespaces(const struct rg_loadgen *lg);
uint16_t rg_loadgen_peer(const struct rg_loadgen *lg);
/* Stream k's watermarks; -ENOENT when k >= rg_loadgen_streams(). */
int rg_loadgen_stream_view(const struct rg_loadgen *lg, uint32_t k,
			   struct rg_loadgen_stream_view *out);
void rg_loadgen_totals(const struct rg_loadgen *lg, struct rg_loadgen_totals *out);

#endif /* RG_APPS_LOADGEN_H */
