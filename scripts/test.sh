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
stage "x86 build" 900 bash -c "cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGECNN_WERROR=ON >/dev/null && cmake --build build -j$JOBS"
stage "x86 tests" 900 ctest --test-dir build --output-on-failure -j"$JOBS"

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer: every kernel,
# op and CLI test; any report fails the test that triggered it.
SAN_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
stage "sanitizers build (ASan+UBSan)" 900 bash -c "cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEDGECNN_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS='$SAN_FLAGS' -DCMAKE_EXE_LINKER_FLAGS='$SAN_FLAGS' >/dev/null && cmake --build build-asan -j$JOBS"
stage "sanitizers tests (ASan+UBSan)" 600 env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$JOBS" --timeout 600

# ARM64: cross build (cmake/aarch64-linux-gnu.cmake), then under qemu-aarch64 the kernel-vs-
# reference tests on a core with every NEON level (-cpu max: dot product, i8mm) and again on
# an ARMv8.0 core (-cpu cortex-a53: the fallbacks), plus the small-model checks
# (scripts/arm_test.sh; the whole suite under qemu: scripts/arm_test.sh without --ci).
stage "arm64 setup" 600 bash scripts/setup.sh --arm
stage "arm64 cross build" 600 env JOBS="$JOBS" bash scripts/arm_test.sh --build
stage "arm64 qemu tests" 600 env JOBS="$JOBS" bash scripts/arm_test.sh --ci

echo
echo "all stages passed in $(( $(date +%s) - total_start ))s"
