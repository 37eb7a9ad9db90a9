/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The micro benchmarks of rg-bench (bench_main.c), one group per proto
 * module. Each group registers its benchmarks as <group>/<what>[/<arg>];
 * perf/bench/meson.build runs one group per test with --benchmark_filter=^<group>/
 * and writes perf/results/micro-<group>.json. rg-bench-ring (bench_ring.c) is
 * separate because it needs DPDK's EAL.
 *
 * Every benchmark sets items to the count of what it measures and names it
 * in its label, so ns/op and ops/s are per that thing (rgbench.h).
 */
#ifndef RG_PERF_BENCH_BENCH_H
#define RG_PERF_BENCH_BENCH_H

#include "rgbench.h"

void rg_bench_codec_register(void);
void rg_bench_crc32c_register(void);
void rg_bench_ackr_register(void);
void rg_bench_recovery_register(void);
void rg_bench_reorder_register(void);
void rg_bench_txq_register(void);
void rg_bench_pacer_register(void);
void rg_bench_core_register(void);
void rg_bench_record_register(void);
void rg_bench_seal_register(void);

#endif /* RG_PERF_BENCH_BENCH_H */
