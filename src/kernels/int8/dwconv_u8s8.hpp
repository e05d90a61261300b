// Depthwise int8 convolution, NHWC (group == channels, one filter per channel): uint8
// input with zero point, int8 per-channel weights, int32 bias, requantized to uint8
// (requant.hpp). One plain C++ row kernel (dwconv_u8s8_kernel.inl) compiled for the
// portable and AVX2 levels (the compiler vectorizes its channel loops), an intrinsics
// kernel for AVX-512 (accumulators in registers across taps) and, on CPUs with VNNI, one
// that multiplies four horizontal taps per vpdpbusd from input rows converted once into
// [tap bytes] dwords (dwconv_u8s8_avx512.cpp), and its AVX2 twin on pairs of taps with
// vpmaddwd (dwconv_u8s8_avx2.cpp); results equal
// qconv_nhwc_ref's bit for bit (integer accumulation is exact in any order).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/reference/qconv_ref.hpp"

namespace edgecnn {

class ThreadPool;

// Weights repacked tap-major ([kh*kw][C]) so that each tap reads contiguous channels.
struct PackedDwU8S8 {
    int64_t c = 0, kh = 0, kw = 0;
    std::vector<int16_t> w;     // [kh*kw][C], widened once
    std::vector<int32_t> bias;  // [C], zeros when the layer has none
    // The AVX-512 VNNI kernel's layout (see dwconv_u8s8_avx512.cpp): channels in blocks
    // of 16, then kernel rows, then groups of 4 horizontal taps; per channel the group's
    // 4 weights in one dword. Zero padded (channels to 16, taps to a multiple of 4).
    std::vector<int8_t> w4;      // [C/16][kh][kw/4][16 channels][4 taps]
    // The AVX2 kernel's layout (dwconv_u8s8_avx2.cpp): channels in blocks of 8, then
    // kernel rows, then pairs of horizontal taps; per channel the pair's two weights as
    // the int16 halves of one dword (vpmaddwd). Zero padded like w4.
    std::vector<int32_t> w2;     // [C/8][kh][kw/2][8 channels]
    std::vector<int32_t> wsum;   // [C]: sum of each channel's weights (zero point term)
};

// w: [C, 1, kh, kw] int8 (ONNX layout).
PackedDwU8S8 pack_dwconv_u8s8(const int8_t* w, const int32_t* bias, int64_t c, int64_t kh, int64_t kw);

// The variant dwconv_u8s8_nhwc runs at the active ISA level (for profiles).
std::string dwconv_u8s8_kernel_name();

// s.group must equal s.c and s.out_c. Splits output rows over `pool`.
void dwconv_u8s8_nhwc(const QConvShape& s, const uint8_t* x, int32_t x_zero, const PackedDwU8S8& w, const QRequant& rq,
                      uint8_t* y, ThreadPool* pool);

}  // namespace edgecnn
