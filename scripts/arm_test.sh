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
#                                product, no i8mm, so the fallbacks), the int8 kernels and
#                                the Fashion-MNIST int8 accuracy check (on the first
#                                $FMNIST_IMAGES test images, default 2000: the 10,000 take
#                                too long emulated; `max` at the neon-dot level, sdot), and .ecnn files converted by the x86
#                                CLI ($X86_CLI, default build/edgecnn; skipped when absent)
#                                checked with the ARM CLI on both cores
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
KERNEL_TESTS='^(CpuFeatures|CpuTopology|ThreadPool|GemmF32|DwConvF32|ConvSmallCinF32|EltwiseF32|PoolNhwcF32|ResizeFast|ResizeArgMax|ExpandDwNhwc|FuseExpandDwconv|ConvTransposeFast|FastPath)\.'
# INT8: the GEMM (sdot / sudot / portable), depthwise, Add, QuantizeLinear kernels against
# their references, the QDQ plans, and Fashion-MNIST's int8 accuracy (issue 6 acceptance 3).
INT8_TESTS='^(QGemmU8S8|Requantize|QConvNhwc|QuantizeU8|QAddU8|QuantizeInt8)\.'
FMNIST_INT8='^FashionMnistInt8\.'
MODEL_TESTS='^check_(fashion_mnist|blazeface_front)_fixture'

run() {  # run CPU CTEST_ARGS...
  local cpu=$1
  shift
  echo "--- qemu-aarch64 -cpu $cpu: ctest $*"
  QEMU_CPU=$cpu ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS" --timeout 1200 "$@" ${CTEST_ARGS:-}
}

# Issue 5: a portable .ecnn written by the x86 CLI passes `edgecnn check` on ARM.
x86_files() {
  local x86=${X86_CLI:-build/edgecnn}
  if [[ ! -x "$x86" ]]; then
    echo "--- skipped: x86 .ecnn files checked on ARM ($x86 not built; X86_CLI= names another)"
    return 0
  fi
  local out="$BUILD_DIR/x86_ecnn"
  mkdir -p "$out"
  "$x86" convert models/fashion_mnist/fashion_mnist_cnn.onnx -o "$out/fashion_mnist.ecnn"
  "$x86" convert models/fixtures/blazeface_front_128/model.onnx -o "$out/blazeface_front.ecnn"
  for cpu in max cortex-a53; do
    echo "--- qemu-aarch64 -cpu $cpu: edgecnn check on .ecnn files converted by $x86"
    QEMU_CPU=$cpu qemu-aarch64 -L / "$BUILD_DIR/edgecnn" check "$out/fashion_mnist.ecnn" \
      --data models/fixtures/fashion_mnist_cnn
    QEMU_CPU=$cpu qemu-aarch64 -L / "$BUILD_DIR/edgecnn" check "$out/blazeface_front.ecnn" \
      --data models/fixtures/blazeface_front_128
  done
}

case "$mode" in
  --ci)
    export EDGECNN_FMNIST_TEST_IMAGES=${FMNIST_IMAGES:-2000}
    run max -R "$KERNEL_TESTS|$INT8_TESTS|$MODEL_TESTS"
    # Fashion-MNIST int8 on the sdot kernel (max's default level, neon-i8mm, takes sudot;
    # the kernel tests above check both bit for bit) and on ARMv8.0's smull kernel.
    EDGECNN_ISA=neon-dot run max -R "$FMNIST_INT8"
    run cortex-a53 -R "$KERNEL_TESTS|$INT8_TESTS|$FMNIST_INT8|$MODEL_TESTS"
    x86_files
    ;;
  all) run max ;;
  *) echo "usage: $0 [--ci|--build]" >&2; exit 2 ;;
esac
