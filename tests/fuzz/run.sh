#!/usr/bin/env bash
# Usage: run.sh replay TARGET CORPUS_DIR
#        run.sh fuzz TARGET CORPUS_DIR WORK_DIR SECONDS
# replay: runs TARGET once on every file of CORPUS_DIR (the committed seeds and crashers); fails
# if any crashes. fuzz: fuzzes for SECONDS from WORK_DIR/corpus (kept between runs) and the seeds;
# new inputs go to WORK_DIR/corpus, a crash to WORK_DIR/crash-* (the script says which) and
# fails the run. Never writes into CORPUS_DIR. Single-threaded: the machines are shared.
set -eu

mode=$1 target=$2 corpus=$3
name=$(basename "$target")
# Leaks inside libraries we link but do not own (lsan.supp says which and why).
export LSAN_OPTIONS="suppressions=$(cd "$(dirname "$0")" && pwd)/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
case $mode in
replay)
	shopt -s nullglob
	files=("$corpus"/*)
	[ ${#files[@]} -gt 0 ] || { echo "$name: no seeds in $corpus" >&2; exit 1; }
	exec "$target" -runs=1 "${files[@]}"
	;;
fuzz)
	work=$4 seconds=$5
	mkdir -p "$work/corpus"
	dict=$(dirname "$corpus")/../$(basename "$corpus").dict
	args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
		-artifact_prefix="$work/")
	[ -f "$dict" ] && args+=(-dict="$dict")
	if ! "$target" "${args[@]}" "$work/corpus" "$corpus"; then
		echo "$name: crashed; the input is in $(ls -t "$work"/crash-* "$work"/timeout-* \
			"$work"/leak-* "$work"/oom-* 2>/dev/null | head -1)" >&2
		exit 1
	fi
	;;
*)
	echo "usage: run.sh replay|fuzz TARGET CORPUS [WORK SECONDS]" >&2
	exit 2
	;;
esac
