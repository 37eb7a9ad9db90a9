# repgate: a thin wrapper over meson. On a fresh Debian 12, as root: `make demo`, `make test`.
# Build dirs: build/release (the daemon, the simulator, perf), build/debug (ASan + UBSan,
# for lint and unit tests) and build/fuzz (clang, libFuzzer + ASan + UBSan: the fuzz targets
# alone). ninja reconfigures a dir by itself when a meson.build changes.

SHELL := /bin/bash
DEMO_CMD = scripts/demo.sh

release_opts := -Dbuildtype=release
debug_opts  := -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
# Optimised (libFuzzer's exec/s) with RG_DEBUG_ASSERT on: meson.build defines RG_DEBUG for every
# debug* buildtype.
fuzz_opts   := -Dfuzz=true -Dbuildtype=debugoptimized -Db_sanitize=address,undefined \
	-Db_lundef=false -Ddpdk=disabled -Dcanaries=false

# make fuzz: each target this long (seconds), one at a time, from the corpus the last runs left
# in build/fuzz/tests/fuzz/work/TARGET/corpus.
FUZZ_SECONDS ?= 600
# core_sealed (fuzz_core.c sealing with the real AEAD) starts from core's seed corpus.
FUZZ_TARGETS ?= wire core core_sealed noise profile telemetry

# $(call run_suite,DIR,SUITE): run one suite with its own log, meson-logs/testlog-SUITE.json
# (.ci/run counts those). A suite that has no tests yet is skipped, not failed: meson test --list
# exits 1 then ("No suitable tests defined."). (Not grep ' / ': a build dir with one suite, like
# build/fuzz, lists bare test names.)
run_suite = if meson test -C $(1) --no-rebuild --list --suite $(2) >/dev/null 2>&1; then \
		meson test -C $(1) --no-rebuild --print-errorlogs --logbase testlog-$(2) --suite $(2) || rc=1; \
	else echo "make: no $(2) tests yet in $(1)"; fi

.PHONY: all deps build release debug fuzz-build test fuzz demo perf bench clean format
all: build

deps:
	@scripts/deps.sh

build: release debug

release debug: deps
	@test -f build/$@/build.ninja || meson setup build/$@ $($@_opts)
	ninja -C build/$@

fuzz-build: deps
	@test -f build/fuzz/build.ninja || CC=clang CXX=clang++ meson setup build/fuzz $(fuzz_opts)
	ninja -C build/fuzz

# Lint and unit tests run in debug (sanitizers), the fuzz suite in build/fuzz (each target's
# seeds, then about 25 s of fuzzing each), the simulator and integration in release.
# Every run happens even if an earlier one failed; the exit status says whether any did.
test: build fuzz-build
	@scripts/eal-cleanup.sh; export RG_EAL_MEM="$$(scripts/hugepages.sh)"; rc=0; \
	meson test -C build/debug --no-rebuild --print-errorlogs --logbase testlog-unit \
		--suite lint --suite unit || rc=1; \
	$(call run_suite,build/fuzz,fuzz); \
	$(call run_suite,build/release,sim); \
	$(call run_suite,build/release,integration); \
	exit $$rc

# Every fuzz target for FUZZ_SECONDS (make fuzz FUZZ_SECONDS=60), one after the other; a crash
# is kept as build/fuzz/tests/fuzz/work/TARGET/crash-* (run.sh names it) and fails the run.
fuzz: fuzz-build
	@rc=0; for t in $(FUZZ_TARGETS); do \
		echo "make fuzz: $$t for $(FUZZ_SECONDS) s"; \
		seeds=$${t%_sealed}; \
		tests/fuzz/run.sh fuzz build/fuzz/tests/fuzz/fuzz_$$t tests/fuzz/corpus/$$seeds \
			build/fuzz/tests/fuzz/work/$$t $(FUZZ_SECONDS) || rc=1; \
	done; exit $$rc

# The two-region demo: two real gateways over net_memif through the WAN emulator (scripts/demo.sh).
demo: release
	@scripts/eal-cleanup.sh; export RG_EAL_MEM="$$(scripts/hugepages.sh)"; $(DEMO_CMD)

# The perf suite (never in `make test`): micro benchmarks, then the end-to-end harness with its
# baselines, then clients through a gateway pair against a kernel-TCP relay chain
# (perf/clients.py, which runs whatever the harness said). Tables, JSON, CSV and plots land in
# perf/results/; the exit status says whether any of them failed.
bench: release
	@perf/bench/run.sh

perf: release
	@scripts/eal-cleanup.sh; export RG_EAL_MEM="$$(scripts/hugepages.sh)"; \
	perf/bench/run.sh && perf/harness.py; rc=$$?; \
	perf/clients.py || rc=1; exit $$rc

clean:
	rm -rf build

format:
	git ls-files -z -co --exclude-standard '*.c' '*.h' | xargs -0 -r clang-format -i --style=file
