// AVX512 instantiation of the float → uint8 loop (quantize_u8_kernel.inl).
#include "kernels/int8/quantize_u8_kernel.inl"

namespace edgecnn::quantize_detail {

void quantize_avx512(int64_t n, const float* x, float scale, int32_t zero, uint8_t* y) { quantize_loop(n, x, scale, zero, y); }

}  // namespace edgecnn::quantize_detail
