// SPDX-License-Identifier: Apache-2.0
// rgbench: the C++ shim behind rgbench.h. Every function is a thin cast to
// benchmark::State; nothing here measures anything itself.
#include <benchmark/benchmark.h>

#include "rgbench.h"

namespace
{

benchmark::State &
state(struct rg_bench_state *st)
{
	return *reinterpret_cast<benchmark::State *>(st);
}

const benchmark::State &
state(const struct rg_bench_state *st)
{
	return *reinterpret_cast<const benchmark::State *>(st);
}

// Set by rg_bench_skip_with_error(): Google Benchmark reports the error in
// its output but still exits 0, and a failed benchmark must fail its test.
bool failed = false;

} // namespace

extern "C" {

void
rg_bench_register(const char *name, rg_bench_fn fn, const void *ctx, const int64_t *args, int nargs)
{
	benchmark::internal::Benchmark *b =
	    benchmark::RegisterBenchmark(name, [fn, ctx](benchmark::State &s) {
		    fn(reinterpret_cast<struct rg_bench_state *>(&s), ctx);
	    });

	for (int i = 0; i < nargs; i++)
		b->Arg(args[i]);
}

int
rg_bench_keep_running(struct rg_bench_state *st)
{
	return state(st).KeepRunning();
}

int
rg_bench_keep_running_batch(struct rg_bench_state *st, int64_t n)
{
	return state(st).KeepRunningBatch(n);
}

int64_t
rg_bench_iterations(const struct rg_bench_state *st)
{
	return state(st).iterations();
}

int64_t
rg_bench_arg(const struct rg_bench_state *st, int i)
{
	return state(st).range(i);
}

void
rg_bench_set_items(struct rg_bench_state *st, int64_t items)
{
	state(st).SetItemsProcessed(items);
}

void
rg_bench_set_bytes(struct rg_bench_state *st, int64_t bytes)
{
	state(st).SetBytesProcessed(bytes);
}

void
rg_bench_set_label(struct rg_bench_state *st, const char *label)
{
	state(st).SetLabel(label);
}

void
rg_bench_pause_timing(struct rg_bench_state *st)
{
	state(st).PauseTiming();
}

void
rg_bench_resume_timing(struct rg_bench_state *st)
{
	state(st).ResumeTiming();
}

void
rg_bench_skip_with_error(struct rg_bench_state *st, const char *msg)
{
	failed = true;
	state(st).SkipWithError(msg);
}

int
rg_bench_main(int argc, char **argv)
{
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return failed ? 2 : 0;
}

} // extern "C"
