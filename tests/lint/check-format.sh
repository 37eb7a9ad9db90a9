#!/bin/sh
# Usage: check-format.sh SOURCE_ROOT
# Fails, listing the files, if a C source under the project's code folders differs from what
# clang-format makes of it with the repo's .clang-format. Fix with `make format`.
# Files: git's tracked and untracked-but-not-ignored ones; `find` when not a git checkout.
set -eu

root=$1
cd "$root"
dirs="dataplane control drivers client apps tests perf"
cf=${CLANG_FORMAT:-clang-format}
command -v "$cf" >/dev/null 2>&1 || {
	echo "check-format: $cf not found (scripts/deps.sh installs clang-format)" >&2
	exit 1
}

list_files()
{
	if [ -e .git ] && git rev-parse --git-dir >/dev/null 2>&1; then
		for d in $dirs; do
			git ls-files -co --exclude-standard -- "$d/*.c" "$d/*.h"
		done
	else
		for d in $dirs; do
			[ -d "$d" ] && find "$d" -type f \( -name '*.c' -o -name '*.h' \)
		done
	fi
}

files=$(list_files | sort -u)
checked=0
bad=""
for f in $files; do
	[ -f "$f" ] || continue # deleted but still tracked
	checked=$((checked + 1))
	"$cf" --style=file --dry-run --Werror "$f" >/dev/null 2>&1 || bad="$bad $f"
done

if [ "$checked" -eq 0 ]; then
	echo "check-format: no C sources found under $dirs: nothing was checked" >&2
	exit 1
fi
if [ -n "$bad" ]; then
	echo "check-format: not clang-format clean (run 'make format'):"
	for f in $bad; do
		echo "  $f"
	done
	for f in $bad; do # show the first offending lines of each, to make the failure readable
		"$cf" --style=file --dry-run --Werror "$f" 2>&1 | head -n 6
	done
	exit 1
fi
echo "check-format: $checked file(s) clean"
