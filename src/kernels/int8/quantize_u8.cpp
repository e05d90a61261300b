// Float → uint8 driver: ISA dispatch and the portable instantiation.
#include "kernels/int8/quantize_u8.hpp"

#include "base/cpu_features.hpp"
#include "kernels/int8/quantize_u8_kernel.inl"

namespace edgecnn {

void quantize_u8_array(int64_t n, const float* x, float scale, int32_t zero, uint8_t* y) {
#if defined(__x86_64__) || defined(_M_X64)
    if (active_isa() == Isa::Avx512) return quantize_detail::quantize_avx512(n, x, scale, zero, y);
    if (active_isa() == Isa::Avx2) return quantize_detail::quantize_avx2(n, x, scale, zero, y);
#endif
    quantize_detail::quantize_loop(n, x, scale, zero, y);
}

}  // namespace edgecnn
