/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rgbench: a small C API over Google Benchmark (rgbench.cc is the C++ shim),
 * so that the micro benchmarks of perf/bench are plain C like the code they
 * measure. A benchmark is a function that sets up its state, runs the timed
 * loop, and says how much work the loop did:
 *
 *   static void
 *   bench_crc(struct rg_bench_state *st, const void *ctx)
 *   {
 *           size_t len = (size_t)rg_bench_arg(st, 0);
 *           uint32_t crc = 0;
 *
 *           while (rg_bench_keep_running(st))
 *                   crc = rg_crc32c(crc, buf, len);
 *           rg_bench_do_not_optimize_u64(crc);
 *           rg_bench_set_bytes(st, rg_bench_iterations(st) * (int64_t)len);
 *   }
 *   ...
 *   rg_bench_register("crc32c/hw", bench_crc, NULL, sizes, 6);   → crc32c/hw/64, ...
 *
 * Units: Google Benchmark reports the time of one iteration; items (set_items)
 * become items_per_second and bytes (set_bytes) bytes_per_second. perf/bench
 * reports ns/op as 1e9 / items_per_second, so every benchmark sets items to
 * the count of the thing it measures (records, packets, fragments...) and
 * names that thing with rg_bench_set_label().
 *
 * Cost of the loop itself: rg_bench_keep_running() is an out-of-line call
 * into the shim (≈ 1-2 ns); an operation of a few ns runs a batch per pass
 * with rg_bench_keep_running_batch(), so that the loop is amortised and the
 * reported time per iteration is the time per operation.
 *
 * Not thread-safe: one benchmark runs at a time, on the calling thread.
 */
#ifndef RG_PERF_BENCH_RGBENCH_H
#define RG_PERF_BENCH_RGBENCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A running benchmark (a benchmark::State); valid during the benchmark function only. */
struct rg_bench_state;

/* A benchmark: ctx is what was given to rg_bench_register(). */
typedef void (*rg_bench_fn)(struct rg_bench_state *st, const void *ctx);

/*
 * Registers benchmark name, run once per value in args[0..nargs) (named
 * name/value, the value read with rg_bench_arg(st, 0)), or once without an
 * argument when nargs == 0. name is copied; ctx must outlive rg_bench_main().
 */
void rg_bench_register(const char *name, rg_bench_fn fn, const void *ctx, const int64_t *args,
		       int nargs);

/* 1 while the timed loop must run one more iteration; 0 once (and only once) it is done. */
int rg_bench_keep_running(struct rg_bench_state *st);
/* Same for n iterations at once (the body does n operations); may overshoot by up to n. */
int rg_bench_keep_running_batch(struct rg_bench_state *st, int64_t n);
/* Iterations run so far (after the loop: all of them, batches counted in full). */
int64_t rg_bench_iterations(const struct rg_bench_state *st);

/* The benchmark's i-th argument (i = 0: the value from args). */
int64_t rg_bench_arg(const struct rg_bench_state *st, int i);

/* Totals over the whole run: items → items_per_second (ops/s), bytes → bytes_per_second. */
void rg_bench_set_items(struct rg_bench_state *st, int64_t items);
void rg_bench_set_bytes(struct rg_bench_state *st, int64_t bytes);
/* What one item is ("record", "packet"...): the report's label. Copied. */
void rg_bench_set_label(struct rg_bench_state *st, const char *label);

/* Excludes setup work inside the loop from the time. Costly (≈ 100s of ns): not per op. */
void rg_bench_pause_timing(struct rg_bench_state *st);
void rg_bench_resume_timing(struct rg_bench_state *st);

/*
 * Marks the run as failed with msg (reported, not timed). Call before the
 * loop, or break out of it right after: the loop then ends at once.
 */
void rg_bench_skip_with_error(struct rg_bench_state *st, const char *msg);

/*
 * Parses the Google Benchmark flags (--benchmark_filter, --benchmark_out,
 * --benchmark_min_time...), runs every registered benchmark that matches,
 * and shuts the library down. Returns 0, 1 when an argument was not
 * understood, 2 when a benchmark failed (rg_bench_skip_with_error).
 */
int rg_bench_main(int argc, char **argv);

/*
 * Keeps the compiler from deleting work whose result is unused: p's memory
 * (and everything reachable) counts as read and written here. Inline, so it
 * costs nothing but the lost optimisation (Google Benchmark's DoNotOptimize
 * with ClobberMemory, for C).
 */
static inline void
rg_bench_do_not_optimize(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* The same for a value in a register. */
static inline void
rg_bench_do_not_optimize_u64(uint64_t v)
{
	__asm__ volatile("" : : "r"(v) : "memory");
}

#ifdef __cplusplus
}
#endif

#endif /* RG_PERF_BENCH_RGBENCH_H */
