#!/usr/bin/env bash
# README command 1: install the build packages, build the CLI, and run the bundled default:
# BlazeFace finding the face in a bundled photo (boxes, keypoints, latency, an overlay
# picture in build/quickstart_out), checked against stored reference outputs; then the
# Fashion-MNIST classifier on a product photo (scripts/quickstart_demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGECNN_BUILD_TESTS=OFF -DEDGECNN_BUILD_BENCH=OFF
cmake --build build -j"$(nproc)" --target edgecnn
bash scripts/quickstart_demo.sh build/edgecnn build/quickstart_out
