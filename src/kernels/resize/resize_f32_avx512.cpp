// AVX-512 instantiation of the resize row kernels (resize_f32_kernel.inl).
#include "kernels/eltwise/simd_f32.inl"
#include "kernels/resize/resize_f32_kernel.inl"

namespace edgecnn::resize_detail {
namespace {
struct RVecAvx512 : VecAvx512 {
    static inline V gather(const float* base, const int32_t* idx) {
        // The masked form with a zero pass-through: the plain one trips g++ 12's
        // -Wmaybe-uninitialized (its undefined pass-through source).
        return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), static_cast<__mmask16>(0xFFFF), _mm512_loadu_si512(idx),
                                        base, 4);
    }
};
}  // namespace

RowFns row_fns_avx512() { return make_row_fns<RVecAvx512>(); }
}  // namespace edgecnn::resize_detail
