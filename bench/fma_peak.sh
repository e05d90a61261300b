#!/usr/bin/env bash
# Builds bench/fma_peak.cpp (standalone, no CMake) and runs it: FP32 FMA peak per core.
#   bench/fma_peak.sh [--threads N] [--reps N] [--ms N]
# The binary goes to ${BUILD_DIR:-build}/fma_peak (rebuilt when the source is newer).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BUILD_DIR:-$ROOT/build}/fma_peak"
mkdir -p "$(dirname "$BIN")"
if [[ ! -x "$BIN" || "$ROOT/bench/fma_peak.cpp" -nt "$BIN" ]]; then
    g++ -std=c++17 -O2 -Wall -Wextra -pthread "$ROOT/bench/fma_peak.cpp" -o "$BIN"
fi
exec "$BIN" "$@"
