#!/usr/bin/env bash
# ctest quickstart_demo: runs the quickstart's commands (scripts/quickstart_demo.sh) and
# checks the answers: exactly one face in the bundled photo, with a score and a box inside
# the 256x256 picture, the overlay written, the fixture check passing, and the classifier's
# top-1 an ankle boot.   tests/quickstart_check.sh EDGECNN_BINARY OUT_DIR
set -uo pipefail
BIN=$1
OUT=$2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
rm -rf "$OUT"
log=$(bash "$ROOT/scripts/quickstart_demo.sh" "$BIN" "$OUT" 2>&1)
rc=$?
echo "$log"
fail() { echo "quickstart_check: FAIL: $*"; exit 1; }
[[ $rc -eq 0 ]] || fail "quickstart_demo.sh exited with $rc"
faces=$(grep -cE '^ *face [0-9]+: score' <<<"$log")
[[ $faces -eq 1 ]] || fail "expected 1 face in models/samples/astronaut_256.jpg, found $faces"
line=$(grep -E '^ *face 1: score' <<<"$log")
read -r score x0 y0 x1 y1 < <(sed -E 's/.*score ([0-9.]+) box \(([0-9-]+),([0-9-]+)\)-\(([0-9-]+),([0-9-]+)\).*/\1 \2 \3 \4 \5/' <<<"$line")
awk -v s="$score" 'BEGIN { exit !(s >= 0.75 && s <= 1) }' || fail "face score $score not in [0.75, 1]"
# The face (by eye, in the 256x256 photo) spans about x 65..145, y 55..145.
(( x0 >= 40 && x0 <= 90 && x1 >= 120 && x1 <= 170 && y0 >= 30 && y0 <= 85 && y1 >= 115 && y1 <= 170 )) ||
  fail "face box ($x0,$y0)-($x1,$y1) is not around the face"
[[ -s "$OUT/astronaut_256_detect-blazeface.png" ]] || fail "no overlay picture in $OUT"
grep -q '^latency:' <<<"$log" || fail "no latency line"
grep -qE 'top-1: class 9 Ankle boot' <<<"$log" || fail "Fashion-MNIST top-1 is not the ankle boot"
echo "quickstart_check: OK"
