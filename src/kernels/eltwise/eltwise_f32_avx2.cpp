// AVX2+FMA instantiation of the elementwise kernels (eltwise_f32_kernel.inl), and the
// blocked 8x8 in-register transpose behind the NCHW <-> NHWC conversions (memory bound,
// so the AVX-512 level uses it too).
#include "kernels/eltwise/eltwise_f32_kernel.inl"

namespace edgecnn::eltwise_detail {

void binary_avx2(const BinaryJob& j, int64_t e0, int64_t e1) { binary_dispatch<VecAvx2>(j, e0, e1); }

void unary_avx2(const float* x, float* y, int64_t n, const ActivationParams& act) { unary<VecAvx2>(x, y, n, act); }

namespace {

inline void transpose8x8(const float* x, int64_t ldx, float* y, int64_t ldy) {
    const __m256 r0 = _mm256_loadu_ps(x), r1 = _mm256_loadu_ps(x + ldx), r2 = _mm256_loadu_ps(x + 2 * ldx),
                 r3 = _mm256_loadu_ps(x + 3 * ldx), r4 = _mm256_loadu_ps(x + 4 * ldx),
                 r5 = _mm256_loadu_ps(x + 5 * ldx), r6 = _mm256_loadu_ps(x + 6 * ldx),
                 r7 = _mm256_loadu_ps(x + 7 * ldx);
    // Pairs of rows interleaved, then quads, then the 128-bit halves exchanged.
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(y, _mm256_permute2f128_ps(s0, s4, 0x20));
    _mm256_storeu_ps(y + ldy, _mm256_permute2f128_ps(s1, s5, 0x20));
    _mm256_storeu_ps(y + 2 * ldy, _mm256_permute2f128_ps(s2, s6, 0x20));
    _mm256_storeu_ps(y + 3 * ldy, _mm256_permute2f128_ps(s3, s7, 0x20));
    _mm256_storeu_ps(y + 4 * ldy, _mm256_permute2f128_ps(s0, s4, 0x31));
    _mm256_storeu_ps(y + 5 * ldy, _mm256_permute2f128_ps(s1, s5, 0x31));
    _mm256_storeu_ps(y + 6 * ldy, _mm256_permute2f128_ps(s2, s6, 0x31));
    _mm256_storeu_ps(y + 7 * ldy, _mm256_permute2f128_ps(s3, s7, 0x31));
}

}  // namespace

void transpose_avx2(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t r0, int64_t r1, int64_t c0,
                    int64_t c1) {
    const int64_t rfull = r0 + (r1 - r0) / 8 * 8, cfull = c0 + (c1 - c0) / 8 * 8;
    // Column blocks outer: the 8 output rows of a block are written contiguously.
    for (int64_t c = c0; c < cfull; c += 8) {
        for (int64_t r = r0; r < rfull; r += 8) transpose8x8(x + r * ldx + c, ldx, y + c * ldy + r, ldy);
        for (int64_t cc = c; cc < c + 8; ++cc)
            for (int64_t r = rfull; r < r1; ++r) y[cc * ldy + r] = x[r * ldx + cc];
    }
    for (int64_t c = cfull; c < c1; ++c)
        for (int64_t r = r0; r < r1; ++r) y[c * ldy + r] = x[r * ldx + c];
}

}  // namespace edgecnn::eltwise_detail
