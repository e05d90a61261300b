#!/usr/bin/env bash
# ctest: converts an ONNX model to .ecnn with the given convert flags and checks the .ecnn
# against the ONNX test data (issue 5, acceptance 1).
#   ecnn_check.sh EDGECNN MODEL.onnx DATA_DIR OUT.ecnn [convert flags...] -- [check flags...]
set -euo pipefail
cli=$1 model=$2 data=$3 out=$4
shift 4
conv=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do conv+=("$1"); shift; done
[ $# -gt 0 ] && shift
"$cli" convert "$model" -o "$out" "${conv[@]}"
"$cli" check "$out" --data "$data" "$@"
