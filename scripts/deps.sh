#!/usr/bin/env bash
# Install what building, testing and running repgate needs on Debian 12 (bookworm).
# Idempotent: silent when everything is present; otherwise one `apt-get update` (a fresh
# machine has empty package lists) and one `apt-get install` of the missing packages.
set -eu

pkgs=(
	build-essential pkg-config meson ninja-build python3 git # toolchain; git for lint/format
	dpdk dpdk-dev libdpdk-dev libnuma-dev                    # data plane (DESIGN §4)
	libconfig-dev libmicrohttpd-dev                          # profiles, Prometheus metrics
	libssl-dev                                               # libcrypto: X25519, HKDF, AES-256-GCM (control/keys.c)
	libipsec-mb-dev                                          # AES-256-GCM on VAES/AVX-512 (control/keys.c)
	libcmocka-dev libbenchmark-dev                           # unit tests, perf micro benches
	clang clang-format clang-tools                           # fuzz, format, scan-build
	libclang-rt-14-dev llvm                                  # libFuzzer/sanitizer runtimes (only
	                                                         # Recommended by clang), llvm-symbolizer
	binutils gnuplot-nox iproute2                            # nm (lint), perf plots, veth/netns
	golang-go                                                # the Go binding (client/go): Go 1.19, stdlib only
	prometheus                                               # promtool: lints /metrics' text (test_prom)
)

missing=()
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "deps.sh: missing packages: ${missing[*]}; run as root to install them" >&2
		exit 1
	fi
	sudo=(sudo)
fi

echo "deps.sh: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}"
# The prometheus package is here for its promtool; its server is not wanted on a build host.
if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled prometheus >/dev/null 2>&1; then
	"${sudo[@]}" systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
