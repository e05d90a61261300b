// ARM64 NEON instantiation of the NHWC pooling kernels (pool_nhwc_f32_kernel.inl).
#include "kernels/pool/pool_nhwc_f32_kernel.inl"

namespace edgecnn::pool_detail {

void rows_neon(const PoolNhwcParams& p, Kind kind, const float* x, float* y, int64_t n, int64_t oh0, int64_t oh1) {
    pool_rows<VecNeon>(p, kind, x, y, n, oh0, oh1);
}

void global_neon(bool max, int64_t hw, int64_t c, const float* x, float* y, int64_t c0, int64_t c1) {
    global_pool<VecNeon>(max, hw, c, x, y, c0, c1);
}

}  // namespace edgecnn::pool_detail
