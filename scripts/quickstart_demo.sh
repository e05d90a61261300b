#!/usr/bin/env bash
# The quickstart's runs, once edgecnn is built (scripts/quickstart.sh builds it first; the
# ctest quickstart_demo runs this same script and checks its answers).
#   scripts/quickstart_demo.sh [EDGECNN_BINARY] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/edgecnn}
OUT=${2:-build/quickstart_out}
# Main example: BlazeFace (committed fixture) on a bundled photo; preprocessing and the task
# come from the model's sidecar (model.onnx.json).
MODEL=models/fixtures/blazeface_front_128/model.onnx
PHOTO=models/samples/astronaut_256.jpg
echo "== edgecnn info $MODEL"
"$BIN" info "$MODEL"
echo "== edgecnn run $MODEL --image $PHOTO (faces, latency, a picture with boxes and keypoints)"
"$BIN" run "$MODEL" --image "$PHOTO" --out "$OUT"
echo "== edgecnn check $MODEL against its stored reference outputs"
"$BIN" check "$MODEL" --data models/fixtures/blazeface_front_128
# Second example: the Fashion-MNIST CNN classifying a product photo (top-5 with class names).
FMODEL=models/fashion_mnist/fashion_mnist_cnn.onnx
echo "== edgecnn run $FMODEL --image models/fashion_mnist/samples/t10k_0_ankle_boot.png"
"$BIN" run "$FMODEL" --image models/fashion_mnist/samples/t10k_0_ankle_boot.png --out "$OUT"
