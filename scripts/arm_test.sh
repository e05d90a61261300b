#!/usr/bin/env bash
# Cross-builds edgecnn for ARM64 (cmake/aarch64-linux-gnu.cmake) and runs its tests under
# qemu-aarch64 (`-L /`, the multiarch libc6:arm64: see cmake/aarch64-linux-gnu.cmake; ctest
# prefixes every test with it).
# Needs `bash scripts/setup.sh --test --arm` first.
#
#   scripts/arm_test.sh          the whole test suite, on a `-cpu max` core (NEON, dot
#                                product, i8mm, FP16: every ARM kernel level)
#   scripts/arm_test.sh --ci     the CI subset: every kernel-vs-reference test and the
#                                small-model checks (Fashion-MNIST, BlazeFace fixtures) on
#                                `-cpu max` and again on `-cpu cortex-a53` (ARMv8.0: no dot
#                                product, no i8mm, so the fallbacks)
#   scripts/arm_test.sh --build  only the cross build
#
# Environment: BUILD_DIR (default build-arm), JOBS (default nproc), CTEST_ARGS (extra ctest
# arguments, e.g. "-R GemmF32"). ccache is used when installed.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
BUILD_DIR=${BUILD_DIR:-build-arm}
JOBS=${JOBS:-$(nproc)}

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
  -DCMAKE_BUILD_TYPE=Release -DEDGECNN_WERROR=ON -DEDGECNN_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build "$BUILD_DIR" -j"$JOBS"
[[ "$mode" == "--build" ]] && exit 0

# Kernel-vs-reference suites (each runs its body on every ISA level the emulated CPU has),
# the dispatch levels, the thread pool and big-core affinity, and the whole-model checks on
# committed fixtures.
KERNEL_TESTS='^(CpuFeatures|CpuTopology|ThreadPool|GemmF32|DwConvF32|EltwiseF32|PoolNhwcF32|ResizeFast|ConvTransposeFast|FastPath)\.'
MODEL_TESTS='^check_(fashion_mnist|blazeface_front)_fixture'

run() {  # run CPU CTEST_ARGS...
  local cpu=$1
  shift
  echo "--- qemu-aarch64 -cpu $cpu: ctest $*"
  QEMU_CPU=$cpu ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS" --timeout 1200 "$@" ${CTEST_ARGS:-}
}

case "$mode" in
  --ci)
    run max -R "$KERNEL_TESTS|$MODEL_TESTS"
    run cortex-a53 -R "$KERNEL_TESTS|$MODEL_TESTS"
    ;;
  all) run max ;;
  *) echo "usage: $0 [--ci|--build]" >&2; exit 2 ;;
esac
