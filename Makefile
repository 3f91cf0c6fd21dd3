# nrmlab front end. `make run` and `make test` each install what is missing (Debian
# packages and the npm packages of package-lock.json, via scripts/install-deps.sh; `make
# test` also the browser its end-to-end test drives) and build out of tree under build/.
BUILD ?= build
JOBS ?= $(shell nproc)
RELEASE := $(BUILD)/release
ASAN := $(BUILD)/asan
# `make run`'s own tree: nrmlab alone (no test suite, no benchmarks), so a fresh clone's
# `make run` compiles only what it runs, and run, test and bench never rebuild each other.
RUN_TREE := $(BUILD)/run
# Ninja, and unity builds (CMake joins up to 8 sources of a target into one translation
# unit): the headers (gtest, nlohmann-json, fmt, Eigen, Boost.Math) are parsed and their
# templates instantiated once per batch instead of once per file. Measured cold on 2 cores,
# the sanitized build: 12 min 48 s with Makefiles, one file a unit; 7 min with these.
# UNITY=OFF builds file by file (quicker to rebuild after editing one file).
UNITY ?= ON
CONFIGURE = scripts/configure-build.sh $(UNITY)

.PHONY: all deps test-deps build run test bench format check clean

all: build

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --test

build: deps
	@$(CONFIGURE) $(RELEASE) -DCMAKE_BUILD_TYPE=Release
	@cmake --build $(RELEASE) -j$(JOBS)

# The main job: the attribution study (studies/attribution.toml: the C256 factorial over
# sampling, blocking window, persistence, both model defects and the allocator, replicated,
# each run its own process; about 3 minutes on 2 cores) into runs/attribution, then its
# analysis (runs/attribution/analysis.json) and the ten-second summary. Running it again
# resumes: complete runs are kept.
run: deps
	@$(CONFIGURE) $(RUN_TREE) -DCMAKE_BUILD_TYPE=Release -DNRMLAB_TESTS=OFF -DNRMLAB_BENCH=OFF
	@cmake --build $(RUN_TREE) -j$(JOBS) --target nrmlab
	$(RUN_TREE)/nrmlab study studies/attribution.toml --out runs/attribution

# Static checks; the whole suite (the report in headless Chromium included, tests/e2e)
# built and run under AddressSanitizer + UBSan, with assertions on; then, in the release
# build, the allocator suite (ASan serves malloc itself, so glibc, jemalloc and mimalloc can
# only be tested without it) and the short planted-cause validation (`nrmlab validate`:
# every verdict right, at the speed and with the allocators it validates).
# Build time is most of CI's 20-minute budget on 2 cores: both builds are unity builds
# with Ninja (above), the sanitized build is -O1 with line tables only (half the compile
# time of -O2 -g; ASan's own recommendation), it skips the benchmarks, and the release
# build compiles only nrmlab and the allocator suite.
ASAN_FLAGS := -O1 -g1 -fno-omit-frame-pointer
# The sanitized suite runs as this many processes (gtest shards, tests/CMakeLists.txt), not
# one per test: each start of the sanitized binary costs about 0.45 s of CPU.
TEST_SHARDS ?= 12
test: test-deps check
	@$(CONFIGURE) $(ASAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$(ASAN_FLAGS)" -DNRMLAB_SANITIZE=ON -DNRMLAB_BENCH=OFF \
	  -DNRMLAB_TEST_SHARDS=$(TEST_SHARDS)
	@cmake --build $(ASAN) -j$(JOBS)
	cd $(ASAN) && ctest --output-on-failure -j$(JOBS)
	@$(CONFIGURE) $(RELEASE) -DCMAKE_BUILD_TYPE=Release
	@cmake --build $(RELEASE) -j$(JOBS) --target nrmlab nrmlab_allocator_tests
	cd $(RELEASE) && ctest --output-on-failure -L 'allocator|validate'

check:
	@scripts/check-layering.sh
	@scripts/check-format.sh

# Every benchmark (micro and end to end), written to bench/results/<date>.json.
bench: build
	bench/run.sh $(RELEASE)

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD)
