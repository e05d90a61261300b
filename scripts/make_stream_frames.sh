#!/usr/bin/env bash
# 300 camera-like JPEG frames of 640x480, cut by a sliding crop from a real photo
# (scikit-image's motorcycle_left.png, a street scene; Debian's python3-skimage), for
# `edgecnn stream --frames DIR`. Usage: scripts/make_stream_frames.sh [OUT_DIR] [PHOTO] [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build/stream_frames}
PHOTO=${2:-/usr/lib/python3/dist-packages/skimage/data/motorcycle_left.png}
COUNT=${3:-300}
[[ -f "$PHOTO" ]] || { echo "error: $PHOTO missing (apt-get install python3-skimage)" >&2; exit 1; }
cmake --build build --target edgecnn_make_frames >/dev/null
build/edgecnn_make_frames "$PHOTO" "$OUT" "$COUNT" 640x480
