// Between the resize driver (resize_f32.cpp) and its per-ISA row kernels.
#pragma once
#include <cstdint>

namespace edgecnn::resize_detail {

struct RowFns {
    // dst[j] = src[x0[j]] * w0[j] + src[x1[j]] * w1[j]
    void (*hlinear)(const float* src, const int32_t* x0, const int32_t* x1, const float* w0, const float* w1,
                    float* dst, int64_t n);
    // dst[j] = a[j] * wa + b[j] * wb
    void (*vblend)(const float* a, const float* b, float wa, float wb, float* dst, int64_t n);
    // dst[j] = src[x0[j]]
    void (*hnearest)(const float* src, const int32_t* x0, float* dst, int64_t n);
    // Running argmax over class rows: where best[j] < v[j] (ordered: a NaN never replaces),
    // best[j] = v[j] and idx[j] = k. Class indices are kept as floats (exact below 2^24) so
    // one compare mask blends both.
    void (*argmax_update)(const float* v, float* best, float* idx, float k, int64_t n);
    // argmax_update of the values vblend(a, b, wa, wb) makes, without storing them.
    void (*vblend_argmax)(const float* a, const float* b, float wa, float wb, float* best, float* idx, float k,
                          int64_t n);
};

RowFns row_fns_portable();
#if defined(__x86_64__) || defined(_M_X64)
RowFns row_fns_avx2();
RowFns row_fns_avx512();
#endif
#if defined(__aarch64__)
RowFns row_fns_neon();
#endif

}  // namespace edgecnn::resize_detail
