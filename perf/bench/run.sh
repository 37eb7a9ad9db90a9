#!/usr/bin/env bash
# Usage: perf/bench/run.sh [meson test options...]
# Builds the release tree, runs the micro benchmarks (meson suite 'perf': one test per group,
# each writing perf/results/micro-<group>.json), then prints them as one Markdown table
# (perf/bench/micro_table.py). Exits non-zero when the build, a benchmark or the table failed.
#
# Options go to `meson test`, e.g. longer runs for a careful measurement:
#   perf/bench/run.sh --test-args=--benchmark_min_time=0.5 --timeout-multiplier=10
# or one group: perf/bench/run.sh micro-codec
# Env: RG_BUILD  the build directory (default build/release; configured from this tree).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
build=${RG_BUILD:-build/release}

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" -Dbuildtype=release
fi
ninja -C "$build"

if ! meson test -C "$build" --no-rebuild --list --suite perf 2>/dev/null | grep -q ' / '; then
	echo "run.sh: no perf tests in $build (perf/bench not built: is Google Benchmark installed?)" >&2
	exit 1
fi

# Results are outputs of this run: no stale file from an earlier one may reach the table.
rm -f perf/results/micro-*.json
rc=0
meson test -C "$build" --no-rebuild --print-errorlogs --logbase testlog-perf --suite perf "$@" ||
	rc=1

shopt -s nullglob
results=(perf/results/micro-*.json)
if [ ${#results[@]} -eq 0 ]; then
	echo "run.sh: no results in perf/results" >&2
	exit 1
fi
echo
python3 perf/bench/micro_table.py "${results[@]}" || rc=1
exit $rc
