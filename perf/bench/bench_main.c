/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rg-bench: the micro benchmarks of the protocol core (bench.h). Takes the
 * Google Benchmark flags, e.g.
 *   rg-bench --benchmark_filter='^codec/' --benchmark_min_time=0.05 \
 *            --benchmark_out=perf/results/micro-codec.json --benchmark_out_format=json
 */
#include "bench.h"

int
main(int argc, char **argv)
{
	rg_bench_codec_register();
	rg_bench_crc32c_register();
	rg_bench_ackr_register();
	rg_bench_recovery_register();
	rg_bench_reorder_register();
	rg_bench_txq_register();
	rg_bench_pacer_register();
	rg_bench_core_register();
	rg_bench_record_register();
	rg_bench_seal_register();
	return rg_bench_main(argc, argv);
}
