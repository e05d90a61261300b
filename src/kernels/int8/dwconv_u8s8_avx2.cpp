// AVX2 instantiation of the depthwise int8 row kernel (dwconv_u8s8_kernel.inl), compiled
// with AVX2 flags (see CMakeLists) so the compiler vectorizes its channel loops.
#include "kernels/int8/dwconv_u8s8_kernel.inl"

namespace edgecnn::dwconv_u8s8_detail {

void dw_row_avx2(const DwJob& j, int64_t b, int64_t oy, int32_t* acc) { dw_row(j, b, oy, acc); }

}  // namespace edgecnn::dwconv_u8s8_detail
