#!/usr/bin/env bash
# The first throughput figure (issue 3): in one run on this machine, the raw packet rate of a
# memif link with the bare forwarder (perf/rg-blast) at repgate's packet size, then repgate's
# end-to-end goodput over the same kind of link with the WAN emulator off, and their ratio;
# then records/s per worker core with 64 B and 1 KiB records.
#
#   perf/memif_ratio.sh [SECONDS]      (default 5 s per measurement; run `make build` first)
#
# Prints a Markdown table and one JSON line; leaves nothing running.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
bin=build/release
out=build/perf
mkdir -p "$out" /run/repgate
eal_mem=${RG_EAL_MEM-$(scripts/hugepages.sh)}
eal="$eal_mem --no-pci --log-level=*:warning"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	rm -f /run/repgate/ratio-*.sock
	scripts/eal-cleanup.sh >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

wait_sock() { for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.1; done; echo "no socket $1" >&2; return 1; }
json() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

memif() { echo "net_memif0,role=$1,socket=$2,socket-abstract=no,bsize=10240,rsize=12"; }

# 1. The raw rate of a memif link at repgate's packet size (a 9000-byte MTU frame: 9014 bytes).
raw() {
	local size=$1 sock=/run/repgate/ratio-blast.sock
	rm -f "$sock"
	$bin/perf/rg-blast --rx --device "$(memif server $sock)" --size "$size" \
		--seconds $((secs + 3)) -l 0 $eal --file-prefix rg-ratio-rx >"$out/blast-rx.json" 2>/dev/null &
	pids+=($!)
	wait_sock "$sock"
	$bin/perf/rg-blast --tx --device "$(memif client $sock)" --size "$size" --seconds "$secs" \
		-l 1 $eal --file-prefix rg-ratio-tx >"$out/blast-tx.json" 2>/dev/null
	wait "${pids[-1]}"
	tail -1 "$out/blast-rx.json"
}

# 2. repgate end to end: generator (A) → consumer (B), emulator off, as fast as it goes.
pair() {
	local rec=$1 tag=$2 sock=/run/repgate/ratio-pair.sock a b
	local sets=(--set wan.enabled=false --set load.rate_records_s=0 --set load.record_bytes="$rec"
		--set load.duration_s="$secs" --set load.progress_ms=0)
	rm -f "$sock" "$out/$tag-b.state"
	$bin/apps/repgate --profile profiles/bench-a.conf "${sets[@]}" \
		--set port.device="$(memif server $sock)" --set load.report="$out/$tag-a.json" \
		-l 0,1 $eal --file-prefix rg-ratio-a >"$out/$tag-a.log" 2>&1 &
	a=$!
	pids+=($a)
	wait_sock "$sock"
	$bin/apps/repgate --profile profiles/bench-b.conf "${sets[@]}" \
		--set port.device="$(memif client $sock)" --set load.report="$out/$tag-b.json" \
		--set load.state_file="$out/$tag-b.state" \
		-l 0,1 $eal --file-prefix rg-ratio-b >"$out/$tag-b.log" 2>&1 &
	b=$!
	pids+=($b)
	timeout $((secs + 90)) tail --pid=$a -f /dev/null || true
	kill -TERM "$b" 2>/dev/null || true
	timeout 20 tail --pid=$b -f /dev/null || kill -9 "$b" 2>/dev/null || true
	python3 scripts/verdict.py "$out/$tag-a.json" "$out/$tag-b.json" >"$out/$tag-verdict.txt" ||
		{ cat "$out/$tag-verdict.txt" >&2; echo "repgate pair ($tag) failed" >&2; exit 1; }
	head -1 "$out/$tag-verdict.txt"
}

raw_json=$(raw 9014)
kib_json=$(pair 1024 kib)
small_json=$(pair 64 small)
raw_gbps=$(json "$raw_json" gbps)
raw_mpps=$(json "$raw_json" mpps)
kib_gbps=$(json "$kib_json" goodput_gbps)
kib_rps=$(json "$kib_json" records_per_s)
small_rps=$(json "$small_json" records_per_s)
ratio=$(python3 -c "print(f'{$kib_gbps / $raw_gbps:.3f}')")
cat <<TABLE
| measurement (${secs} s each, this machine) | value |
|---|---|
| raw memif, bare forwarder, 9014-byte frames | ${raw_gbps} Gbit/s (${raw_mpps} Mpps) |
| repgate goodput, 1 KiB records, emulator off | ${kib_gbps} Gbit/s (${kib_rps} records/s) |
| ratio repgate / raw | ${ratio} |
| records/s per worker core, 1 KiB records | ${kib_rps} |
| records/s per worker core, 64 B records | ${small_rps} |
TABLE
echo "{\"raw_gbps\":$raw_gbps,\"raw_mpps\":$raw_mpps,\"repgate_gbps\":$kib_gbps,\"ratio\":$ratio,\"rps_1k\":$kib_rps,\"rps_64\":$small_rps}"
