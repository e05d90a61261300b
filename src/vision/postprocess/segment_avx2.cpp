// The per-pixel argmax over NCHW class planes with AVX2: 32 pixels (4 vectors) per step, the
// running best values and class indices kept in registers while every plane is read once.
#include <immintrin.h>

#include "vision/postprocess/segment.hpp"

namespace edgecnn::vision::detail {

int64_t argmax_planes_avx2(const float* x, int64_t K, int64_t hw, int64_t from, int64_t to, int* labels) {
    int64_t i = from;
    // 32 pixels at a time: four independent compare/blend chains hide the latency.
    for (; i + 32 <= to; i += 32) {
        const float* p = x + i;
        __m256 b0 = _mm256_loadu_ps(p), b1 = _mm256_loadu_ps(p + 8), b2 = _mm256_loadu_ps(p + 16),
               b3 = _mm256_loadu_ps(p + 24);
        __m256i l0 = _mm256_setzero_si256(), l1 = l0, l2 = l0, l3 = l0;
        for (int64_t k = 1; k < K; ++k) {
            p += hw;
            const __m256i kk = _mm256_set1_epi32(int(k));
            const __m256 v0 = _mm256_loadu_ps(p), v1 = _mm256_loadu_ps(p + 8), v2 = _mm256_loadu_ps(p + 16),
                         v3 = _mm256_loadu_ps(p + 24);
            // Strictly greater (ordered): ties keep the lower class, a NaN never wins.
            const __m256 m0 = _mm256_cmp_ps(v0, b0, _CMP_GT_OQ), m1 = _mm256_cmp_ps(v1, b1, _CMP_GT_OQ),
                         m2 = _mm256_cmp_ps(v2, b2, _CMP_GT_OQ), m3 = _mm256_cmp_ps(v3, b3, _CMP_GT_OQ);
            b0 = _mm256_blendv_ps(b0, v0, m0);
            b1 = _mm256_blendv_ps(b1, v1, m1);
            b2 = _mm256_blendv_ps(b2, v2, m2);
            b3 = _mm256_blendv_ps(b3, v3, m3);
            l0 = _mm256_blendv_epi8(l0, kk, _mm256_castps_si256(m0));
            l1 = _mm256_blendv_epi8(l1, kk, _mm256_castps_si256(m1));
            l2 = _mm256_blendv_epi8(l2, kk, _mm256_castps_si256(m2));
            l3 = _mm256_blendv_epi8(l3, kk, _mm256_castps_si256(m3));
        }
        int* o = labels + i;
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), l0);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 8), l1);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 16), l2);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 24), l3);
    }
    for (; i + 8 <= to; i += 8) {
        const float* p = x + i;
        __m256 b = _mm256_loadu_ps(p);
        __m256i l = _mm256_setzero_si256();
        for (int64_t k = 1; k < K; ++k) {
            p += hw;
            const __m256 v = _mm256_loadu_ps(p);
            const __m256 m = _mm256_cmp_ps(v, b, _CMP_GT_OQ);
            b = _mm256_blendv_ps(b, v, m);
            l = _mm256_blendv_epi8(l, _mm256_set1_epi32(int(k)), _mm256_castps_si256(m));
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(labels + i), l);
    }
    return i - from;
}

}  // namespace edgecnn::vision::detail
