#!/usr/bin/env bash
# make demo: region A and region B on this machine, every hop a real process.
#
#   producer P  (repgate-load --role generator, librepgate client 10)   netns rg-demo-lan-a
#      │ kernel UDP over net_tap: 10.1.0.1 → 10.1.0.2
#   gateway A   (repgate, profiles/demo-a.conf)                          memif server
#      │ net_memif through the WAN emulator: 30 ms one way, 0.5 % loss, reordering
#   gateway B   (repgate, profiles/demo-b.conf)                          memif client
#      │ kernel UDP over net_tap: 10.2.0.2 → 10.2.0.1
#   consumer C  (repgate-load --role verifier, librepgate client 20)    netns rg-demo-lan-b
#
# 64 streams in 4 namespaces of 1 KiB records at RG_DEMO_RATE records/s for RG_DEMO_SECONDS.
# Each gateway's LAN is a net_tap port; its kernel side is moved into a network namespace of
# the demo's own, where the client runs, so nothing touches the host's interfaces. All four
# show a progress line a second ("A |", "B |", "P |", "C |"). P ends by itself (its duration,
# then until everything it made is applied); C is stopped once it applied all of it; the
# gateways are stopped; scripts/verdict.py merges P's and C's verdicts. Exit status:
# verdict.py's (0 pass, 1 fail, 2 a verdict is missing), or 1 if a process failed to start.
# Logs, JSON verdicts and C's state: build/demo/. Nothing is left behind on any exit:
# processes (stopped by pid), namespaces, the memif socket, rg-* DPDK runtime files.
#
# Env: RG_EAL_MEM       EAL memory args (default: what scripts/hugepages.sh prints);
#      RG_DEMO_SECONDS  P's --duration (default 20); RG_DEMO_RATE (default 40000).
set -u

cd "$(dirname "$0")/.." || exit 1
bin=build/release/apps/repgate
load=build/release/apps/load/repgate-load
out=build/demo
sock=/run/repgate/demo.sock # port.device in demo-a.conf and demo-b.conf
duration=${RG_DEMO_SECONDS:-20}
rate=${RG_DEMO_RATE:-40000}
streams=(--streams 64 --namespaces 4 --record-bytes 1024)

apid='' bpid='' ppid_='' cpid='' fols=()
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
	stop "$ppid_" P
	stop "$cpid" C
	stop "$apid" A
	stop "$bpid" B
	for f in "${fols[@]}"; do alive "$f" && kill "$f" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del rg-demo-lan-a 2>/dev/null
	ip netns del rg-demo-lan-b 2>/dev/null
	rm -f "$sock"
	scripts/eal-cleanup.sh
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -x "$bin" ] && [ -x "$load" ] || die "$bin or $load is not built: run make build"
[ "$(id -u)" -eq 0 ] || die "the demo needs root (DPDK ports, taps, network namespaces)"
case $duration$rate in '' | *[!0-9.]*) die "RG_DEMO_SECONDS and RG_DEMO_RATE must be numbers" ;; esac
mkdir -p "$out" "$(dirname "$sock")" || die "cannot create $out or $(dirname "$sock")"
# One demo at a time on this machine: the socket path and the namespaces are fixed.
exec 9>"$(dirname "$sock")/demo.lock"
flock -n 9 || die "another demo is running (it holds $(dirname "$sock")/demo.lock)"

