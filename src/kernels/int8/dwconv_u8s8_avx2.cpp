// AVX2 depthwise int8 kernels, compiled with AVX2 flags (see CMakeLists): the plain row
// kernel (dwconv_u8s8_kernel.inl) for very tall kernels, and the converted-row kernel.
// The latter is the VNNI kernel's scheme (dwconv_u8s8_avx512.cpp) on pairs of taps: each
// input row is converted once into "pair rows" holding, per output column, pair of
// horizontal taps and channel, the two input bytes as the int16 halves of one dword, so
// that one vpmaddwd with the pair's two int16 weights adds both products for 8 channels
// (a 3x3 kernel row: two). Bytes (0..255) times int8 weights are exact in int32; the zero
// point enters once as bias - x_zero * sum(w), taps outside the image read x_zero and the
// missing second tap of an odd kernel width has weight 0: the reference's sum, bit for bit.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/int8/dwconv_u8s8_kernel.inl"

namespace edgecnn::dwconv_u8s8_detail {

void dw_row_avx2(const DwJob& j, int64_t b, int64_t oy, int32_t* acc) { dw_row(j, b, oy, acc); }

namespace {

// n (< 8) bytes at p, zero-extended to 8 dwords (the channel tail reads no byte past C).
inline __m256i load8_tail(const uint8_t* p, int64_t n) {
    uint8_t t[8] = {};
    std::memcpy(t, p, size_t(n));
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(t)));
}
inline __m256i load8(const uint8_t* p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

// One output column's pair of taps, all channels: a (and b, when the pair has a second
// tap) are the taps' input pixels.
inline void pair_row(const uint8_t* a, const uint8_t* b, int32_t* d, int64_t C) {
    int64_t c0 = 0;
    for (; c0 + 8 <= C; c0 += 8) {
        __m256i q = load8(a + c0);
        if (b) q = _mm256_or_si256(q, _mm256_slli_epi32(load8(b + c0), 16));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + c0), q);
    }
    if (c0 < C) {
        __m256i q = load8_tail(a + c0, C - c0);
        if (b) q = _mm256_or_si256(q, _mm256_slli_epi32(load8_tail(b + c0, C - c0), 16));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + c0), q);
    }
}

}  // namespace

void dw_rows_avx2(const DwJob& j, int64_t r0, int64_t r1, int32_t* scratch) {
    const QConvShape& s = *j.s;
    const int64_t C = s.c, ow = s.out_w(), P = (s.kw + 1) / 2, cp = (C + 7) / 8 * 8;
    const int64_t row_len = ow * P * cp;
    int32_t* zrow = scratch;  // the zero-point row
    std::fill(zrow, zrow + row_len, int32_t(uint32_t(uint8_t(j.x_zero)) * 0x00010001u));
    // Taps left or right of the row read a row of zero-point bytes.
    std::vector<uint8_t> zp_bytes(size_t(cp), uint8_t(j.x_zero));
    auto convert = [&](const uint8_t* xrow, int32_t* dst) {
        for (int64_t ox = 0; ox < ow; ++ox) {
            const int64_t ix0 = ox * s.stride_w - s.pad_l;
            for (int64_t p = 0; p < P; ++p) {
                const int64_t ia = ix0 + 2 * p * s.dil_w, ib = ia + s.dil_w;
                const uint8_t* a = ia >= 0 && ia < s.w ? xrow + ia * C : zp_bytes.data();
                const uint8_t* b = 2 * p + 1 >= s.kw ? nullptr : ib >= 0 && ib < s.w ? xrow + ib * C : zp_bytes.data();
                pair_row(a, b, dst + (ox * P + p) * cp, C);
            }
        }
    };

    const __m256i zero = _mm256_set1_epi32(j.rq.zero);
    const __m256 lo = _mm256_set1_ps(float(j.rq.lo - j.rq.zero)), hi = _mm256_set1_ps(float(j.rq.hi - j.rq.zero));
    const int64_t nt = s.kh * P, step = P * cp;
    dw_ring_rows(j, r0, r1, scratch + row_len, row_len, zrow, convert, [&](int64_t r, const int32_t* const* rows) {
        uint8_t* yrow = j.y + r * ow * C;
        for (int64_t c0 = 0; c0 < cp; c0 += 8) {
            const int64_t nc = std::min<int64_t>(8, C - c0);
            const __m256i bias = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(j.bias_p + c0));
            float mt[8] = {};
            std::memcpy(mt, j.rq.mult + c0, size_t(nc) * sizeof(float));
            const __m256 mult = _mm256_loadu_ps(mt);
            const int32_t* wb = j.w->w2.data() + c0 * nt;  // [nt][8 channels]
            // requant.hpp's clamps as one float clamp to [lo - zero, hi - zero] before
            // rounding (integer bounds: round(clamp(f)) = clamp(round(f))), then narrowed.
            auto out = [&](uint8_t* py, __m256i acc) {
                __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), mult);
                f = _mm256_min_ps(_mm256_max_ps(f, lo), hi);
                const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(f), zero);
                const __m128i w16 = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
                const __m128i b8 = _mm_packus_epi16(w16, w16);
                if (nc == 8) _mm_storel_epi64(reinterpret_cast<__m128i*>(py), b8);
                else {
                    uint8_t t[16];
                    _mm_storeu_si128(reinterpret_cast<__m128i*>(t), b8);
                    std::memcpy(py, t, size_t(nc));
                }
            };
            auto ld = [](const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); };
            if (s.kh == 3 && P == 2) {  // 3x3 (and 3x4): the six weight pairs stay in registers
                const __m256i w00 = ld(wb), w01 = ld(wb + 8), w10 = ld(wb + 16), w11 = ld(wb + 24);
                const __m256i w20 = ld(wb + 32), w21 = ld(wb + 40);
                const int32_t *p0 = rows[0] + c0, *p1 = rows[1] + c0, *p2 = rows[2] + c0;
                for (int64_t ox = 0; ox < ow; ++ox) {
                    const int64_t o = ox * step;
                    __m256i a = _mm256_add_epi32(bias, _mm256_madd_epi16(ld(p0 + o), w00));
                    __m256i a2 = _mm256_madd_epi16(ld(p0 + o + cp), w01);
                    a = _mm256_add_epi32(a, _mm256_madd_epi16(ld(p1 + o), w10));
                    a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(ld(p1 + o + cp), w11));
                    a = _mm256_add_epi32(a, _mm256_madd_epi16(ld(p2 + o), w20));
                    a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(ld(p2 + o + cp), w21));
                    out(yrow + ox * C + c0, _mm256_add_epi32(a, a2));
                }
            } else {
                for (int64_t ox = 0; ox < ow; ++ox) {
                    __m256i a = bias;
                    for (int64_t ky = 0; ky < s.kh; ++ky)
                        for (int64_t p = 0; p < P; ++p)
                            a = _mm256_add_epi32(
                                a, _mm256_madd_epi16(ld(rows[ky] + ox * step + p * cp + c0), ld(wb + (ky * P + p) * 8)));
                    out(yrow + ox * C + c0, a);
                }
            }
        }
    });
}

}  // namespace edgecnn::dwconv_u8s8_detail
