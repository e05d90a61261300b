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
#include <vector>

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

// One output column's group of NK horizontal taps, all channels: each channel's NK input
// bytes side by side in one dword (the bytes above NK zero); src: the taps' input pixels.
template <int NK>
inline void quad_row(const uint8_t* const* src, int32_t* d, int64_t C) {
    for (int64_t c0 = 0; c0 < C; c0 += 16) {
        const __mmask16 m = mask_of(C - c0);
        auto ld = [&](int k) { return _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, src[k] + c0)); };
        __m512i q = ld(0);
        if constexpr (NK > 1) q = _mm512_or_si512(q, _mm512_slli_epi32(ld(1), 8));
        if constexpr (NK > 2) q = _mm512_or_si512(q, _mm512_slli_epi32(ld(2), 16));
        if constexpr (NK > 3) q = _mm512_or_si512(q, _mm512_slli_epi32(ld(3), 24));
        _mm512_storeu_si512(d + c0, q);
    }
}

// quad_row for n output columns whose taps all lie inside the row: column i's tap k at
// p + i * xs + k * ts.
template <int NK>
inline void quad_cols(const uint8_t* p, int64_t xs, int64_t ts, int64_t n, int32_t* d, int64_t C, int64_t cp) {
    const int64_t full = C / 16 * 16;
    auto ld = [](const uint8_t* a) {
        return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a)));
    };
    for (int64_t i = 0; i < n; ++i, p += xs, d += cp) {
        for (int64_t c0 = 0; c0 < full; c0 += 16) {
            __m512i q = ld(p + c0);
            if constexpr (NK == 2) q = _mm512_or_si512(q, _mm512_slli_epi32(ld(p + ts + c0), 8));
            if constexpr (NK >= 3)
                q = _mm512_ternarylogic_epi32(q, _mm512_slli_epi32(ld(p + ts + c0), 8),
                                              _mm512_slli_epi32(ld(p + 2 * ts + c0), 16), 0xfe);
            if constexpr (NK == 4) q = _mm512_or_si512(q, _mm512_slli_epi32(ld(p + 3 * ts + c0), 24));
            _mm512_storeu_si512(d + c0, q);
        }
        if (full < C) {
            const uint8_t* src[4] = {};
            for (int k = 0; k < NK; ++k) src[k] = p + k * ts + full;
            quad_row<NK>(src, d + full, C - full);
        }
    }
}

}  // namespace

