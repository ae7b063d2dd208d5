# artagent — `make run` (install, build, serve) and `make test` (everything ctest knows).
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
ARGS ?=

.PHONY: all deps deps-run configure build run test test-unit test-integration test-e2e bench \
	format clean fuzz fuzz-build fuzz-smoke test-asan test-tsan

all: build

# Everything: build, run and test (Chromium and the npm packages of the e2e tests included).
deps:
	@scripts/install-deps

# Only what building and running the server needs.
deps-run:
	@scripts/install-deps --no-e2e

configure:
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null

build: deps configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Starts the server with the embedded defaults (offline: pocketsphinx, flite, the flow model,
# SQLite in data/) and prints the URL. Extra flags: make run ARGS="--listen 0.0.0.0:8080".
run: deps-run configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target artagent
	@echo "artagent: open the printed address in a browser and press the microphone button."
	@$(BUILD_DIR)/app/artagent serve $(ARGS)

# Unit, integration (the real server on loopback) and e2e (headless Chromium, the openai client).
test: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j 2 --timeout 300

test-unit: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j 2 -L unit

test-integration: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -L integration

test-e2e: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -L e2e

bench: build
	@for b in $(BUILD_DIR)/bench/artagent_*_bench; do echo "== $$b"; $$b --benchmark_min_time=0.2; done

# libFuzzer targets (fuzz/), in their own clang + ASan/UBSan build: `make fuzz` runs each for
# FUZZ_SECONDS on a copy of its seed corpus (fuzz/corpus/<target>, never written to); crashes land
# in $(FUZZ_BUILD_DIR)/fuzz-out/<target>/. `make fuzz-smoke` only replays the seeds (-runs=0).
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 30
FUZZ_JOBS ?= 2
FUZZERS = fuzz_realtime_event fuzz_sse fuzz_wav fuzz_agent_yaml fuzz_acs_media fuzz_event_grid \
	fuzz_acs_callbacks fuzz_http_head

fuzz-build:
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DARTAGENT_BUILD_FUZZERS=ON -DARTAGENT_BUILD_TESTS=OFF -DARTAGENT_BUILD_BENCHMARKS=OFF \
		-DARTAGENT_SANITIZE="address;undefined" >/dev/null
	@cmake --build $(FUZZ_BUILD_DIR) -j $(FUZZ_JOBS) --target artagent_fuzzers

fuzz: fuzz-build
	@set -e; for f in $(FUZZERS); do \
		out=$(FUZZ_BUILD_DIR)/fuzz-out/$$f; rm -rf $$out; mkdir -p $$out/corpus; \
		cp fuzz/corpus/$$f/* $$out/corpus/; \
		echo "== $$f ($(FUZZ_SECONDS) s)"; \
		$(FUZZ_BUILD_DIR)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
			-artifact_prefix=$$out/ -print_final_stats=1 $$out/corpus 2>$$out/log.txt \
			|| { tail -40 $$out/log.txt; exit 1; }; \
		grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec|#[0-9]+ +DONE)" \
			$$out/log.txt; \
	done

fuzz-smoke: fuzz-build
	@set -e; for f in $(FUZZERS); do \
		log=$(FUZZ_BUILD_DIR)/fuzz-smoke-$$f.txt; \
		$(FUZZ_BUILD_DIR)/fuzz/$$f -runs=0 fuzz/corpus/$$f >$$log 2>&1 || { tail -40 $$log; exit 1; }; \
		echo "== $$f: $$(tail -1 $$log)"; \
	done

# Sanitizer builds of the unit and integration suites: build-asan (AddressSanitizer + UBSan,
# leaks included) and build-tsan (ThreadSanitizer). Every process writes its reports to
# BUILD/sanitizer-logs/ - the servers the integration tests start included, whose stderr no test
# reads - and any report fails the target. Suppressions (third-party code only) are in
# sanitizers/. SAN_LABELS=unit runs only the unit tests.
ASAN_BUILD_DIR ?= build-asan
TSAN_BUILD_DIR ?= build-tsan
SAN_JOBS ?= $(JOBS)
SAN_LABELS ?= unit|integration
SAN_TIMEOUT ?= 900
SAN_CONFIGURE = cmake -S . -B $(1) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DARTAGENT_SANITIZE="$(2)" -DARTAGENT_BUILD_BENCHMARKS=OFF >/dev/null
SAN_CHECK_LOGS = if ls $(1)/sanitizer-logs/* >/dev/null 2>&1; then \
	echo "sanitizer reports in $(1)/sanitizer-logs:"; head -60 $(1)/sanitizer-logs/*; exit 1; fi; \
	echo "$(2): no findings"

test-asan: deps-run
	@$(call SAN_CONFIGURE,$(ASAN_BUILD_DIR),address;undefined)
	@cmake --build $(ASAN_BUILD_DIR) -j $(SAN_JOBS)
	@rm -rf $(ASAN_BUILD_DIR)/sanitizer-logs && mkdir -p $(ASAN_BUILD_DIR)/sanitizer-logs
	@ASAN_OPTIONS=detect_leaks=1:strict_init_order=1:log_path=$(CURDIR)/$(ASAN_BUILD_DIR)/sanitizer-logs/asan \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$(CURDIR)/sanitizers/ubsan.supp:log_path=$(CURDIR)/$(ASAN_BUILD_DIR)/sanitizer-logs/ubsan \
	LSAN_OPTIONS=suppressions=$(CURDIR)/sanitizers/lsan.supp \
	ctest --test-dir $(ASAN_BUILD_DIR) --output-on-failure -j 2 -L '$(SAN_LABELS)' --timeout $(SAN_TIMEOUT)
	@$(call SAN_CHECK_LOGS,$(ASAN_BUILD_DIR),test-asan)

test-tsan: deps-run
	@$(call SAN_CONFIGURE,$(TSAN_BUILD_DIR),thread)
	@cmake --build $(TSAN_BUILD_DIR) -j $(SAN_JOBS)
	@rm -rf $(TSAN_BUILD_DIR)/sanitizer-logs && mkdir -p $(TSAN_BUILD_DIR)/sanitizer-logs
	@TSAN_OPTIONS=second_deadlock_stack=1:halt_on_error=0:suppressions=$(CURDIR)/sanitizers/tsan.supp:log_path=$(CURDIR)/$(TSAN_BUILD_DIR)/sanitizer-logs/tsan \
	ctest --test-dir $(TSAN_BUILD_DIR) --output-on-failure -j 2 -L '$(SAN_LABELS)' --timeout $(SAN_TIMEOUT)
	@$(call SAN_CHECK_LOGS,$(TSAN_BUILD_DIR),test-tsan)

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	@rm -rf $(BUILD_DIR)
