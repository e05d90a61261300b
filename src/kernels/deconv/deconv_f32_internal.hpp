// Between the deconvolution driver (deconv_f32.cpp) and its per-ISA tile kernels.
#pragma once
#include <cstdint>

#include "kernels/deconv/deconv_f32.hpp"

namespace edgecnn::deconv_detail {

struct DeconvJob {
    Deconv2dParams p;
    const float* x = nullptr;
    const float* wt = nullptr;
    const float* bias = nullptr;
    float* y = nullptr;
    bool exact2 = false;  // 2x2 kernel, stride 2, no pads/dilation, output = 2x input: direct stores
};

// Image n, output channels [co0, co1), input rows [ih0, ih1): exact2 stores Y (bias
// included), otherwise adds into Y (pre-filled with the bias).
using DeconvBlockFn = void (*)(const DeconvJob& j, int64_t n, int64_t co0, int64_t co1, int64_t ih0, int64_t ih1);

void deconv_block_portable(const DeconvJob& j, int64_t n, int64_t co0, int64_t co1, int64_t ih0, int64_t ih1);
#if defined(__x86_64__) || defined(_M_X64)
void deconv_block_avx2(const DeconvJob& j, int64_t n, int64_t co0, int64_t co1, int64_t ih0, int64_t ih1);
void deconv_block_avx512(const DeconvJob& j, int64_t n, int64_t co0, int64_t co1, int64_t ih0, int64_t ih1);
#endif
#if defined(__aarch64__)
void deconv_block_neon(const DeconvJob& j, int64_t n, int64_t co0, int64_t co1, int64_t ih0, int64_t ih1);
#endif

// Adds tile rows m0 .. m0+mr-1 (row stride ld; cnt pixels from input column iw0 of input
// row ih) into Y at their output positions, dropping those outside Y. Plain C++.
void scatter_add_tile(const DeconvJob& j, const float* tile, int64_t ld, int64_t n, int64_t m0, int64_t mr, int64_t ih,
                      int64_t iw0, int64_t cnt);

}  // namespace edgecnn::deconv_detail
