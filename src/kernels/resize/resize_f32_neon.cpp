// ARM64 NEON instantiation of the resize row kernels (resize_f32_kernel.inl). NEON has no
// gather: the 4 source floats are loaded lane by lane (ld1 {v.s}[lane]).
#include "kernels/eltwise/simd_f32.inl"
#include "kernels/resize/resize_f32_kernel.inl"

namespace edgecnn::resize_detail {
namespace {
struct RVecNeon : VecNeon {
    static inline V gather(const float* base, const int32_t* idx) {
        V v = vdupq_n_f32(0.f);
        v = vld1q_lane_f32(base + idx[0], v, 0);
        v = vld1q_lane_f32(base + idx[1], v, 1);
        v = vld1q_lane_f32(base + idx[2], v, 2);
        return vld1q_lane_f32(base + idx[3], v, 3);
    }
};
}  // namespace

RowFns row_fns_neon() { return make_row_fns<RVecNeon>(); }
}  // namespace edgecnn::resize_detail
