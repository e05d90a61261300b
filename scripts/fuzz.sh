#!/usr/bin/env bash
# Runs one libFuzzer target for a given time and keeps what it learns.
#   scripts/fuzz.sh TARGET SECONDS [extra libFuzzer flags...]
#   scripts/fuzz.sh build            (only builds every target)
# TARGET: onnx | npy | tensor_pb | ecnn | image (the names in tests/fuzz/CMakeLists.txt; each has a seed
# folder tests/fuzz/corpus/TARGET).
# Builds build-fuzz/ (clang-14, -DEDGECNN_FUZZ=ON) if needed, then fuzzes one process
# (-jobs=1) at nice 19. The growing corpus is kept in build-fuzz/corpus/TARGET (ignored by
# git), seeded from tests/fuzz/corpus/TARGET (and, for onnx, every node-test model of
# Debian's libonnx-testdata). A crash is written to build-fuzz/artifacts/TARGET/ and the
# script exits non-zero: copy the file into tests/fuzz/regressions/TARGET/, fix the engine,
# and the normal build's ctest fuzz_TARGET_regressions replays it from then on.
# FUZZ_CORPUS_ONLY=1 fuzzes on a fresh copy of the committed seeds only (what CI does).
# FUZZ_SEED=N fixes libFuzzer's random seed. CI uses FUZZ_SEED=1 so that its smoke run is
# reproducible: the same commit mutates the same inputs in the same order, so a CI result
# can be rerun here, and a longer local run with the same seed covers what CI will try
# (`FUZZ_CORPUS_ONLY=1 FUZZ_SEED=1 scripts/fuzz.sh onnx 300`). Long runs for finding bugs
# leave it unset (a new seed each run).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer flags] | scripts/fuzz.sh build}
if [[ $target != build ]]; then
  seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer flags]}
  shift 2
  [[ -d tests/fuzz/corpus/$target ]] || { echo "fuzz.sh: unknown target '$target'" >&2; exit 2; }
fi

B=build-fuzz
if [[ ! -f $B/build.ninja ]]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B $B -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only" -DEDGECNN_FUZZ=ON \
    -DEDGECNN_BUILD_TESTS=OFF -DEDGECNN_BUILD_BENCH=OFF \
    $(command -v ccache >/dev/null && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache) >/dev/null
fi
if [[ $target == build ]]; then
  cmake --build $B -j"$(nproc)" --target $(for d in tests/fuzz/corpus/*/; do echo "fuzz_$(basename "$d")"; done)
  exit 0
fi
cmake --build $B -j"$(nproc)" --target "fuzz_$target"

if [[ "${FUZZ_CORPUS_ONLY:-0}" == 1 ]]; then
  corpus=$B/corpus-ci/$target
  rm -rf "$corpus"
else
  corpus=$B/corpus/$target
fi
artifacts=$B/artifacts/$target
mkdir -p "$corpus" "$artifacts"
seeds=(tests/fuzz/corpus/"$target")
[[ -d tests/fuzz/regressions/$target ]] && seeds+=(tests/fuzz/regressions/"$target")
if [[ $target == onnx && "${FUZZ_CORPUS_ONLY:-0}" != 1 && -d /usr/share/libonnx-testdata/data/node ]]; then
  # Node-test models as extra seeds (only the model files, copied once under short names).
  if [[ ! -d $B/seeds-node ]]; then
    mkdir -p $B/seeds-node
    for m in /usr/share/libonnx-testdata/data/node/*/model.onnx; do
      cp "$m" "$B/seeds-node/$(basename "$(dirname "$m")").onnx"
    done
  fi
  seeds+=("$B/seeds-node")
fi

# -max_len: 64 KiB, except .ecnn files, whose seeds include the Fashion-MNIST model (about
# 260 KiB): a longer seed would be cut short and never get past the loader's extent checks.
max_len=65536
[[ $target == ecnn ]] && max_len=300000
# -rss_limit_mb: the engine's tensor limit in the target is 4 MiB, so a run that needs
# more than 2 GiB is a leak or an unbounded allocation, reported as a crash.
# -timeout: one input taking longer than 25 s is reported as a hang.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-/usr/lib/llvm-14/bin/llvm-symbolizer}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "fuzz.sh: fuzzing $target for ${seconds}s (corpus $corpus, seeds ${seeds[*]})"
seed_flag=()
[[ -n "${FUZZ_SEED:-}" ]] && seed_flag=(-seed="$FUZZ_SEED")
nice -n 19 "$B/tests/fuzz/fuzz_$target" "${seed_flag[@]}" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
  -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$artifacts/" "$@" "$corpus" "${seeds[@]}" \
  > "$B/fuzz_$target.log" 2>&1 || { tail -60 "$B/fuzz_$target.log"; echo "fuzz.sh: $target FAILED (log $B/fuzz_$target.log)"; exit 1; }
grep -E "^stat::|Done [0-9]+ runs" "$B/fuzz_$target.log" | tr '\n' ' '
echo
echo "fuzz.sh: $target ran ${seconds}s without a crash; corpus now $(ls "$corpus" | wc -l) files"