scripts/eal-cleanup.sh
if [ "${RG_EAL_MEM+set}" = set ]; then mem=$RG_EAL_MEM; else mem=$(scripts/hugepages.sh); fi
rm -f "$sock" "$out"/*.json "$out"/c.state "$out"/*.log "$out"/*.err
# Every hop is sealed (security.mode = "aead" in base.conf): an identity key each, made afresh
# (repgatectl keygen), and each side told the others' public keys.
keytool=build/release/apps/repgate-key
rm -rf "$out/keys" && mkdir -m 700 "$out/keys" || die "cannot create $out/keys"
declare -A pub
for k in a b p c; do
	"$keytool" keygen "$out/keys/$k.key" || die "cannot make a key with $keytool"
	pub[$k]=$("$keytool" pubkey "$out/keys/$k.key") || die "no public key for $k"
done
sec_a=(--set "security.key=$out/keys/a.key" --set "peers.[0].pubkey=${pub[b]}"
	--set "peers.[1].pubkey=${pub[p]}")
sec_b=(--set "security.key=$out/keys/b.key" --set "peers.[0].pubkey=${pub[a]}"
	--set "peers.[1].pubkey=${pub[c]}")
# shellcheck disable=SC2206 # the memory args are words
eal=(-l '0,1' $mem --no-pci "--log-level=*:warning")
for ns in rg-demo-lan-a rg-demo-lan-b; do
	ip netns del "$ns" 2>/dev/null
	ip netns add "$ns" && ip -n "$ns" link set lo up || die "cannot create network namespace $ns"
done

# Shows a log file live with a prefix until the process writing it has exited.
follow()
{
	tail -n +1 -F --pid="$2" "$1" 2>/dev/null 9>&- | sed -u "s/^/$3 | /" 9>&- &
	fols+=($!)
}

# Moves gateway $1's new tap into LAN namespace $2 and gives its kernel side address $3.
lan_up()
{
	local iface=$1 ns=$2 addr=$3 i
	for i in $(seq 100); do ip link show "$iface" >/dev/null 2>&1 && break; sleep 0.1; done
	ip link set "$iface" netns "$ns" && ip -n "$ns" addr add "$addr" dev "$iface" &&
		ip -n "$ns" link set "$iface" up || die "cannot bring $iface up in $ns"
}

say "P (producer client) → gateway A → emulated WAN (30 ms one way, 0.5 % loss) → gateway B"
say "→ C (verifying consumer client): 64 streams in 4 namespaces, 1 KiB records, $rate/s, ${duration} s"
say "logs, JSON verdicts and C's state in $out/"

# A is the memif server: it makes the socket, which the client B needs when it starts.
"$bin" --profile profiles/demo-a.conf "${sec_a[@]}" "${eal[@]}" --file-prefix rg-demo-a \
	>"$out/a.log" 2>"$out/a.err" 9>&- &
apid=$!
follow "$out/a.log" "$apid" A
for _ in $(seq 150); do
	[ -S "$sock" ] && break
	alive "$apid" || break
	sleep 0.1
done
[ -S "$sock" ] || die "A did not create $sock within 15 s: see $out/a.err: $(tail -n 3 "$out/a.err")"
"$bin" --profile profiles/demo-b.conf "${sec_b[@]}" "${eal[@]}" --file-prefix rg-demo-b \
	>"$out/b.log" 2>"$out/b.err" 9>&- &
bpid=$!
follow "$out/b.log" "$bpid" B
lan_up rg-demo-a rg-demo-lan-a 10.1.0.1/24
lan_up rg-demo-b rg-demo-lan-b 10.2.0.1/24

ip netns exec rg-demo-lan-b "$load" --role verifier --id 20 --key "$out/keys/c.key" \
	--gateway "2@10.2.0.2:7000,${pub[b]}" \
	"${streams[@]}" --state-file "$out/c.state" --report "$out/c.json" \
	>"$out/c.log" 2>"$out/c.err" 9>&- &
cpid=$!
follow "$out/c.log" "$cpid" C
ip netns exec rg-demo-lan-a "$load" --role generator --id 10 --key "$out/keys/p.key" \
	--gateway "1@10.1.0.2:7000,${pub[a]}" \
	"${streams[@]}" --rate "$rate" --duration "$duration" --report "$out/p.json" \
	>"$out/p.log" 2>"$out/p.err" 9>&- &
ppid_=$!
follow "$out/p.log" "$ppid_" P

# P ends by itself: its duration, then until all it made is applied (its drain bound: 60 s).
limit=$((SECONDS + ${duration%.*} + 70))
while alive "$ppid_"; do
	for p in "$apid:A" "$bpid:B" "$cpid:C"; do
		alive "${p%%:*}" || { echo "demo: ${p#*:} exited early: see $out/" >&2; break 2; }
	done
	[ $SECONDS -lt $limit ] || { echo "demo: P still running: stopping it" >&2; break; }
	sleep 0.2
done
wait "$ppid_" 2>/dev/null
# C has everything once it applied all P made: wait for that (bounded), then stop it.
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records_delivered"])' \
	"$out/p.json" 2>/dev/null || echo 0)
for _ in $(seq 100); do
	got=$(tail -n 1 "$out/c.log" | sed -n 's/.* applied \([0-9]*\) .*/\1/p')
	[ -n "$got" ] && [ "$got" -ge "$want" ] && break
	sleep 0.1
done
stop "$cpid" C
stop "$apid" A
stop "$bpid" B
for f in "${fols[@]}"; do wait "$f" 2>/dev/null; done
fols=()

grep -h '^repgate: final counters' "$out/a.err" "$out/b.err" | sed 's/^/  /'
say "logs: $out/{a,b,p,c}.{log,err}; verdicts: $out/p.json $out/c.json"
scripts/verdict.py "$out/p.json" "$out/c.json"
