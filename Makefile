# artagent — `make run` (install, build, serve) and `make test` (everything ctest knows).
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
ARGS ?=

.PHONY: all deps deps-run configure build run test test-unit test-integration test-e2e bench \
	format clean

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

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	@rm -rf $(BUILD_DIR)
