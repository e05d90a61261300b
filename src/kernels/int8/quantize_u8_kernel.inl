// The float → uint8 loop, included by quantize_u8.cpp (portable) and quantize_u8_avx2.cpp /
// _avx512.cpp (compiled with their ISA flags).
#pragma once
#include "kernels/int8/quantize_u8.hpp"
#include "kernels/int8/requant.hpp"

namespace edgecnn::quantize_detail {

inline void quantize_loop(int64_t n, const float* __restrict x, float scale, int32_t zero, uint8_t* __restrict y) {
    for (int64_t i = 0; i < n; ++i) y[i] = quantize_u8(x[i], scale, zero);
}

#if defined(__x86_64__) || defined(_M_X64)
void quantize_avx2(int64_t n, const float* x, float scale, int32_t zero, uint8_t* y);
void quantize_avx512(int64_t n, const float* x, float scale, int32_t zero, uint8_t* y);
#endif

}  // namespace edgecnn::quantize_detail
