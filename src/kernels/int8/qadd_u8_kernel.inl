// The int8 Add loop, included by qadd_u8.cpp (portable) and qadd_u8_avx2.cpp /
// _avx512.cpp (compiled with their ISA flags): the compiler vectorizes it.
#pragma once
#include "kernels/int8/qadd_u8.hpp"
#include "kernels/int8/requant.hpp"

namespace edgecnn::qadd_detail {

inline void qadd_loop(int64_t n, const uint8_t* __restrict a, const uint8_t* __restrict b, const QAddParams& p,
                      uint8_t* __restrict y) {
    const float am = p.a_mult, bm = p.b_mult;
    const int32_t az = p.a_zero, bz = p.b_zero, yz = p.y_zero, lo = p.lo, hi = p.hi;
    for (int64_t i = 0; i < n; ++i) y[i] = qadd_u8(a[i], am, az, b[i], bm, bz, yz, lo, hi);
}

using QAddFn = void (*)(int64_t, const uint8_t*, const uint8_t*, const QAddParams&, uint8_t*);
#if defined(__x86_64__) || defined(_M_X64)
void qadd_avx2(int64_t n, const uint8_t* a, const uint8_t* b, const QAddParams& p, uint8_t* y);
void qadd_avx512(int64_t n, const uint8_t* a, const uint8_t* b, const QAddParams& p, uint8_t* y);
#endif

}  // namespace edgecnn::qadd_detail
