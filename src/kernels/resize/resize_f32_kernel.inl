// Row kernels of the 2-D resize, written once over a vector-traits type (Vec: kN lanes,
// load/store, set1, mul, fmadd, gather of kN floats at 32-bit indices) and instantiated
// per ISA by resize_f32_avx512.cpp, resize_f32_avx2.cpp and, with one-lane vectors,
// resize_f32.cpp. Internal linkage on purpose: per-ISA copies must never be merged by the
// linker (see simd_f32.inl). No std:: inline helpers here for the same reason.
#pragma once
#include <cstdint>

#include "kernels/resize/resize_f32_internal.hpp"

namespace edgecnn::resize_detail {
namespace {  // NOLINT: internal linkage per ISA translation unit

template <class Vec>
void hlinear_rows(const float* __restrict src, const int32_t* __restrict x0, const int32_t* __restrict x1,
                  const float* __restrict w0, const float* __restrict w1, float* __restrict dst, int64_t n) {
    constexpr int64_t kN = Vec::kN;
    int64_t j = 0;
    for (; j + kN <= n; j += kN) {
        const auto a = Vec::gather(src, x0 + j), b = Vec::gather(src, x1 + j);
        Vec::store(dst + j, Vec::fmadd(b, Vec::load(w1 + j), Vec::mul(a, Vec::load(w0 + j))));
    }
    for (; j < n; ++j) dst[j] = src[x0[j]] * w0[j] + src[x1[j]] * w1[j];
}

template <class Vec>
void vblend_rows(const float* __restrict a, const float* __restrict b, float wa, float wb, float* __restrict dst,
                 int64_t n) {
    constexpr int64_t kN = Vec::kN;
    const auto va = Vec::set1(wa), vb = Vec::set1(wb);
    int64_t j = 0;
    for (; j + 2 * kN <= n; j += 2 * kN) {
        Vec::store(dst + j, Vec::fmadd(Vec::load(b + j), vb, Vec::mul(Vec::load(a + j), va)));
        Vec::store(dst + j + kN, Vec::fmadd(Vec::load(b + j + kN), vb, Vec::mul(Vec::load(a + j + kN), va)));
    }
    for (; j + kN <= n; j += kN) Vec::store(dst + j, Vec::fmadd(Vec::load(b + j), vb, Vec::mul(Vec::load(a + j), va)));
    for (; j < n; ++j) dst[j] = a[j] * wa + b[j] * wb;
}

template <class Vec>
void hnearest_rows(const float* __restrict src, const int32_t* __restrict x0, float* __restrict dst, int64_t n) {
    constexpr int64_t kN = Vec::kN;
    int64_t j = 0;
    for (; j + kN <= n; j += kN) Vec::store(dst + j, Vec::gather(src, x0 + j));
    for (; j < n; ++j) dst[j] = src[x0[j]];
}

template <class Vec>
void argmax_update_rows(const float* __restrict v, float* __restrict best, float* __restrict idx, float k, int64_t n) {
    constexpr int64_t kN = Vec::kN;
    const auto vk = Vec::set1(k);
    int64_t j = 0;
    for (; j + kN <= n; j += kN) {
        const auto x = Vec::load(v + j), b = Vec::load(best + j);
        Vec::store(idx + j, Vec::select_lt(b, x, vk, Vec::load(idx + j)));
        Vec::store(best + j, Vec::select_lt(b, x, x, b));
    }
    for (; j < n; ++j)
        if (best[j] < v[j]) {
            best[j] = v[j];
            idx[j] = k;
        }
}

template <class Vec>
void vblend_argmax_rows(const float* __restrict a, const float* __restrict b, float wa, float wb, float* __restrict best,
                        float* __restrict idx, float k, int64_t n) {
    constexpr int64_t kN = Vec::kN;
    const auto va = Vec::set1(wa), vb = Vec::set1(wb), vk = Vec::set1(k);
    int64_t j = 0;
    for (; j + kN <= n; j += kN) {
        // The same operations as vblend_rows, so the values compared are the ones it stores.
        const auto x = Vec::fmadd(Vec::load(b + j), vb, Vec::mul(Vec::load(a + j), va)), m = Vec::load(best + j);
        Vec::store(idx + j, Vec::select_lt(m, x, vk, Vec::load(idx + j)));
        Vec::store(best + j, Vec::select_lt(m, x, x, m));
    }
    for (; j < n; ++j) {
        const float x = a[j] * wa + b[j] * wb;
        if (best[j] < x) {
            best[j] = x;
            idx[j] = k;
        }
    }
}

template <class Vec>
RowFns make_row_fns() {
    return RowFns{&hlinear_rows<Vec>, &vblend_rows<Vec>, &hnearest_rows<Vec>, &argmax_update_rows<Vec>,
                  &vblend_argmax_rows<Vec>};
}

}  // namespace
}  // namespace edgecnn::resize_detail
