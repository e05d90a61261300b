// Between the depthwise driver (dwconv_f32.cpp: packing, threads, dispatch) and its
// per-ISA row kernels. Plain pointers only: the per-ISA files avoid std:: containers.
#pragma once
#include <cstdint>

#include "kernels/activation.hpp"
#include "kernels/depthwise/dwconv_f32.hpp"

namespace edgecnn::dwconv_detail {

struct Job {
    DwConvParams p;
    const float* x;
    const float* w;     // packed [kh*kw][c_pad]
    const float* bias;  // [c_pad]
    int64_t c_pad;
    float* y;
    const float* zero_row;  // p.w * p.c zeros, read in place of rows above/below the image
    ActivationParams act;
    // Output columns [ow_lo, ow_hi) whose window lies inside the image horizontally.
    int64_t ow_lo, ow_hi;
};

// Output rows [oh0, oh1) of image n, channels [c0, c1) (c0 a multiple of 16).
void rows_avx512(const Job& j, int64_t n, int64_t oh0, int64_t oh1, int64_t c0, int64_t c1);
void rows_avx2(const Job& j, int64_t n, int64_t oh0, int64_t oh1, int64_t c0, int64_t c1);
void rows_neon(const Job& j, int64_t n, int64_t oh0, int64_t oh1, int64_t c0, int64_t c1);

}  // namespace edgecnn::dwconv_detail
