// AVX-512 depthwise int8 row kernel, written with intrinsics: blocks of 64 channels keep
// their four int32 accumulator vectors in registers across the taps (the autovectorized
// generic kernel, dwconv_u8s8_kernel.inl, reloads and stores them for every tap), then
// requantize as requant.hpp defines. Masked loads/stores for the channel tail. Same
// results as the reference, bit for bit. Compiled with AVX-512 flags (see CMakeLists).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <algorithm>

#include "kernels/int8/dwconv_u8s8_internal.hpp"
#include "kernels/int8/requant.hpp"

namespace edgecnn::dwconv_u8s8_detail {
namespace {

inline __mmask16 mask_of(int64_t n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1u); }

// Channels [c0, c0 + 16*NV) (the last vector masked to `cb` channels) of one output pixel.
template <int NV>
inline void block(const DwJob& j, int64_t b, int64_t oy, int64_t ox, int64_t c0, int64_t cb) {
    const QConvShape& s = *j.s;
    const int64_t C = s.c;
    __mmask16 m[NV];
    __m512i acc[NV];
    for (int v = 0; v < NV; ++v) {
        m[v] = mask_of(cb - 16 * v);
        acc[v] = _mm512_maskz_loadu_epi32(m[v], j.w->bias.data() + c0 + 16 * v);
    }
    const __m512i xz = _mm512_set1_epi32(j.x_zero);
    for (int64_t ky = 0; ky < s.kh; ++ky) {
        const int64_t iy = oy * s.stride_h - s.pad_t + ky * s.dil_h;
        if (iy < 0 || iy >= s.h) continue;
        for (int64_t kx = 0; kx < s.kw; ++kx) {
            const int64_t ix = ox * s.stride_w - s.pad_l + kx * s.dil_w;
            if (ix < 0 || ix >= s.w) continue;
            const uint8_t* px = j.x + ((b * s.h + iy) * s.w + ix) * C + c0;
            const int16_t* pw = j.w->w.data() + (ky * s.kw + kx) * C + c0;
            for (int v = 0; v < NV; ++v) {
                const __m512i xv = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m[v], px + 16 * v)), xz);
                const __m512i wv = _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(m[v], pw + 16 * v));
                acc[v] = _mm512_add_epi32(acc[v], _mm512_mullo_epi32(xv, wv));
            }
        }
    }
    uint8_t* py = j.y + ((b * s.out_h() + oy) * s.out_w() + ox) * C + c0;
    const __m512 lim = _mm512_set1_ps(kRequantLimit), nlim = _mm512_set1_ps(-kRequantLimit);
    const __m512i zero = _mm512_set1_epi32(j.rq.zero), lo = _mm512_set1_epi32(j.rq.lo), hi = _mm512_set1_epi32(j.rq.hi);
    for (int v = 0; v < NV; ++v) {
        __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[v]), _mm512_maskz_loadu_ps(m[v], j.rq.mult + c0 + 16 * v));
        f = _mm512_min_ps(_mm512_max_ps(f, nlim), lim);
        __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(f), zero);
        q = _mm512_min_epi32(_mm512_max_epi32(q, lo), hi);
        _mm_mask_storeu_epi8(py + 16 * v, m[v], _mm512_cvtepi32_epi8(q));
    }
}

inline __m512i dpbusd(__m512i acc, __m512i a, __m512i b) {
#if defined(__GNUC__)
    asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));  // as in qgemm_u8s8_avx512.cpp
    return acc;
#else
    return _mm512_dpbusd_epi32(acc, a, b);
#endif
}

// requant.hpp's clamps as one float clamp to [lo - zero, hi - zero] before rounding
// (integer bounds: round(clamp(f)) = clamp(round(f)), see qgemm_u8s8_avx512.cpp).
inline __m512i requant16(__m512i acc, const float* mult, __m512i zero, __m512 lo, __m512 hi) {
    __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_loadu_ps(mult));
    f = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
    return _mm512_add_epi32(_mm512_cvtps_epi32(f), zero);
}

}  // namespace

