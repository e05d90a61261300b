#!/usr/bin/env bash
# Runs the ONNX backend node tests; passes only with 0 failures and at least MIN passed.
# EDGECNN_RUNNER (cross builds: e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu") prefixes the CLI.
set -euo pipefail
cli=$1 dir=$2 min=$3
# shellcheck disable=SC2086  # the runner is a command line, split on purpose
out=$(${EDGECNN_RUNNER:-} "$cli" conformance "$dir") || { echo "$out"; exit 1; }
echo "$out" | tail -n 20
summary=$(echo "$out" | tail -n 1)
passed=${summary%% passed*}
if [ "$passed" -lt "$min" ]; then echo "only $passed tests passed, expected at least $min"; exit 1; fi
