// AVX-512 instantiation of the deconvolution tile kernel (deconv_f32_kernel.inl):
// 12 rows x 2 vectors of 16 pixels = 24 zmm accumulators.
#include "kernels/deconv/deconv_f32_kernel.inl"
#include "kernels/eltwise/simd_f32.inl"

namespace edgecnn::deconv_detail {
namespace {

struct DVecAvx512 : VecAvx512 {
    // lo = a0 b0 a1 b1 ... a7 b7, hi = a8 b8 ... a15 b15
    static inline void interleave2(V a, V b, V& lo, V& hi) {
        const __m512i il = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const __m512i ih = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        lo = _mm512_permutex2var_ps(a, il, b);
        hi = _mm512_permutex2var_ps(a, ih, b);
    }
};

}  // namespace

void deconv_block_avx512(const DeconvJob& j, int64_t n, int64_t co0, int64_t co1, int64_t ih0, int64_t ih1) {
    deconv_block<DVecAvx512, 12, 2>(j, n, co0, co1, ih0, ih1);
}

}  // namespace edgecnn::deconv_detail
