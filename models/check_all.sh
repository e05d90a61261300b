#!/usr/bin/env bash
# Runs `edgecnn check` on every exported torchvision model and every npm reference
# folder in the cache (make them first: see models/README.md). Exits 1 if any fails.
# RUNNER prefixes the CLI and MODELS (an extended regex on the folder name) picks a subset,
# e.g. the ARM64 cross build under emulation (docs/ARM.md):
#   RUNNER="qemu-aarch64 -L /" CLI=build-arm/edgecnn MODELS='mobilenet|squeezenet' models/check_all.sh
set -uo pipefail
cd "$(dirname "$0")/.."
CLI=${CLI:-build/edgecnn}
RUNNER=${RUNNER:-}
MODELS=${MODELS:-.}
CACHE=${EDGECNN_CACHE:-.cache/models}
fail=0 n=0
for dir in "$CACHE"/torchvision/*/ "$CACHE"/npm/*/; do
  [ -f "$dir/model.onnx" ] || continue
  [[ "$(basename "$dir")" =~ $MODELS ]] || continue
  n=$((n + 1))
  start=$(date +%s.%N)
  # shellcheck disable=SC2086  # RUNNER is a command line, split on purpose
  if out=$($RUNNER "$CLI" check "$dir/model.onnx" --data "$dir" "$@" 2>&1); then status=PASS; else status=FAIL; fail=$((fail + 1)); fi
  printf '%-4s %-45s %6.1fs\n' "$status" "$(basename "$dir")" "$(echo "$(date +%s.%N) - $start" | bc)"
  [ "$status" = FAIL ] && echo "$out" | sed 's/^/     /'
done
echo "$((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
