// ARM64 NEON instantiation of the deconvolution tile kernel (deconv_f32_kernel.inl):
// 6 rows x 4 vectors of 4 pixels = 24 q-register accumulators of NEON's 32.
#include "kernels/deconv/deconv_f32_kernel.inl"
#include "kernels/eltwise/simd_f32.inl"

namespace edgecnn::deconv_detail {
namespace {

struct DVecNeon : VecNeon {
    // lo = a0 b0 a1 b1, hi = a2 b2 a3 b3
    static inline void interleave2(V a, V b, V& lo, V& hi) {
        lo = vzip1q_f32(a, b);
        hi = vzip2q_f32(a, b);
    }
};

}  // namespace

void deconv_block_neon(const DeconvJob& j, int64_t n, int64_t co0, int64_t co1, int64_t ih0, int64_t ih1) {
    deconv_block<DVecNeon, 6, 4>(j, n, co0, co1, ih0, ih1);
}

}  // namespace edgecnn::deconv_detail
