#!/usr/bin/env bash
# Remove stale DPDK runtime files left by our processes (always started with --file-prefix rg-*):
# runtime dirs /var/run/dpdk/rg-* (or $XDG_RUNTIME_DIR/dpdk, /tmp/dpdk when not root) and
# hugepage files /dev/hugepages/rg-*. Stale hugepage files keep their pages reserved, so run
# this before scripts/hugepages.sh. Anything a live process still has open or mapped is kept.
set -u

# Every path some process has open or mapped, one a line (/var/run is a link to /run).
in_use=$( {
	for fd in /proc/[0-9]*/fd/*; do readlink "$fd" 2>/dev/null; done
	awk '$6 ~ /^\// { print $6 }' /proc/[0-9]*/maps 2>/dev/null
} | sed 's|^/var/run/|/run/|' | sort -u)

nl=$'\n'
used()
{
	local p=${1/#\/var\/run\//\/run\/}
	[[ "$nl$in_use$nl" == *"$nl$p$nl"* || "$nl$in_use" == *"$nl$p/"* ]]
}

removed=0 kept=0
for d in /var/run/dpdk/rg-* "${XDG_RUNTIME_DIR:-/tmp}"/dpdk/rg-* /tmp/dpdk/rg-* \
	/dev/hugepages/rg-*; do
	[ -e "$d" ] || continue
	if used "$d"; then
		kept=$((kept + 1))
	else
		rm -rf -- "$d" && removed=$((removed + 1))
	fi
done
[ "$removed" -eq 0 ] || echo "eal-cleanup.sh: removed $removed stale DPDK file(s)" >&2
[ "$kept" -eq 0 ] || echo "eal-cleanup.sh: kept $kept rg-* DPDK file(s) a live process uses" >&2
exit 0
