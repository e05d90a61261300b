#!/usr/bin/env bash
# ctest `install_downstream`: installs the build tree into a scratch prefix, builds
# examples/downstream against it with find_package(edgecnn) and with pkg-config, runs both.
#   run.sh BUILD_DIR MODEL.ecnn
set -euo pipefail
build=$1 model=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
ls "$work/prefix/include/edgecnn/edgecnn.h" "$work/prefix/bin/edgecnn" >/dev/null
cmake -S "$here" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" >/dev/null
LD_LIBRARY_PATH="$work/prefix/lib" "$work/build/downstream_c" "$model"
"$work/build/downstream_cpp" "$model"
# pkg-config, as a Makefile-based project would use it.
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
cc "$here/main.c" -o "$work/pc_c" $(pkg-config --cflags --libs edgecnn)
LD_LIBRARY_PATH="$work/prefix/lib" "$work/pc_c" "$model" | head -1
# The installed runtime needs no ONNX, protobuf, zlib or image library.
if ldd "$work/prefix/lib/libedgecnn_runtime.so" | grep -Ei 'onnx|protobuf|libz|stb|png|jpeg'; then
  echo "installed runtime links a tool-side library" >&2
  exit 1
fi
echo "downstream OK"
