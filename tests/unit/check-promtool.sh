#!/usr/bin/env bash
# The exposition apps/prom.c writes passes Prometheus's own parser and linter: rg-prom-sample
# prints one full of what must be escaped or replaced, `promtool check metrics` reads it.
# Skips (77) without promtool (Debian package prometheus; scripts/deps.sh installs it).
#   check-promtool.sh RG_PROM_SAMPLE
set -u
command -v promtool >/dev/null 2>&1 || { echo "promtool not found: skipped"; exit 77; }
text=$("$1") || { echo "FAIL: $1 exited $?"; exit 1; }
[ "$(grep -c '^repgate_info' <<<"$text")" -eq 6 ] || { echo "FAIL: want 6 samples:"; echo "$text"; exit 1; }
if ! out=$(promtool check metrics <<<"$text" 2>&1); then
	echo "FAIL: promtool check metrics: $out"
	echo "$text"
	exit 1
fi
echo "ok: promtool check metrics passes ($(wc -l <<<"$text") lines)"
