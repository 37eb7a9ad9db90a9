# repgate: a thin wrapper over meson. On a fresh Debian 12, as root: `make demo`, `make test`.
# Build dirs: build/release (the daemon, the simulator, perf) and build/debug (ASan + UBSan,
# for lint and unit tests). ninja reconfigures a dir by itself when a meson.build changes.

SHELL := /bin/bash
DEMO_CMD = scripts/demo.sh

release_opts := -Dbuildtype=release
debug_opts  := -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

# $(call run_suite,DIR,SUITE): run one suite with its own log, meson-logs/testlog-SUITE.json
# (.ci/run counts those). A suite that has no tests yet is skipped, not failed.
run_suite = if meson test -C $(1) --no-rebuild --list --suite $(2) 2>/dev/null | \
		grep -q ' / '; then \
		meson test -C $(1) --no-rebuild --print-errorlogs --logbase testlog-$(2) --suite $(2) || rc=1; \
	else echo "make: no $(2) tests yet in $(1)"; fi

.PHONY: all deps build release debug test demo perf bench clean format
all: build

deps:
	@scripts/deps.sh

build: release debug

release debug: deps
	@test -f build/$@/build.ninja || meson setup build/$@ $($@_opts)
	ninja -C build/$@

# Lint and unit tests run in debug (sanitizers), the simulator and integration in release.
# Every run happens even if an earlier one failed; the exit status says whether any did.
test: build
	@scripts/eal-cleanup.sh; export RG_EAL_MEM="$$(scripts/hugepages.sh)"; rc=0; \
	meson test -C build/debug --no-rebuild --print-errorlogs --logbase testlog-unit \
		--suite lint --suite unit || rc=1; \
	$(call run_suite,build/release,sim); \
	$(call run_suite,build/release,integration); \
	exit $$rc

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
