# kmm - convenience wrapper around CMake.  The real build is CMakeLists.txt.
#
#   make / make build   configure (RelWithDebInfo) and build in build/
#   make run            build, then run `kmm demo` (or kmm-boot-demo)
#   make test           build, then run every test (ctest)
#   make test-asan      ASan + UBSan build in build-asan/, every test
#   make test-tsan      TSan build in build-tsan/, tests labelled "threaded"
#   make freestanding   compile the core -ffreestanding, check its symbols
#   make bench          Release build in build-bench/, run bench/run.sh:
#                       results table in build-bench/results.md
#                       (make bench BENCH_ARGS=--quick for a short run)
#   make fuzz           libFuzzer targets (clang) in build-fuzz/, each run
#                       FUZZ_SECONDS (default 600) from fuzz/corpus/
#   make fuzz-smoke     the same, 20 s per target (CI: about a minute)
#   make test-valgrind  Valgrind build (KMM_VALGRIND=ON) in build-valgrind/,
#                       the unit tests under memcheck (about 3 minutes)
#   make install PREFIX=/usr/local
#   make clean          remove every build directory
#
# Extra CMake options: make CMAKE_ARGS="-DKMM_DEBUG=3 -DKMM_WERROR=ON"
# Extra ctest options: make test CTEST_ARGS="-R unit_"

CMAKE      ?= cmake
CTEST      ?= ctest
BUILD_TYPE ?= RelWithDebInfo
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
CTEST_ARGS ?=
BENCH_ARGS ?=
FUZZ_CC    ?= clang
FUZZ_SECONDS ?= 600
VALGRIND   ?= valgrind

# TSan (gcc 12) cannot cope with the large mmap randomisation of recent
# kernels; running without address-space randomisation avoids it.
NORAND := $(shell setarch $$(uname -m) -R true >/dev/null 2>&1 && echo "setarch $$(uname -m) -R")

.PHONY: all build run test test-asan test-tsan test-valgrind freestanding bench fuzz fuzz-smoke install clean check-cmake

all: build

check-cmake:
	@command -v $(CMAKE) >/dev/null 2>&1 || { \
	  echo "make: '$(CMAKE)' was not found; kmm builds with CMake (>= 3.16)."; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make: installing it: apt-get install -y cmake"; \
	    { apt-get install -y cmake || { apt-get update && apt-get install -y cmake; }; } || exit 1; \
	  else \
	    echo "make: install it (as root: apt-get install cmake) and run make again."; exit 1; \
	  fi; }

# configure + build one build directory: $(call build_in,DIR,EXTRA CMAKE ARGS)
define build_in
	$(CMAKE) -S . -B $(1) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(2) $(CMAKE_ARGS)
	$(CMAKE) --build $(1) -j$(JOBS)
endef

build: check-cmake
	$(call build_in,build,)

run: build
	@if [ -x build/kmm ]; then \
	  echo "build/kmm demo"; build/kmm demo; \
	else \
	  echo "build/kmm-boot-demo"; build/kmm-boot-demo; \
	fi

test: build
	cd build && $(CTEST) --output-on-failure -j2 $(CTEST_ARGS)

test-asan: check-cmake
	$(call build_in,build-asan,-DKMM_SANITIZE=address)
	cd build-asan && ASAN_OPTIONS=$${ASAN_OPTIONS:-abort_on_error=0} \
	  UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	  $(CTEST) --output-on-failure -j2 $(CTEST_ARGS)

test-tsan: check-cmake
	$(call build_in,build-tsan,-DKMM_SANITIZE=thread)
	cd build-tsan && TSAN_OPTIONS=$${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
	  $(NORAND) $(CTEST) --output-on-failure -j2 -L threaded $(CTEST_ARGS)

freestanding: check-cmake
	$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)
	$(CMAKE) --build build --target freestanding-check

# Benchmarks: Release (-g only for callgrind_annotate's line numbers; it
# does not change the code), no tests.  KMM_BENCH is ON by default anyway.
bench: check-cmake
	$(CMAKE) -S . -B build-bench -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O3 -DNDEBUG -g" \
	  -DKMM_BUILD_TESTS=OFF -DKMM_BENCH=ON $(CMAKE_ARGS)
	$(CMAKE) --build build-bench -j$(JOBS)
	sh bench/run.sh build-bench $(BENCH_ARGS)

# Fuzzing: clang with its libFuzzer runtime (fuzz/have-libfuzzer.sh installs
# Debian's libclang-rt-14-dev when it can; without it the targets are
# skipped with a message, not failed).
define fuzz_run
	@if ! sh fuzz/have-libfuzzer.sh $(FUZZ_CC); then \
	  echo "fuzz: SKIPPED - $(FUZZ_CC) cannot build libFuzzer targets (install clang and libclang-rt-14-dev)"; \
	else \
	  CC=$(FUZZ_CC) $(CMAKE) -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=$(FUZZ_CC) \
	    -DKMM_FUZZ=ON -DKMM_BUILD_TESTS=OFF -DKMM_BENCH=OFF $(CMAKE_ARGS) && \
	  $(CMAKE) --build build-fuzz -j$(JOBS) --target fuzz_ops_slab fuzz_ops_slob fuzz_bootline && \
	  sh fuzz/run.sh build-fuzz $(1); \
	fi
endef

fuzz: check-cmake
	$(call fuzz_run,$(FUZZ_SECONDS))

fuzz-smoke: check-cmake
	$(call fuzz_run,20)

# Memcheck understands pages and slab objects through the client requests of
# src/mm/annotate.h (KMM_VALGRIND=ON); every unit test runs under it, except
# unit_platform, which probes inaccessible host mappings on purpose.
test-valgrind: check-cmake
	@command -v $(VALGRIND) >/dev/null 2>&1 || { echo "make: $(VALGRIND) not found (apt-get install valgrind)"; exit 1; }
	$(call build_in,build-valgrind,-DKMM_VALGRIND=ON -DKMM_BENCH=OFF \
	  "-DCMAKE_CROSSCOMPILING_EMULATOR=$(VALGRIND);-q;--error-exitcode=99;--leak-check=no;--track-origins=no")
	cd build-valgrind && KMM_TEST_VALGRIND=1 $(CTEST) --output-on-failure -j2 -L unit \
	  -E 'freestanding|unit_platform' $(CTEST_ARGS)

install: build
	$(CMAKE) --install build --prefix "$(PREFIX)"

clean:
	rm -rf build build-asan build-tsan build-bench build-fuzz build-valgrind
