# Cross build for 64-bit ARM Linux with Debian's g++-aarch64-linux-gnu.
# The target's libraries (protobuf, onnx, zlib, gtest) come from Debian multiarch
# (`dpkg --add-architecture arm64`, packages `:arm64`, see scripts/setup.sh --arm): they live
# in /usr/lib/aarch64-linux-gnu and share /usr/include with the host, so no separate sysroot.
# Tests run through qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR: ctest prefixes every test
# binary with it). Choose the CPU qemu models with QEMU_CPU=max|cortex-a53 in the environment.
#
#   cmake -S . -B build-arm -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Look for target libraries and packages only in the multiarch paths; programs (protoc) on the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# pkg-config (stb) must read the arm64 .pc files, not the host's.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/cmake)

find_program(EDGECNN_QEMU_AARCH64 qemu-aarch64)
if(EDGECNN_QEMU_AARCH64)
  # Run against the multiarch arm64 C library (libc6:arm64: /lib/ld-linux-aarch64.so.1 and
  # /lib/aarch64-linux-gnu, with the :arm64 libraries beside it), i.e. `-L /`. The cross
  # toolchain's own copy under /usr/aarch64-linux-gnu (`-L /usr/aarch64-linux-gnu`, libc6-
  # arm64-cross 2.36-8cross1) hangs in the first pthread_create under Debian 12's qemu 7.2,
  # so every threaded test would; libc6:arm64 (2.36-9+deb12u14) does not. Same glibc ABI,
  # so linking against the cross copy and running on the multiarch one is fine.
  set(CMAKE_CROSSCOMPILING_EMULATOR ${EDGECNN_QEMU_AARCH64};-L;/)
endif()
