// AVX-512 instantiation of the small-Cin direct convolution (conv_small_cin_f32_kernel.inl).
#include "kernels/direct/conv_small_cin_f32_kernel.inl"

namespace edgecnn::small_cin_detail {

void rows_avx512(const Job& j, int64_t n, int64_t oh0, int64_t oh1) { sc_rows<VecAvx512>(j, n, oh0, oh1); }

}  // namespace edgecnn::small_cin_detail
