// Between the small-Cin direct convolution's driver (conv_small_cin_f32.cpp: packing,
// threads, dispatch) and its per-ISA row kernels. Plain pointers only: the per-ISA files
// avoid std:: containers.
#pragma once
#include <cstdint>

#include "kernels/activation.hpp"
#include "kernels/direct/conv_small_cin_f32.hpp"

namespace edgecnn::small_cin_detail {

struct Job {
    ConvSmallCinParams p;
    const float* x;
    const float* w;     // packed [kh*kw*c_in][c_pad]
    const float* bias;  // [c_pad]
    int64_t c_pad;
    float* y;
    const float* r;  // residual, laid out as y, or null
    ActivationParams act;
    // Input strides in floats: between neighbouring pixels of a row, channels, rows, images.
    int64_t sx, sc, sr, simg;
    // Offsets of the taps of one kernel row, (kx, ci) in packing order, from the window's
    // first in-image column: kx*dil_w*sx + ci*sc. A window clipped on the left starts at
    // its first in-image column, and the same table (from entry 0) still holds.
    const int64_t* tap_off;
    bool contiguous;  // tap_off[t] == t (NHWC without horizontal dilation): no table reads
    // Output columns [ow_lo, ow_hi) whose window lies inside the image horizontally.
    int64_t ow_lo, ow_hi;
};

// Output rows [oh0, oh1) of image n, every output channel.
void rows_avx512(const Job& j, int64_t n, int64_t oh0, int64_t oh1);
void rows_avx2(const Job& j, int64_t n, int64_t oh0, int64_t oh1);
void rows_neon(const Job& j, int64_t n, int64_t oh0, int64_t oh1);

}  // namespace edgecnn::small_cin_detail
