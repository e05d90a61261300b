#!/usr/bin/env bash
# A/B of environment settings on the lraspp 30 fps stream (issue 7, acceptance 3): runs the
# arms interleaved, one `edgecnn stream` per arm and round, so that the machine's slow
# moments fall on every arm alike, and prints per arm how many runs were real-time.
#   scripts/stream_pool_ab.sh ROUNDS NAME=ENV[,ENV...] ...
#   e.g. scripts/stream_pool_ab.sh 12 default=X=1 off=EDGECNN_POOL_ADAPTIVE=0
# (the pool's knobs: EDGECNN_POOL_ADAPTIVE, EDGECNN_POOL_BAD_WINDOWS,
# EDGECNN_POOL_MIN_BACKOFF_MS; src/base/thread_pool.cpp). Traces go to
# build/stream_ab/NAME_ROUND.csv. Needs what scripts/stream_acceptance.sh needs.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${MODEL:-.cache/models/torchvision/lraspp_mobilenet_v3_large_op17/model.onnx}
FRAMES=${FRAMES:-build/stream_frames}
rounds=${1:?usage: scripts/stream_pool_ab.sh ROUNDS NAME=ENV[,ENV...] ...}
shift
[[ $# -ge 1 ]] || { echo "usage: scripts/stream_pool_ab.sh ROUNDS NAME=ENV[,ENV...] ..." >&2; exit 2; }
cmake --build build --target edgecnn edgecnn_make_frames >/dev/null
[[ -f "$FRAMES/frame_0299.jpg" ]] || bash scripts/make_stream_frames.sh "$FRAMES"
mkdir -p build/stream_ab
declare -A ok=() runs=() misses=()
for ((i = 1; i <= rounds; ++i)); do
  for arm in "$@"; do
    name=${arm%%=*}
    IFS=, read -r -a envs <<< "${arm#*=}"
    line=$(env "${envs[@]}" build/edgecnn stream "$MODEL" --frames "$FRAMES" --fps 30 --threads 2 --task segment \
             --size 520x520 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 --quiet \
             --trace "build/stream_ab/${name}_$i.csv" | grep "^result")
    m=$(sed -E 's/.*got ([0-9]+) misses, p99 ([0-9.]+) ms.*/\1/' <<< "$line")
    p99=$(sed -E 's/.*got ([0-9]+) misses, p99 ([0-9.]+) ms.*/\2/' <<< "$line")
    echo "round $i $name: $m misses, p99 $p99 ms"
    runs[$name]=$(( ${runs[$name]:-0} + 1 ))
    misses[$name]=$(( ${misses[$name]:-0} + m ))
    grep -q "^result: REAL-TIME" <<< "$line" && ok[$name]=$(( ${ok[$name]:-0} + 1 ))
  done
done
for arm in "$@"; do
  name=${arm%%=*}
  echo "$name: ${ok[$name]:-0} of ${runs[$name]} runs real-time, ${misses[$name]} misses"
done