// VNNI row kernel: four taps' uint8 bytes of 64 channels interleaved (two in-lane unpack
// stages) into the [channel][4 taps] groups vpdpbusd multiplies with the int8 weights,
// raw bytes times weights summed exactly in int32; the zero point enters once as
// -x_zero * sum(w) in the bias, and taps outside the image read a row of zero-point
// bytes (contributing x_zero * w, cancelled by that term: exactly the reference's sum of
// w * (x - x_zero) over the taps inside). The int32 packs at the end undo the interleave.
void dw_row_avx512vnni(const DwJob& j, int64_t b, int64_t oy, int32_t* /*acc*/) {
    const QConvShape& s = *j.s;
    const int64_t C = s.c, ow = s.out_w(), taps = s.kh * s.kw, groups = (taps + 3) / 4, blocks = (C + 63) / 64;
    const uint8_t* ptr[kDwVnniMaxTaps];
    for (int64_t t = taps; t < groups * 4; ++t) ptr[t] = j.pad_row;  // weights 0 there
    const __m512i zero = _mm512_set1_epi32(j.rq.zero);
    const __m512 lo = _mm512_set1_ps(float(j.rq.lo - j.rq.zero)), hi = _mm512_set1_ps(float(j.rq.hi - j.rq.zero));
    const int8_t* w4 = j.w->w4.data();
    uint8_t* yrow = j.y + (b * s.out_h() + oy) * ow * C;
    for (int64_t ox = 0; ox < ow; ++ox) {
        for (int64_t ky = 0; ky < s.kh; ++ky) {
            const int64_t iy = oy * s.stride_h - s.pad_t + ky * s.dil_h;
            for (int64_t kx = 0; kx < s.kw; ++kx) {
                const int64_t ix = ox * s.stride_w - s.pad_l + kx * s.dil_w;
                ptr[ky * s.kw + kx] =
                    iy < 0 || iy >= s.h || ix < 0 || ix >= s.w ? j.pad_row : j.x + ((b * s.h + iy) * s.w + ix) * C;
            }
        }
        uint8_t* py = yrow + ox * C;
        for (int64_t cb = 0; cb < blocks; ++cb) {
            const int64_t c0 = cb * 64, rem = C - c0;
            const __mmask64 m = rem >= 64 ? ~__mmask64(0) : (__mmask64(1) << rem) - 1;
            const int32_t* bp = j.bias_p + c0;
            __m512i a0 = _mm512_loadu_si512(bp), a1 = _mm512_loadu_si512(bp + 16);
            __m512i a2 = _mm512_loadu_si512(bp + 32), a3 = _mm512_loadu_si512(bp + 48);
            const int8_t* wb = w4 + cb * groups * 256;
            for (int64_t g = 0; g < groups; ++g) {
                const __m512i x0 = _mm512_maskz_loadu_epi8(m, ptr[4 * g] + c0);
                const __m512i x1 = _mm512_maskz_loadu_epi8(m, ptr[4 * g + 1] + c0);
                const __m512i x2 = _mm512_maskz_loadu_epi8(m, ptr[4 * g + 2] + c0);
                const __m512i x3 = _mm512_maskz_loadu_epi8(m, ptr[4 * g + 3] + c0);
                const __m512i l01 = _mm512_unpacklo_epi8(x0, x1), h01 = _mm512_unpackhi_epi8(x0, x1);
                const __m512i l23 = _mm512_unpacklo_epi8(x2, x3), h23 = _mm512_unpackhi_epi8(x2, x3);
                const int8_t* wg = wb + g * 256;
                a0 = dpbusd(a0, _mm512_unpacklo_epi16(l01, l23), _mm512_loadu_si512(wg));
                a1 = dpbusd(a1, _mm512_unpackhi_epi16(l01, l23), _mm512_loadu_si512(wg + 64));
                a2 = dpbusd(a2, _mm512_unpacklo_epi16(h01, h23), _mm512_loadu_si512(wg + 128));
                a3 = dpbusd(a3, _mm512_unpackhi_epi16(h01, h23), _mm512_loadu_si512(wg + 192));
            }
            const float* mp = j.mult_p + c0;
            const __m512i q0 = requant16(a0, mp, zero, lo, hi), q1 = requant16(a1, mp + 16, zero, lo, hi);
            const __m512i q2 = requant16(a2, mp + 32, zero, lo, hi), q3 = requant16(a3, mp + 48, zero, lo, hi);
            // Values lie in 0..255: the saturating packs only narrow, in the channel order.
            const __m512i out = _mm512_packus_epi16(_mm512_packus_epi32(q0, q1), _mm512_packus_epi32(q2, q3));
            _mm512_mask_storeu_epi8(py + c0, m, out);
        }
    }
}

void dw_row_avx512(const DwJob& j, int64_t b, int64_t oy, int32_t* /*acc*/) {
    const int64_t C = j.s->c, ow = j.s->out_w();
    for (int64_t ox = 0; ox < ow; ++ox) {
        int64_t c0 = 0;
        for (; c0 + 64 <= C; c0 += 64) block<4>(j, b, oy, ox, c0, 64);
        const int64_t rest = C - c0;
        if (rest > 48) block<4>(j, b, oy, ox, c0, rest);
        else if (rest > 32) block<3>(j, b, oy, ox, c0, rest);
        else if (rest > 16) block<2>(j, b, oy, ox, c0, rest);
        else if (rest > 0) block<1>(j, b, oy, ox, c0, rest);
    }
}

}  // namespace edgecnn::dwconv_u8s8_detail
