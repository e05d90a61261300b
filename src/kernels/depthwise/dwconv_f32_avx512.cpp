// AVX-512 instantiation of the depthwise NHWC row kernels (dwconv_f32_kernel.inl).
#include "kernels/depthwise/dwconv_f32_kernel.inl"

namespace edgecnn::dwconv_detail {

void rows_avx512(const Job& j, int64_t n, int64_t oh0, int64_t oh1, int64_t c0, int64_t c1) {
    dw_rows<VecAvx512>(j, n, oh0, oh1, c0, c1);
}

}  // namespace edgecnn::dwconv_detail
