// AVX-512 instantiation of the resize row kernels (resize_f32_kernel.inl).
#include "kernels/resize/resize_f32_kernel.inl"

namespace edgecnn::resize_detail {
RowFns row_fns_avx512() { return make_row_fns(); }
}  // namespace edgecnn::resize_detail
