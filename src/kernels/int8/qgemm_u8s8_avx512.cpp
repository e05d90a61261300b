// AVX-512 VNNI micro-kernel of the int8 GEMM: 12 x 32 register tiles (24 zmm int32
// accumulators), one vpdpbusd per row and 16 columns per 4-byte K group, requantization
// (requant.hpp) in the epilogue. Used only when the CPU reports AVX512_VNNI (chosen at
// pack time, qgemm_kernel_for). Compiled with AVX-512 flags (see CMakeLists). The inner
// loops differ from the AVX2 kernel's in kind (one instruction vs a widening sequence),
// so the two are written out rather than instantiated from one template.
// GCC 12 reports its own _mm512_undefined_*() placeholders as (maybe-)uninitialized once
// the intrinsics are inlined (GCC bug 105593); the warning says nothing about this code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <algorithm>

#include "kernels/int8/qgemm_u8s8_internal.hpp"
#include "kernels/int8/requant.hpp"

namespace edgecnn::qgemm_detail {
namespace {

constexpr int NR = kNrVnni;

// acc += dot4(a u8, b s8) in place. Through inline asm because GCC 12 copies the
// accumulator of _mm512_dpbusd_epi32 to a fresh register and back (and spills the tile to
// the stack), which more than halved the kernel's speed; the instruction is the same.
inline __m512i dpbusd(__m512i acc, __m512i a, __m512i b) {
#if defined(__GNUC__)
    asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
#else
    return _mm512_dpbusd_epi32(acc, a, b);
#endif
}

#define EDGECNN_QGEMM_UNROLL _Pragma("GCC unroll 32")

// The per-column part of the epilogue for columns [n, n + 16): bias - a_zero * colsum and
// the multipliers, loaded once per tile (the uint8 stores of C may alias anything, so
// loads left inside the row loop would be repeated for every row).
struct Cols16 {
    __mmask16 m;
    __m512i bias;
    __m512 mult;
};
inline Cols16 cols16(const QGemmJob& j, int64_t n, int count) {
    Cols16 c;
    c.m = count >= 16 ? __mmask16(0xffff) : __mmask16((1u << count) - 1u);
    const __m512i cs = _mm512_loadu_si512(j.col_sums + n);  // padded to whole panels
    c.bias = _mm512_sub_epi32(j.ep.bias ? _mm512_maskz_loadu_epi32(c.m, j.ep.bias + n) : _mm512_setzero_si512(),
                              _mm512_mullo_epi32(cs, _mm512_set1_epi32(j.ep.a_zero)));
    c.mult = _mm512_maskz_loadu_ps(c.m, j.ep.mult + n);
    return c;
}

// Requantizes 16 accumulators (requant.hpp) and stores the mask's columns. The clamps of
// requant.hpp (to +-kRequantLimit before rounding, to [lo, hi] after adding the zero point)
// are one float clamp to [lo - zero, hi - zero] before rounding here: rounding is monotonic
// and those bounds are integers, so round(clamp(f)) = clamp(round(f)) — same results, two
// instructions fewer per vector.
inline __m512i requant16(const Cols16& c, __m512i acc, __m512i zero, __m512 flo, __m512 fhi) {
    acc = _mm512_add_epi32(acc, c.bias);
    __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), c.mult);
    f = _mm512_min_ps(_mm512_max_ps(f, flo), fhi);
    return _mm512_add_epi32(_mm512_cvtps_epi32(f), zero);
}
inline void store16(const Cols16& c, __m512i acc, __m512i zero, __m512 flo, __m512 fhi, uint8_t* dst) {
    _mm_mask_storeu_epi8(dst, c.m, _mm512_cvtepi32_epi8(requant16(c, acc, zero, flo, fhi)));
}

// The fused residual add (qadd_u8 of requant.hpp) on 16 requantized outputs q and the
// residual bytes at r; returns the sum's uint8 values as int32.
// (The sum's clamps merged into one float clamp, as in requant16.)
struct Add16 {
    __m512 a_mult, b_mult;
    __m512i a_zero, b_zero, y_zero;
    __m512 lo, hi;  // lo - y_zero, hi - y_zero
};
inline Add16 add16(const QAddParams& p) {
    return {_mm512_set1_ps(p.a_mult),    _mm512_set1_ps(p.b_mult),    _mm512_set1_epi32(p.a_zero),
            _mm512_set1_epi32(p.b_zero), _mm512_set1_epi32(p.y_zero), _mm512_set1_ps(float(p.lo - p.y_zero)),
            _mm512_set1_ps(float(p.hi - p.y_zero))};
}
inline void store16_add(const Cols16& c, __m512i acc, __m512i zero, __m512 flo, __m512 fhi, const Add16& ad,
                        const uint8_t* r, uint8_t* dst) {
    __m512i q = requant16(c, acc, zero, flo, fhi);
    const __m512i rb = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(c.m, r));
    const __m512 fa = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(q, ad.a_zero)), ad.a_mult);
    const __m512 fb = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(rb, ad.b_zero)), ad.b_mult);
    const __m512 f = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(fa, fb), ad.lo), ad.hi);
    q = _mm512_add_epi32(_mm512_cvtps_epi32(f), ad.y_zero);
    _mm_mask_storeu_epi8(dst, c.m, _mm512_cvtepi32_epi8(q));
}

template <int MR>
[[gnu::always_inline]] inline void epilogue(const QGemmJob& j, __m512i (&acc)[MR][2], int64_t m, int64_t p, int ncols);

