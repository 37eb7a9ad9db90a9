#!/usr/bin/env bash
# Reserve 2 MiB hugepages for DPDK and print the EAL memory arguments to use, on one stdout line:
#   ""                   hugepages are reserved, hugetlbfs is mounted: EAL uses them;
#   "--no-huge -m 1024"  anything else (not root, no kernel support, allocation fell short).
# Diagnostics go to stderr. Never fails: always exits 0, so the build goes on without hugepages.
#
# Env: RG_HUGEPAGES      pages wanted (default 1024 = 2 GiB), capped at half of MemAvailable;
#      RG_HUGEPAGES_MIN  free pages below which we fall back (default 512 = 1 GiB);
#      RG_NOHUGE_MB      memory for the --no-huge fallback (default 1024).
set -u

want_pages=${RG_HUGEPAGES:-1024}
min_pages=${RG_HUGEPAGES_MIN:-512}
nohuge_mb=${RG_NOHUGE_MB:-1024}
sysdir=/sys/kernel/mm/hugepages/hugepages-2048kB
mnt=/dev/hugepages

fallback()
{
	echo "hugepages.sh: $*; using --no-huge -m $nohuge_mb" >&2
	echo "--no-huge -m $nohuge_mb"
	exit 0
}

meminfo()
{
	awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo
}

# Free 2 MiB pages: /proc/meminfo counts the default size only, so use it when that is 2 MiB.
free_pages()
{
	if [ "$(meminfo Hugepagesize)" = 2048 ]; then
		meminfo HugePages_Free
	else
		cat "$sysdir/free_hugepages" 2>/dev/null || echo 0
	fi
}

case "$want_pages$min_pages$nohuge_mb" in
*[!0-9]*) fallback "RG_HUGEPAGES, RG_HUGEPAGES_MIN and RG_NOHUGE_MB must be numbers" ;;
esac
[ "$(id -u)" -eq 0 ] || fallback "not root"
[ -d "$sysdir" ] || fallback "no 2 MiB hugepage support in this kernel"

# Never take more than half of the memory that is available now.
avail_pages=$(($(meminfo MemAvailable) / 2048 / 2))
[ "$want_pages" -le "$avail_pages" ] || want_pages=$avail_pages
[ "$min_pages" -le "$want_pages" ] || min_pages=$want_pages
[ "$min_pages" -gt 0 ] || fallback "no memory to spare for hugepages"

# Grow the pool by what is missing; never shrink it (other processes may hold pages).
free=$(free_pages)
total=$(cat "$sysdir/nr_hugepages" 2>/dev/null || echo 0)
if [ "${free:-0}" -lt "$want_pages" ]; then
	echo $((total + want_pages - free)) 2>/dev/null >"$sysdir/nr_hugepages" ||
		echo "hugepages.sh: cannot write $sysdir/nr_hugepages" >&2
fi

if ! awk -v m="$mnt" '$2 == m && $3 == "hugetlbfs" { found = 1 } END { exit !found }' \
	/proc/mounts; then
	mkdir -p "$mnt" 2>/dev/null && mount -t hugetlbfs -o pagesize=2M nodev "$mnt" 2>/dev/null ||
		fallback "cannot mount hugetlbfs at $mnt"
fi

free=$(free_pages)
[ "${free:-0}" -ge "$min_pages" ] ||
	fallback "only ${free:-0} free 2 MiB hugepages, need $min_pages"
echo "hugepages.sh: $free free 2 MiB hugepages at $mnt" >&2
echo ""
