#!/bin/sh
# Usage: run-tests.sh SRCDIR LIBREPGATE_SO SOFTGW_PAIR SANITIZE CC
# The Python binding's test (meson suite unit): test_repgate.py against this build's
# librepgate.so and a gateway pair in software. A library built with ASan needs ASan's runtime
# loaded first: it is preloaded into Python (leak reports off: the interpreter's own
# allocations are not librepgate's to answer for).
set -eu

src=$1
lib=$2
pair=$3
sanitize=$4
cc=$5

py=$(command -v python3 || true)
if [ -z "$py" ]; then
	echo "python-binding: skipped: no python3"
	exit 77
fi
export RG_LIBREPGATE="$lib" RG_SOFTGW_PAIR="$pair" PYTHONDONTWRITEBYTECODE=1
case "$sanitize" in
*address*)
	asan=$("$cc" -print-file-name=libasan.so)
	export LD_PRELOAD="$asan" ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
	;;
esac
exec "$py" "$src/test_repgate.py"
