// AVX2 micro-kernel of the int8 GEMM: 6 x 16 tiles (12 ymm int32 accumulators). B was
// widened to int16 at pack time (K in pairs); each A pair is widened on the fly and
// vpmaddwd sums two int16 products into int32 exactly. vpmaddubsw is avoided on purpose:
// its 16-bit pair sums saturate (255*127*2 > 32767), which would change results. Same
// results as the VNNI and portable kernels. Compiled with AVX2 flags (see CMakeLists).
#include <immintrin.h>

#include <algorithm>

#include "kernels/int8/qgemm_u8s8_internal.hpp"
#include "kernels/int8/requant.hpp"

namespace edgecnn::qgemm_detail {
namespace {

constexpr int NR = kNrAvx2;

inline void store8(const QGemmJob& j, __m256i acc, int64_t n, int count, uint8_t* c) {
    const __m256i cs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(j.col_sums + n));
    acc = _mm256_sub_epi32(acc, _mm256_mullo_epi32(cs, _mm256_set1_epi32(j.ep.a_zero)));
    alignas(32) int32_t bias[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    alignas(32) float mult[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < count; ++i) {
        if (j.ep.bias) bias[i] = j.ep.bias[n + i];
        mult[i] = j.ep.mult[n + i];
    }
    acc = _mm256_add_epi32(acc, _mm256_load_si256(reinterpret_cast<const __m256i*>(bias)));
    __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_load_ps(mult));
    f = _mm256_min_ps(_mm256_max_ps(f, _mm256_set1_ps(-kRequantLimit)), _mm256_set1_ps(kRequantLimit));
    __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(f), _mm256_set1_epi32(j.ep.c_zero));
    q = _mm256_min_epi32(_mm256_max_epi32(q, _mm256_set1_epi32(j.ep.lo)), _mm256_set1_epi32(j.ep.hi));
    if (const uint8_t* res = j.ep.residual) {
        // The fused residual add (qadd_u8 of requant.hpp); R has C's layout.
        const QAddParams& ap = j.ep.add;
        const int64_t off = c - j.C;
        alignas(16) uint8_t rb8[16] = {};
        std::memcpy(rb8, res + off, size_t(count));
        const __m256i rb = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(rb8)));
        const __m256 fa = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q, _mm256_set1_epi32(ap.a_zero))),
                                        _mm256_set1_ps(ap.a_mult));
        const __m256 fb = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(rb, _mm256_set1_epi32(ap.b_zero))),
                                        _mm256_set1_ps(ap.b_mult));
        f = _mm256_add_ps(fa, fb);
        f = _mm256_min_ps(_mm256_max_ps(f, _mm256_set1_ps(-kRequantLimit)), _mm256_set1_ps(kRequantLimit));
        q = _mm256_add_epi32(_mm256_cvtps_epi32(f), _mm256_set1_epi32(ap.y_zero));
        q = _mm256_min_epi32(_mm256_max_epi32(q, _mm256_set1_epi32(ap.lo)), _mm256_set1_epi32(ap.hi));
    }
    const __m128i w16 = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    const __m128i b8 = _mm_packus_epi16(w16, w16);
    if (count >= 8) {
        _mm_storel_epi64(reinterpret_cast<__m128i*>(c), b8);
    } else {
        alignas(16) uint8_t tmp[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(tmp), b8);
        std::memcpy(c, tmp, size_t(count));
    }
}

// Float output (QGemmEpilogue::c_f32): float(acc - a_zero * colsum + bias) * mult.
inline void store8_f32(const QGemmJob& j, __m256i acc, int64_t n, int count, float* c) {
    const __m256i cs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(j.col_sums + n));
    acc = _mm256_sub_epi32(acc, _mm256_mullo_epi32(cs, _mm256_set1_epi32(j.ep.a_zero)));
    alignas(32) int32_t bias[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    alignas(32) float mult[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < count; ++i) {
        if (j.ep.bias) bias[i] = j.ep.bias[n + i];
        mult[i] = j.ep.mult[n + i];
    }
    acc = _mm256_add_epi32(acc, _mm256_load_si256(reinterpret_cast<const __m256i*>(bias)));
    const __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_load_ps(mult));
    if (count >= 8) {
        _mm256_storeu_ps(c, f);
    } else {
        alignas(32) float tmp[8];
        _mm256_store_ps(tmp, f);
        std::memcpy(c, tmp, size_t(count) * sizeof(float));
    }
}

inline int32_t pair(const uint8_t* a, int64_t k, int64_t K) {
    const int32_t lo = a[k];
    const int32_t hi = k + 1 < K ? a[k + 1] : 0;
    return lo | (hi << 16);
}

template <int MR>
void tile(const QGemmJob& j, int64_t m, int64_t p, int ncols) {
    __m256i acc[MR][2];
    for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    const int16_t* panel = reinterpret_cast<const int16_t*>(j.B) + p * j.kp;
    const uint8_t* a = j.A + m * j.lda;
    const int64_t pairs = (j.K + 1) / 2;
    for (int64_t g = 0; g < pairs; ++g) {
        const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(panel + g * NR * 2));
        const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(panel + g * NR * 2 + 16));
        for (int r = 0; r < MR; ++r) {
            const __m256i av = _mm256_set1_epi32(pair(a + r * j.lda, g * 2, j.K));
            acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(av, b0));
            acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(av, b1));
        }
    }
    for (int r = 0; r < MR; ++r) {
        if (float* cf = j.ep.c_f32) {
            float* c = cf + (m + r) * j.ldc + p;
            store8_f32(j, acc[r][0], p, std::min(ncols, 8), c);
            if (ncols > 8) store8_f32(j, acc[r][1], p + 8, ncols - 8, c + 8);
            continue;
        }
        uint8_t* c = j.C + (m + r) * j.ldc + p;
        store8(j, acc[r][0], p, std::min(ncols, 8), c);
        if (ncols > 8) store8(j, acc[r][1], p + 8, ncols - 8, c + 8);
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

void qgemm_block_avx2(const QGemmJob& j, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    for (int64_t p = n0; p < n1; p += NR) {
        const int ncols = int(std::min<int64_t>(NR, n1 - p));
        int64_t m = m0;
        for (; m + kMrAvx2 <= m1; m += kMrAvx2) tile<kMrAvx2>(j, m, p, ncols);
        if (m < m1) rows_tail<kMrAvx2 - 1>(j, m, int(m1 - m), p, ncols);
    }
}

}  // namespace edgecnn::qgemm_detail
