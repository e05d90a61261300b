// Row kernels of the 2-D resize, written once in plain C++ and instantiated per ISA by
// including this file from resize_f32.cpp (portable), resize_f32_avx2.cpp and
// resize_f32_avx512.cpp (compiled with the matching -m flags; the compiler vectorizes the
// loops, with gathers where the ISA has them). Internal linkage on purpose: per-ISA copies
// must never be merged by the linker. No std:: inline helpers here for the same reason.
#pragma once
#include <cstdint>

#include "kernels/resize/resize_f32_internal.hpp"

namespace edgecnn::resize_detail {
namespace {  // NOLINT: internal linkage per ISA translation unit

void hlinear_rows(const float* __restrict src, const int32_t* __restrict x0, const int32_t* __restrict x1,
                  const float* __restrict w0, const float* __restrict w1, float* __restrict dst, int64_t n) {
    for (int64_t j = 0; j < n; ++j) dst[j] = src[x0[j]] * w0[j] + src[x1[j]] * w1[j];
}

void vblend_rows(const float* __restrict a, const float* __restrict b, float wa, float wb, float* __restrict dst,
                 int64_t n) {
    for (int64_t j = 0; j < n; ++j) dst[j] = a[j] * wa + b[j] * wb;
}

void hnearest_rows(const float* __restrict src, const int32_t* __restrict x0, float* __restrict dst, int64_t n) {
    for (int64_t j = 0; j < n; ++j) dst[j] = src[x0[j]];
}

RowFns make_row_fns() { return RowFns{&hlinear_rows, &vblend_rows, &hnearest_rows}; }

}  // namespace
}  // namespace edgecnn::resize_detail