// VNNI kernel over output rows [r0, r1) of the flattened (image, row) range. Input rows
// are first turned into "quad rows": for every output column and group of four
// horizontal taps, each channel's four input bytes side by side in one dword, so that one
// vpdpbusd multiplies-and-adds a whole row of a 3x3 window for 16 channels. Each input
// row is converted once (dw_ring_rows); rows above/below the image read a row of
// zero-point bytes. Raw bytes times int8 weights are summed exactly in int32 and the zero
// point enters once as bias - x_zero * sum(w) (taps outside the image read x_zero, whose
// product cancels in that term, and the unused fourth tap byte has weight 0): exactly the
// reference's sum of w * (x - x_zero) over the taps inside the image.
void dw_rows_avx512vnni(const DwJob& j, int64_t r0, int64_t r1, int32_t* scratch) {
    const QConvShape& s = *j.s;
    const int64_t C = s.c, ow = s.out_w(), G = (s.kw + 3) / 4, cp = (C + 15) / 16 * 16;
    const int64_t row_len = ow * G * cp;
    int32_t* zrow = scratch;  // the zero-point row
    for (int64_t i = 0; i < row_len; i += 16)
        _mm512_storeu_si512(zrow + i, _mm512_set1_epi32(int32_t(uint32_t(uint8_t(j.x_zero)) * 0x01010101u)));

    // Taps left or right of the row read a row of zero-point bytes.
    std::vector<uint8_t> zp_bytes(size_t(cp), uint8_t(j.x_zero));
    // Output columns whose taps all lie inside the row: with one group of taps (kw <= 4)
    // their dwords come from plain strided loads, no per-column pointer set-up.
    int64_t ox_lo = 0, ox_hi = ow;
    while (ox_lo < ow && ox_lo * s.stride_w - s.pad_l < 0) ++ox_lo;
    while (ox_hi > ox_lo && (ox_hi - 1) * s.stride_w - s.pad_l + (s.kw - 1) * s.dil_w >= s.w) --ox_hi;
    if (G != 1) ox_lo = ox_hi = 0;
    auto convert = [&](const uint8_t* xrow, int32_t* dst) {
        const uint8_t* src[4];
        if (ox_hi > ox_lo) {
            const uint8_t* p = xrow + (ox_lo * s.stride_w - s.pad_l) * C;
            const int64_t xs = s.stride_w * C, ts = s.dil_w * C, n = ox_hi - ox_lo;
            int32_t* d = dst + ox_lo * cp;
            switch (s.kw) {
                case 1: quad_cols<1>(p, xs, ts, n, d, C, cp); break;
                case 2: quad_cols<2>(p, xs, ts, n, d, C, cp); break;
                case 3: quad_cols<3>(p, xs, ts, n, d, C, cp); break;
                default: quad_cols<4>(p, xs, ts, n, d, C, cp); break;
            }
        }
        for (int64_t ox = 0; ox < ow; ++ox) {
            if (ox == ox_lo && ox_hi > ox_lo) ox = ox_hi;
            if (ox >= ow) break;
            const int64_t ix0 = ox * s.stride_w - s.pad_l;
            for (int64_t g = 0; g < G; ++g) {
                const int64_t nk = std::min<int64_t>(4, s.kw - 4 * g);
                for (int64_t k = 0; k < nk; ++k) {
                    const int64_t ix = ix0 + (4 * g + k) * s.dil_w;
                    src[k] = ix >= 0 && ix < s.w ? xrow + ix * C : zp_bytes.data();
                }
                int32_t* d = dst + (ox * G + g) * cp;
                switch (nk) {
                    case 1: quad_row<1>(src, d, C); break;
                    case 2: quad_row<2>(src, d, C); break;
                    case 3: quad_row<3>(src, d, C); break;
                    default: quad_row<4>(src, d, C); break;
                }
            }
        }
    };

    const __m512i zero = _mm512_set1_epi32(j.rq.zero);
    const __m512 lo = _mm512_set1_ps(float(j.rq.lo - j.rq.zero)), hi = _mm512_set1_ps(float(j.rq.hi - j.rq.zero));
    const int64_t nt = s.kh * G;
    dw_ring_rows(j, r0, r1, scratch + row_len, row_len, zrow, convert, [&](int64_t r, const int32_t* const* rows) {
        uint8_t* yrow = j.y + r * ow * C;
        for (int64_t c0 = 0; c0 < cp; c0 += 16) {
            const __mmask16 m = mask_of(C - c0);
            const bool full = C - c0 >= 16;
            const __m512i bias = _mm512_loadu_si512(j.bias_p + c0);
            const __m512 mult = _mm512_maskz_loadu_ps(m, j.rq.mult + c0);
            const int8_t* wb = j.w->w4.data() + c0 * nt * 4;  // [nt][16 channels][4 taps]
            auto out = [&](uint8_t* py, __m512i acc) {
                __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), mult);
                f = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
                const __m128i q = _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(f), zero));
                if (full) _mm_storeu_si128(reinterpret_cast<__m128i*>(py), q);
                else _mm_mask_storeu_epi8(py, m, q);
            };
            if (s.kh == 3 && G == 1) {  // 3x3 (and 3xK, K <= 4): the weights stay in registers
                const __m512i w0 = _mm512_loadu_si512(wb), w1 = _mm512_loadu_si512(wb + 64);
                const __m512i w2 = _mm512_loadu_si512(wb + 128);
                const int32_t *p0 = rows[0] + c0, *p1 = rows[1] + c0, *p2 = rows[2] + c0;
                const int64_t step = G * cp;
                int64_t ox = 0;
                for (; ox + 2 <= ow; ox += 2) {
                    const int64_t o = ox * step;
                    __m512i a = dpbusd(bias, _mm512_loadu_si512(p0 + o), w0);
                    __m512i b2 = dpbusd(bias, _mm512_loadu_si512(p0 + o + step), w0);
                    a = dpbusd(a, _mm512_loadu_si512(p1 + o), w1);
                    b2 = dpbusd(b2, _mm512_loadu_si512(p1 + o + step), w1);
                    a = dpbusd(a, _mm512_loadu_si512(p2 + o), w2);
                    b2 = dpbusd(b2, _mm512_loadu_si512(p2 + o + step), w2);
                    out(yrow + ox * C + c0, a);
                    out(yrow + (ox + 1) * C + c0, b2);
                }
                for (; ox < ow; ++ox) {
                    const int64_t o = ox * step;
                    __m512i a = dpbusd(bias, _mm512_loadu_si512(p0 + o), w0);
                    a = dpbusd(a, _mm512_loadu_si512(p1 + o), w1);
                    a = dpbusd(a, _mm512_loadu_si512(p2 + o), w2);
                    out(yrow + ox * C + c0, a);
                }
            } else {
                for (int64_t ox = 0; ox < ow; ++ox) {
                    __m512i a = bias;
                    for (int64_t ky = 0; ky < s.kh; ++ky)
                        for (int64_t g = 0; g < G; ++g)
                            a = dpbusd(a, _mm512_loadu_si512(rows[ky] + (ox * G + g) * cp + c0),
                                       _mm512_loadu_si512(wb + (ky * G + g) * 64));
                    out(yrow + ox * C + c0, a);
                }
            }
        }
    });
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
