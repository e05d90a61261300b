// AVX2+FMA instantiation of the deconvolution tile kernel (deconv_f32_kernel.inl):
// 6 rows x 2 vectors of 8 pixels = 12 ymm accumulators.
#include "kernels/deconv/deconv_f32_kernel.inl"
#include "kernels/eltwise/simd_f32.inl"

namespace edgecnn::deconv_detail {
namespace {

struct DVecAvx2 : VecAvx2 {
    // lo = a0 b0 a1 b1 a2 b2 a3 b3, hi = a4 b4 ... a7 b7
    static inline void interleave2(V a, V b, V& lo, V& hi) {
        const __m256 l = _mm256_unpacklo_ps(a, b), h = _mm256_unpackhi_ps(a, b);
        lo = _mm256_permute2f128_ps(l, h, 0x20);
        hi = _mm256_permute2f128_ps(l, h, 0x31);
    }
};

}  // namespace

void deconv_block_avx2(const DeconvJob& j, int64_t n, int64_t co0, int64_t co1, int64_t ih0, int64_t ih1) {
    deconv_block<DVecAvx2, 6, 2>(j, n, co0, co1, ih0, ih1);
}

}  // namespace edgecnn::deconv_detail
