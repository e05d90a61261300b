#!/usr/bin/env bash
# Runs `edgecnn check` on every exported torchvision model and every npm reference
# folder in the cache (make them first: see models/README.md). Exits 1 if any fails.
# ECNN=fp32 converts each model to a portable .ecnn first (into $ECNN_DIR) and checks that
# against the same references; ECNN=fp16 uses --fp16-weights, checks that the error is
# within 1e-2 of each output's range (--range-tol 1e-2) and
# prints the file size relative to the fp32 .ecnn (which it also writes).
# RUNNER prefixes the CLI and MODELS (an extended regex on the folder name) picks a subset,
# e.g. the ARM64 cross build under emulation (docs/ARM.md):
#   RUNNER="qemu-aarch64 -L /" CLI=build-arm/edgecnn MODELS='mobilenet|squeezenet' models/check_all.sh
set -uo pipefail
cd "$(dirname "$0")/.."
CLI=${CLI:-build/edgecnn}
RUNNER=${RUNNER:-}
MODELS=${MODELS:-.}
CACHE=${EDGECNN_CACHE:-.cache/models}
ECNN=${ECNN:-}
ECNN_DIR=${ECNN_DIR:-build/ecnn}
[ -n "$ECNN" ] && mkdir -p "$ECNN_DIR"
fail=0 n=0
for dir in "$CACHE"/torchvision/*/ "$CACHE"/npm/*/; do
  [ -f "$dir/model.onnx" ] || continue
  [[ "$(basename "$dir")" =~ $MODELS ]] || continue
  n=$((n + 1))
  start=$(date +%s.%N)
  model="$dir/model.onnx" extra=() note=""
  if [ -n "$ECNN" ]; then
    name=$(basename "$dir")
    conv_out=$("$CLI" convert "$dir/model.onnx" -o "$ECNN_DIR/$name.ecnn" 2>&1) || { echo "FAIL $name: convert: $conv_out"; fail=$((fail + 1)); continue; }
    model="$ECNN_DIR/$name.ecnn"
    if [ "$ECNN" = fp16 ]; then
      conv_out=$("$CLI" convert "$dir/model.onnx" -o "$ECNN_DIR/$name.fp16.ecnn" --fp16-weights 2>&1) || { echo "FAIL $name: convert: $conv_out"; fail=$((fail + 1)); continue; }
      note=$(echo "scale=1; 100 * $(stat -c %s "$ECNN_DIR/$name.fp16.ecnn") / $(stat -c %s "$model")" | bc)
      note=" fp16 file ${note}% of fp32"
      model="$ECNN_DIR/$name.fp16.ecnn" extra=(--range-tol 1e-2)
    fi
  fi
  # shellcheck disable=SC2086  # RUNNER is a command line, split on purpose
  if out=$($RUNNER "$CLI" check "$model" --data "$dir" "${extra[@]}" "$@" 2>&1); then status=PASS; else status=FAIL; fail=$((fail + 1)); fi
  printf '%-4s %-45s %6.1fs%s\n' "$status" "$(basename "$dir")" "$(echo "$(date +%s.%N) - $start" | bc)" "$note"
  [ "$status" = FAIL ] && echo "$out" | sed 's/^/     /'
done
echo "$((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
