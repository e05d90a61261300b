// AVX512 instantiation of the int8 Add loop (qadd_u8_kernel.inl), compiled with AVX512 flags.
#include "kernels/int8/qadd_u8_kernel.inl"

namespace edgecnn::qadd_detail {

void qadd_avx512(int64_t n, const uint8_t* a, const uint8_t* b, const QAddParams& p, uint8_t* y) { qadd_loop(n, a, b, p, y); }

}  // namespace edgecnn::qadd_detail
