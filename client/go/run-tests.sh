#!/bin/sh
# Usage: run-tests.sh SRCDIR BUILDDIR LIBREPGATE_A SOFTGW_PAIR SANITIZE [LIBS]
# LIBS: what the static library needs beyond -lcrypto -lm (-lIPSec_MB where meson found it).
# The Go binding's test (meson suite unit): go vet, the example's build and go test, offline,
# against the static librepgate of this meson build and a gateway pair in software.
# Exit 77 (meson: skipped) when there is no go.
set -eu

src=$1
build=$2
lib=$3
pair=$4
sanitize=$5
libs=${6:-}

if ! command -v go >/dev/null 2>&1; then
	echo "go-binding: skipped: no go on PATH (scripts/deps.sh installs golang-go)"
	exit 77
fi

# Offline and inside the build dir: no module download (go.mod has no requirements), no
# toolchain download (GOTOOLCHAIN, Go 1.21 and later), no cache in $HOME.
export GOPATH="$build/gopath" GOCACHE="$build/gocache" GOTMPDIR="$build/gotmp"
export GOTOOLCHAIN=local GOPROXY=off GOSUMDB=off GOFLAGS=-mod=readonly GO111MODULE=on
export CGO_ENABLED=1
mkdir -p "$GOTMPDIR"

# The header from the source tree, the static library from the build tree (-tags
# repgate_flags: no pkg-config). A library built with ASan/UBSan needs their runtimes: go's
# -asan links ASan and tells it about Go's memory; UBSan's runtime is added by hand.
export CGO_CFLAGS="-I$src/.."
export CGO_LDFLAGS="$lib${libs:+ $libs} -lcrypto -lm"
flags="-tags=repgate_flags"
case "$sanitize" in
*address*) flags="$flags -asan" ;;
esac
case "$sanitize" in
*undefined*) CGO_LDFLAGS="$CGO_LDFLAGS -lubsan" ;;
esac
# Go's runtime and the test binary's own allocations are not librepgate's to answer for.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"

cd "$src"
echo "go-binding: $(go version); CGO_LDFLAGS=$CGO_LDFLAGS; flags $flags"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "go-binding: not gofmt clean: $unformatted" >&2
	exit 1
fi
go vet $flags ./...
go build $flags -o "$build/replicate" ./examples/replicate
RG_SOFTGW_PAIR="$pair" go test $flags -count=1 -timeout 100s -v .
