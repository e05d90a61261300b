// The depthwise int8 row kernel, plain C++ written for the compiler to vectorize across
// channels (int32 multiply-adds and the float requantization of requant.hpp). Included
// by dwconv_u8s8.cpp (portable) and by dwconv_u8s8_avx2.cpp / _avx512.cpp, which compile
// it with their ISA's flags: the same source, wider vectors, identical results.
#pragma once
#include <algorithm>

#include "kernels/int8/dwconv_u8s8_internal.hpp"
#include "kernels/int8/requant.hpp"

namespace edgecnn::dwconv_u8s8_detail {

// Output row `oy` of image `b`; `acc` is scratch for C int32 accumulators.
inline void dw_row(const DwJob& j, int64_t b, int64_t oy, int32_t* __restrict acc) {
    const QConvShape& s = *j.s;
    const int64_t C = s.c, ow = s.out_w(), oh = s.out_h();
    const int32_t* __restrict bias = j.w->bias.data();
    const float* __restrict mult = j.rq.mult;
    const int32_t zero = j.rq.zero, lo = j.rq.lo, hi = j.rq.hi, xz = j.x_zero;
    for (int64_t ox = 0; ox < ow; ++ox) {
        for (int64_t ch = 0; ch < C; ++ch) acc[ch] = bias[ch];
        for (int64_t ky = 0; ky < s.kh; ++ky) {
            const int64_t iy = oy * s.stride_h - s.pad_t + ky * s.dil_h;
            if (iy < 0 || iy >= s.h) continue;
            for (int64_t kx = 0; kx < s.kw; ++kx) {
                const int64_t ix = ox * s.stride_w - s.pad_l + kx * s.dil_w;
                if (ix < 0 || ix >= s.w) continue;
                const uint8_t* __restrict px = j.x + ((b * s.h + iy) * s.w + ix) * C;
                const int16_t* __restrict pw = j.w->w.data() + (ky * s.kw + kx) * C;
                for (int64_t ch = 0; ch < C; ++ch) acc[ch] += (int32_t(px[ch]) - xz) * int32_t(pw[ch]);
            }
        }
        uint8_t* __restrict py = j.y + ((b * oh + oy) * ow + ox) * C;
        for (int64_t ch = 0; ch < C; ++ch) py[ch] = requantize_u8(acc[ch], mult[ch], zero, lo, hi);
    }
}

}  // namespace edgecnn::dwconv_u8s8_detail
