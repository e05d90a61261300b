// ARM64 NEON instantiation of the depthwise NHWC row kernels (dwconv_f32_kernel.inl): one
// q register of 4 channels per block; for 3x3 the 9 weight vectors, 4 pixel accumulators
// and the input taps fit in the 32 registers.
#include "kernels/depthwise/dwconv_f32_kernel.inl"

namespace edgecnn::dwconv_detail {

void rows_neon(const Job& j, int64_t n, int64_t oh0, int64_t oh1, int64_t c0, int64_t c1) {
    dw_rows<VecNeon>(j, n, oh0, oh1, c0, c1);
}

}  // namespace edgecnn::dwconv_detail
