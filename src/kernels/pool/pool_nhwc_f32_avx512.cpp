// AVX512 instantiation of the NHWC pooling kernels (pool_nhwc_f32_kernel.inl).
#include "kernels/pool/pool_nhwc_f32_kernel.inl"

namespace edgecnn::pool_detail {

void rows_avx512(const PoolNhwcParams& p, Kind kind, const float* x, float* y, int64_t n, int64_t oh0, int64_t oh1) {
    pool_rows<VecAvx512>(p, kind, x, y, n, oh0, oh1);
}

void global_avx512(bool max, int64_t hw, int64_t c, const float* x, float* y, int64_t c0, int64_t c1) {
    global_pool<VecAvx512>(max, hw, c, x, y, c0, c1);
}

}  // namespace edgecnn::pool_detail
