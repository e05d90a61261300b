// AVX2+FMA instantiation of the resize row kernels (resize_f32_kernel.inl).
#include "kernels/eltwise/simd_f32.inl"
#include "kernels/resize/resize_f32_kernel.inl"

namespace edgecnn::resize_detail {
namespace {
struct RVecAvx2 : VecAvx2 {
    static inline V gather(const float* base, const int32_t* idx) {
        return _mm256_i32gather_ps(base, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(idx)), 4);
    }
};
}  // namespace

RowFns row_fns_avx2() { return make_row_fns<RVecAvx2>(); }
}  // namespace edgecnn::resize_detail
