#!/bin/sh
# Usage: check-proto-symbols.sh NM LIBRARY
# The protocol core is sans-I/O (DESIGN §4.1, §4.2): it must neither define nor reference DPDK,
# clock, thread or libc-random symbols. Fails on any such symbol, and on a library that defines
# no global symbol (a check that saw nothing proves nothing).
set -eu

nm=$1
lib=$2

# POSIX format: "NAME TYPE [VALUE SIZE]" a symbol, and an "archive[member]:" line per object.
syms=$("$nm" -P "$lib") || {
	echo "check-proto-symbols: $nm failed on $lib" >&2
	exit 1
}
nsyms=$(printf '%s\n' "$syms" | awk 'NF >= 2 && $1 !~ /:$/' | wc -l)
nglobal=$(printf '%s\n' "$syms" | awk 'NF >= 2 && $1 !~ /:$/ && $2 ~ /^[TDBRCWV]$/' | wc -l)
if [ "$nglobal" -eq 0 ]; then
	echo "check-proto-symbols: no global symbols defined in $lib: nothing was checked" >&2
	exit 1
fi

bad=$(printf '%s\n' "$syms" | awk '
	NF >= 2 && $1 !~ /:$/ {
		name = $1
		sub(/@.*/, "", name) # symbol versions, if any
		if (name ~ /^(rte_|RTE_|pthread_|thrd_|mtx_|cnd_)/ ||
		    name ~ /^(clock_gettime|clock|gettimeofday|time|timespec_get)$/ ||
		    name ~ /^(rand|random|srand|srandom|rand_r|random_r|srandom_r|getrandom|arc4random)$/ ||
		    name ~ /^(drand48|erand48|lrand48|nrand48|mrand48|jrand48|srand48|seed48)$/)
			printf "  %s (%s)\n", name, ($2 == "U" ? "referenced" : "defined")
	}' | sort -u)
if [ -n "$bad" ]; then
	echo "check-proto-symbols: $lib must be libc-only and sans-I/O, but has:"
	printf '%s\n' "$bad"
	exit 1
fi
echo "check-proto-symbols: $lib clean ($nsyms symbols checked, $nglobal defined)"
