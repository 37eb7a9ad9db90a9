#!/usr/bin/env bash
# make demo: two real repgate gateways over net_memif on this machine.
#
#   region A (profiles/demo-a.conf): the load generator, memif server
#   region B (profiles/demo-b.conf): the verifying consumer, memif client
#
# 64 streams in 4 namespaces of 1 KiB records for 30 s, through the WAN emulator shim:
# 30 ms one-way delay, 0.5 % loss, some reordering (profiles/demo.conf). Both progress lines
# are shown live ("A |", "B |"); A exits once its duration is over and everything it made
# was applied; then B is stopped with SIGTERM and scripts/verdict.py merges both verdicts.
# Exit status: verdict.py's (0 pass, 1 fail, 2 a verdict is missing), or 1 if a gateway
# failed to start or stop. Logs, JSON verdicts and B's state file: build/demo/.
#
# Env: RG_EAL_MEM       EAL memory args (default: what scripts/hugepages.sh prints);
#      RG_DEMO_SECONDS  A's load.duration_s (default: the profile's, 30).
# Nothing is left behind on any exit: gateways, the memif socket, rg-* DPDK runtime files.
set -u

cd "$(dirname "$0")/.." || exit 1
bin=build/release/apps/repgate
out=build/demo
sock=/run/repgate/demo.sock # port.device in demo-a.conf and demo-b.conf
duration=${RG_DEMO_SECONDS:-30}

apid='' bpid='' afol='' bfol=''
say() { echo "demo: $*"; }
die() {
	echo "demo: $*" >&2
	exit 1
}

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# Waits up to $2 seconds for pid $1 to exit; 0 if it did.
wait_gone()
{
	local pid=$1 deadline=$((SECONDS + $2))
	while alive "$pid" && [ $SECONDS -lt "$deadline" ]; do sleep 0.2; done
	! alive "$pid"
}

# SIGTERM, a bounded wait, then SIGKILL; reaps it.
stop()
{
	local pid=$1 name=$2
	alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	if ! wait_gone "$pid" 15; then
		echo "demo: $name did not stop within 15 s of SIGTERM: killing it" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
}

cleanup()
{
	local rc=$?
	trap - EXIT INT TERM
	stop "$apid" "A"
	stop "$bpid" "B"
	for f in $afol $bfol; do alive "$f" && kill "$f" 2>/dev/null; done
	wait 2>/dev/null
	rm -f "$sock"
	scripts/eal-cleanup.sh
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -x "$bin" ] || die "$bin is not built: run make build"
case $duration in '' | *[!0-9.]*) die "RG_DEMO_SECONDS must be a number of seconds" ;; esac
mkdir -p "$out" "$(dirname "$sock")" || die "cannot create $out or $(dirname "$sock")"
# One demo at a time on this machine: the socket path is fixed by the profiles. (fd 9 holds
# the lock; the gateways do not inherit it.)
exec 9>"$(dirname "$sock")/demo.lock"
flock -n 9 || die "another demo is running (it holds $(dirname "$sock")/demo.lock)"

scripts/eal-cleanup.sh
if [ "${RG_EAL_MEM+set}" = set ]; then mem=$RG_EAL_MEM; else mem=$(scripts/hugepages.sh); fi
rm -f "$sock" "$out"/a.json "$out"/b.json "$out"/b.state "$out"/[ab].log "$out"/[ab].err
# shellcheck disable=SC2206 # the memory args are words
eal=(-l '0,1' $mem --no-pci "--log-level=*:warning")

# Shows a log file live with a prefix until the gateway writing it has exited.
follow()
{
	tail -n +1 -F --pid="$2" "$1" 2>/dev/null 9>&- | sed -u "s/^/$3 | /" 9>&- &
}

say "region A (generator) → region B (verifying consumer) over net_memif: 64 streams in 4"
say "namespaces, 1 KiB records, ${duration} s; emulated WAN: 30 ms one-way, 0.5 % loss, reordering"
say "logs, JSON verdicts and state in $out/ (a.log, a.err, a.json, b.log, b.err, b.json)"

# A is the memif server: it makes the socket, which the client B needs when it starts.
"$bin" --profile profiles/demo-a.conf --set load.duration_s="$duration" "${eal[@]}" \
	--file-prefix rg-demo-a >"$out/a.log" 2>"$out/a.err" 9>&- &
apid=$!
follow "$out/a.log" "$apid" A
afol=$!
for _ in $(seq 150); do
	[ -S "$sock" ] && break
	alive "$apid" || break
	sleep 0.1
done
[ -S "$sock" ] || die "A did not create $sock within 15 s: see $out/a.err: $(tail -n 3 "$out/a.err")"

"$bin" --profile profiles/demo-b.conf "${eal[@]}" --file-prefix rg-demo-b \
	>"$out/b.log" 2>"$out/b.err" 9>&- &
bpid=$!
follow "$out/b.log" "$bpid" B
bfol=$!

# A ends by itself: duration, then until all it made is applied (its own drain bound is 60 s).
limit=$((SECONDS + ${duration%.*} + 90))
while alive "$apid"; do
	if ! alive "$bpid"; then
		wait "$bpid"
		echo "demo: B exited early (status $?): see $out/b.err: $(tail -n 3 "$out/b.err")" >&2
		break
	fi
	if [ $SECONDS -ge $limit ]; then
		echo "demo: A still running $((${duration%.*} + 90)) s after start: stopping it" >&2
		break
	fi
	sleep 0.2
done
stop "$apid" A
wait "$apid" 2>/dev/null
stop "$bpid" B
wait "$afol" "$bfol" 2>/dev/null
afol='' bfol=''

grep -h '^repgate: final counters' "$out/a.err" "$out/b.err" | sed 's/^/  /'
say "logs: $out/a.log $out/a.err $out/b.log $out/b.err; verdicts: $out/a.json $out/b.json"
scripts/verdict.py "$out/a.json" "$out/b.json"
