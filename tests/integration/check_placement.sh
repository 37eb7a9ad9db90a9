#!/usr/bin/env bash
# The NUMA placement warning (hardware.md) on a real gateway: with the port declared on another
# node than the worker's CPU (port.numa_node), repgate warns at start-up; on the same node it
# does not. One gateway, no peer traffic, stopped with SIGTERM after it is up.
#   check_placement.sh REPGATE SOURCE_ROOT WORKDIR
set -u
repgate=$1 root=$2 work=$3
mkdir -p "$work" /run/repgate
sock=/run/repgate/placement-$$.sock
eal_mem=${RG_EAL_MEM---no-huge -m 1024}
prefix=rg-placement-$$
pid=
# On every way out: the gateway gone, then its socket, DPDK runtime dir and hugepage files.
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -f "$sock"
	rm -rf "/var/run/dpdk/$prefix" "${XDG_RUNTIME_DIR:-/tmp}/dpdk/$prefix" "/tmp/dpdk/$prefix"
	for m in $(awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts); do
		rm -f "$m/$prefix"map_*
	done
}
trap cleanup EXIT

# Sealed like every gateway: a key of its own, and one for its (absent) peer.
keytool=$(dirname "$repgate")/repgate-key
rm -f "$work/gw.key" "$work/peer.key"
"$keytool" keygen "$work/gw.key" && "$keytool" keygen "$work/peer.key" || exit 1
peerpub=$("$keytool" pubkey "$work/peer.key")

run() { # run NODE: starts a gateway with port.numa_node=NODE, waits until up, stops it
	rm -f "$sock"
	"$repgate" --profile "$root/profiles/bench-a.conf" --set load.role=none \
		--set security.key="$work/gw.key" --set peers.[0].pubkey="$peerpub" \
		--set port.numa_node="$1" \
		--set port.device="net_memif0,role=server,socket=$sock,socket-abstract=no" \
		-l 0,1 $eal_mem --no-pci --log-level='*:warning' --file-prefix="$prefix" \
		>"$work/out-$1" 2>"$work/err-$1" &
	pid=$!
	for _ in $(seq 300); do grep -q " up: " "$work/out-$1" && break; sleep 0.1; done
	kill -TERM "$pid"
	wait "$pid"
	local rc=$?
	pid=
	grep -q " up: " "$work/out-$1" || { echo "FAIL: the gateway did not come up: $(cat "$work/err-$1")"; exit 1; }
	[ $rc -eq 0 ] || { echo "FAIL: exit $rc"; exit 1; }
}

node=$(ls -d /sys/devices/system/cpu/cpu1/node* 2>/dev/null | sed 's/.*node//' | head -1)
node=${node:-0}
other=$((node + 1))
run "$other"
if ! grep -q "warning: worker 0 runs on CPU 1, NUMA node $node, but port net_memif0 is on node $other" "$work/err-$other"; then
	echo "FAIL: no placement warning with the port on node $other: $(cat "$work/err-$other")"
	exit 1
fi
echo "ok: warned: $(grep warning "$work/err-$other")"
run "$node"
if grep -q "warning: worker" "$work/err-$node"; then
	echo "FAIL: a placement warning with the port on the workers' node $node"
	exit 1
fi
echo "ok: no warning with the port on node $node"