template <int MR>
void tile(const QGemmJob& j, int64_t m, int64_t p, int ncols) {
    __m512i acc[MR][2];
    EDGECNN_QGEMM_UNROLL for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
    const int8_t* panel = j.B + p * j.kp;
    const uint8_t* ar[MR];
    if (j.ind) {
        // Indirect A: tap by tap, each row's piece read where the table points.
        const int64_t piece_groups = j.K / j.taps / 4;
        for (int64_t t = 0; t < j.taps; ++t) {
            EDGECNN_QGEMM_UNROLL for (int r = 0; r < MR; ++r) ar[r] = j.ind[(m + r) * j.taps + t];
            const int8_t* pt = panel + t * piece_groups * NR * 4;
            for (int64_t g = 0; g < piece_groups; ++g) {
                const __m512i b0 = _mm512_load_si512(pt + g * NR * 4);
                const __m512i b1 = _mm512_load_si512(pt + g * NR * 4 + 64);
                EDGECNN_QGEMM_UNROLL for (int r = 0; r < MR; ++r) {
                    int32_t a4;
                    std::memcpy(&a4, ar[r] + g * 4, 4);
                    const __m512i av = _mm512_set1_epi32(a4);
                    acc[r][0] = dpbusd(acc[r][0], av, b0);
                    acc[r][1] = dpbusd(acc[r][1], av, b1);
                }
            }
        }
        epilogue<MR>(j, acc, m, p, ncols);
        return;
    }
    EDGECNN_QGEMM_UNROLL for (int r = 0; r < MR; ++r) ar[r] = j.A + (m + r) * j.lda;
    const int64_t full = j.K / 4;
    for (int64_t g = 0; g < full; ++g) {
        const __m512i b0 = _mm512_load_si512(panel + g * NR * 4);
        const __m512i b1 = _mm512_load_si512(panel + g * NR * 4 + 64);
        EDGECNN_QGEMM_UNROLL for (int r = 0; r < MR; ++r) {
            int32_t a4;
            std::memcpy(&a4, ar[r] + g * 4, 4);
            const __m512i av = _mm512_set1_epi32(a4);
            acc[r][0] = dpbusd(acc[r][0], av, b0);
            acc[r][1] = dpbusd(acc[r][1], av, b1);
        }
    }
    if (j.K % 4) {
        const __m512i b0 = _mm512_load_si512(panel + full * NR * 4);
        const __m512i b1 = _mm512_load_si512(panel + full * NR * 4 + 64);
        EDGECNN_QGEMM_UNROLL for (int r = 0; r < MR; ++r) {
            const __m512i av = _mm512_set1_epi32(load_a4(ar[r] + full * 4, int(j.K % 4)));
            acc[r][0] = dpbusd(acc[r][0], av, b0);
            acc[r][1] = dpbusd(acc[r][1], av, b1);
        }
    }
    epilogue<MR>(j, acc, m, p, ncols);
}

template <int MR>
[[gnu::always_inline]] inline void epilogue(const QGemmJob& j, __m512i (&acc)[MR][2], int64_t m, int64_t p, int ncols) {
    const Cols16 c0 = cols16(j, p, std::min(ncols, 16));
    const Cols16 c1 = cols16(j, p + 16, std::max(ncols - 16, 0));
    const __m512i zero = _mm512_set1_epi32(j.ep.c_zero);
    const __m512 lo = _mm512_set1_ps(float(j.ep.lo - j.ep.c_zero)), hi = _mm512_set1_ps(float(j.ep.hi - j.ep.c_zero));
    if (float* cf = j.ep.c_f32) {
        EDGECNN_QGEMM_UNROLL for (int r = 0; r < MR; ++r) {
            float* c = cf + (m + r) * j.ldc + p;
            _mm512_mask_storeu_ps(c, c0.m, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(acc[r][0], c0.bias)), c0.mult));
            if (ncols > 16)
                _mm512_mask_storeu_ps(c + 16, c1.m,
                                      _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(acc[r][1], c1.bias)), c1.mult));
        }
        return;
    }
    if (j.ep.residual) {
        const Add16 ad = add16(j.ep.add);
        EDGECNN_QGEMM_UNROLL for (int r = 0; r < MR; ++r) {
            uint8_t* c = j.C + (m + r) * j.ldc + p;
            const uint8_t* res = j.ep.residual + (m + r) * j.ldc + p;
            store16_add(c0, acc[r][0], zero, lo, hi, ad, res, c);
            if (ncols > 16) store16_add(c1, acc[r][1], zero, lo, hi, ad, res + 16, c + 16);
        }
        return;
    }
    EDGECNN_QGEMM_UNROLL for (int r = 0; r < MR; ++r) {
        uint8_t* c = j.C + (m + r) * j.ldc + p;
        store16(c0, acc[r][0], zero, lo, hi, c);
        if (ncols > 16) store16(c1, acc[r][1], zero, lo, hi, c + 16);
    }
}

template <int MR>
void rows_tail(const QGemmJob& j, int64_t m, int rem, int64_t p, int ncols) {
    if constexpr (MR > 1) {
        if (rem == MR) tile<MR>(j, m, p, ncols);
        else rows_tail<MR - 1>(j, m, rem, p, ncols);
    } else {
        tile<1>(j, m, p, ncols);
    }
}

}  // namespace

void qgemm_block_avx512vnni(const QGemmJob& j, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    for (int64_t p = n0; p < n1; p += NR) {
        const int ncols = int(std::min<int64_t>(NR, n1 - p));
        int64_t m = m0;
        for (; m + kMrVnni <= m1; m += kMrVnni) tile<kMrVnni>(j, m, p, ncols);
        if (m < m1) rows_tail<kMrVnni - 1>(j, m, int(m1 - m), p, ncols);
    }
}

}  // namespace edgecnn::qgemm_detail
