#!/usr/bin/env bash
# README command 1: install, build, and run the bundled Fashion-MNIST CNN on a product photo
# (classify: top-5 with class names, latency, a labelled picture), then check it against torch.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGECNN_BUILD_TESTS=OFF -DEDGECNN_BUILD_BENCH=OFF
cmake --build build -j"$(nproc)" --target edgecnn
MODEL=models/fashion_mnist/fashion_mnist_cnn.onnx
DATA=models/fixtures/fashion_mnist_cnn/test_data_set_0
echo "== edgecnn info $MODEL"
build/edgecnn info "$MODEL"
PHOTO=models/fashion_mnist/samples/t10k_0_ankle_boot.png
echo "== edgecnn run $MODEL --image $PHOTO (preprocessing, task and class names from $MODEL.json)"
build/edgecnn run "$MODEL" --image "$PHOTO" --out build/quickstart_out
echo "== edgecnn run (two Fashion-MNIST test images as a tensor file: an ankle boot (9) and a pullover (2))"
build/edgecnn run "$MODEL" --input "input=$DATA/input_0.pb" --out build/quickstart_out
echo "== edgecnn check against torch's outputs"
build/edgecnn check "$MODEL" --data "$DATA"
