#!/bin/sh
# Usage: check-client-symbols.sh NM LIBREPGATE_SO HEADER
# librepgate exports its API and nothing else (client/librepgate.map): every symbol the shared
# library defines for others must be an rg_client_* function, and every rg_client_* function
# the public header declares must be exported. Fails on a library that exports nothing.
set -eu

nm=$1
lib=$2
header=$3

exported=$("$nm" -D --defined-only "$lib" | awk 'NF >= 3 && $2 ~ /^[TDBRWV]$/ {
	name = $3; sub(/@.*/, "", name); print name }' | sort -u)
if [ -z "$exported" ]; then
	echo "check-client-symbols: $lib exports nothing: nothing was checked" >&2
	exit 1
fi
bad=$(printf '%s\n' "$exported" | grep -v '^rg_client_' || true)
if [ -n "$bad" ]; then
	echo "check-client-symbols: $lib exports symbols outside its API (librepgate.map):" >&2
	printf '  %s\n' $bad >&2
	exit 1
fi
declared=$(grep -oE '\brg_client_[a-z_]+\(' "$header" | tr -d '(' | sort -u)
missing=$(printf '%s\n' "$declared" | while read -r f; do
	printf '%s\n' "$exported" | grep -qx "$f" || echo "$f"
done)
if [ -n "$missing" ]; then
	echo "check-client-symbols: declared in $header but not exported by $lib:" >&2
	printf '  %s\n' $missing >&2
	exit 1
fi
echo "check-client-symbols: $(printf '%s\n' "$exported" | wc -l) symbols, all rg_client_*," \
	"every declared function exported"
