// Float → uint8 per-tensor quantization of an array (QuantizeLinear's common case, e.g. a
// QDQ model's input), quantize_u8 of requant.hpp on every element; the same plain loop
// compiled per ISA level (quantize_u8_kernel.inl) so the compiler vectorizes it.
#pragma once
#include <cstdint>

namespace edgecnn {

void quantize_u8_array(int64_t n, const float* x, float scale, int32_t zero, uint8_t* y);

}  // namespace edgecnn
