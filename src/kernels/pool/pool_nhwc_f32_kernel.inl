// NHWC pooling kernels written once over a SIMD traits struct T (kernels/eltwise/simd_f32.inl),
// instantiated by pool_nhwc_f32_avx2.cpp / pool_nhwc_f32_avx512.cpp. Per output pixel the
// window's valid tap ranges are computed once; channels then stream through up to 4
// vector accumulators at a time (the channel tail with a lane mask).
#pragma once
#include "kernels/eltwise/simd_f32.inl"
#include "kernels/pool/pool_nhwc_f32_internal.hpp"

namespace edgecnn {
namespace {

using pool_detail::Kind;

// First/one-past-last j in [0, k) with lo <= start + j*d < hi.
inline int64_t pool_first(int64_t start, int64_t d, int64_t lo) { return start >= lo ? 0 : (lo - start + d - 1) / d; }
inline int64_t pool_end(int64_t start, int64_t d, int64_t k, int64_t hi) {
    if (start >= hi) return 0;
    const int64_t e = (hi - 1 - start) / d + 1;
    return e < k ? e : k;
}

template <class T, bool kMax, int U, bool kTail>
inline void pool_block(const float* xn, int64_t W, int64_t C, int64_t ih0, int64_t dh, int64_t ky0, int64_t ky1,
                       int64_t iw0, int64_t dw, int64_t kx0, int64_t kx1, typename T::V scale, float* out,
                       int64_t cb, typename T::M m) {
    using V = typename T::V;
    V acc[U];
    for (int u = 0; u < U; ++u) acc[u] = kMax ? T::set1(-__builtin_inff()) : T::zero();
    for (int64_t ky = ky0; ky < ky1; ++ky) {
        const float* r = xn + (ih0 + ky * dh) * W * C + cb;
        for (int64_t kx = kx0; kx < kx1; ++kx) {
            const float* q = r + (iw0 + kx * dw) * C;
#pragma GCC unroll 4
            for (int u = 0; u < U; ++u) {
                const V v = kTail ? T::load(q + u * T::kN, m) : T::load(q + u * T::kN);
                acc[u] = kMax ? T::max(acc[u], v) : T::add(acc[u], v);
            }
        }
    }
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) {
        const V r = kMax ? acc[u] : T::mul(acc[u], scale);
        if (kTail) T::store(out + cb + u * T::kN, r, m);
        else T::store(out + cb + u * T::kN, r);
    }
}

template <class T, Kind K>
void pool_rows_t(const PoolNhwcParams& p, const float* x, float* y, int64_t n, int64_t oh0, int64_t oh1) {
    constexpr bool kMax = K == Kind::Max;
    const int64_t C = p.c, W = p.w, H = p.h, N = T::kN;
    const float* xn = x + n * H * W * C;
    const typename T::M none{};
    for (int64_t oh = oh0; oh < oh1; ++oh) {
        const int64_t ih0 = oh * p.stride_h - p.pad_t;
        const int64_t ky0 = pool_first(ih0, p.dil_h, 0), ky1 = pool_end(ih0, p.dil_h, p.kh, H);
        for (int64_t ow = 0; ow < p.out_w; ++ow) {
            const int64_t iw0 = ow * p.stride_w - p.pad_l;
            const int64_t kx0 = pool_first(iw0, p.dil_w, 0), kx1 = pool_end(iw0, p.dil_w, p.kw, W);
            int64_t count = (ky1 > ky0 ? ky1 - ky0 : 0) * (kx1 > kx0 ? kx1 - kx0 : 0);
            if constexpr (K == Kind::AvgIncludePad) {
                const int64_t a = pool_first(ih0, p.dil_h, -p.pad_t), b = pool_end(ih0, p.dil_h, p.kh, H + p.pad_b);
                const int64_t c = pool_first(iw0, p.dil_w, -p.pad_l), d = pool_end(iw0, p.dil_w, p.kw, W + p.pad_r);
                count = (b > a ? b - a : 0) * (d > c ? d - c : 0);
            }
            const typename T::V scale = T::set1(count > 0 ? 1.f / float(count) : 0.f);
            float* out = y + ((n * p.out_h + oh) * p.out_w + ow) * C;
            int64_t cb = 0;
            for (; cb + 4 * N <= C; cb += 4 * N)
                pool_block<T, kMax, 4, false>(xn, W, C, ih0, p.dil_h, ky0, ky1, iw0, p.dil_w, kx0, kx1, scale, out, cb, none);
            for (; cb + N <= C; cb += N)
                pool_block<T, kMax, 1, false>(xn, W, C, ih0, p.dil_h, ky0, ky1, iw0, p.dil_w, kx0, kx1, scale, out, cb, none);
            if (cb < C)
                pool_block<T, kMax, 1, true>(xn, W, C, ih0, p.dil_h, ky0, ky1, iw0, p.dil_w, kx0, kx1, scale, out, cb,
                                             T::mask(C - cb));
        }
    }
}

template <class T>
void pool_rows(const PoolNhwcParams& p, Kind kind, const float* x, float* y, int64_t n, int64_t oh0, int64_t oh1) {
    switch (kind) {
        case Kind::Max: pool_rows_t<T, Kind::Max>(p, x, y, n, oh0, oh1); break;
        case Kind::Avg: pool_rows_t<T, Kind::Avg>(p, x, y, n, oh0, oh1); break;
        case Kind::AvgIncludePad: pool_rows_t<T, Kind::AvgIncludePad>(p, x, y, n, oh0, oh1); break;
    }
}

template <class T, bool kMax, int U, bool kTail>
inline void global_block(int64_t hw, int64_t C, const float* x, float* y, int64_t cb, typename T::M m) {
    using V = typename T::V;
    V acc[U];
    for (int u = 0; u < U; ++u) acc[u] = kMax ? T::set1(-__builtin_inff()) : T::zero();
    const float* q = x + cb;
    for (int64_t i = 0; i < hw; ++i, q += C) {
#pragma GCC unroll 4
        for (int u = 0; u < U; ++u) {
            const V v = kTail ? T::load(q + u * T::kN, m) : T::load(q + u * T::kN);
            acc[u] = kMax ? T::max(acc[u], v) : T::add(acc[u], v);
        }
    }
    const V scale = T::set1(1.f / float(hw));
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) {
        const V r = kMax ? acc[u] : T::mul(acc[u], scale);
        if (kTail) T::store(y + cb + u * T::kN, r, m);
        else T::store(y + cb + u * T::kN, r);
    }
}

template <class T, bool kMax>
void global_t(int64_t hw, int64_t C, const float* x, float* y, int64_t c0, int64_t c1) {
    const int64_t N = T::kN;
    const typename T::M none{};
    int64_t cb = c0;
    for (; cb + 4 * N <= c1; cb += 4 * N) global_block<T, kMax, 4, false>(hw, C, x, y, cb, none);
    for (; cb + N <= c1; cb += N) global_block<T, kMax, 1, false>(hw, C, x, y, cb, none);
    if (cb < c1) global_block<T, kMax, 1, true>(hw, C, x, y, cb, T::mask(c1 - cb));
}

template <class T>
void global_pool(bool max, int64_t hw, int64_t c, const float* x, float* y, int64_t c0, int64_t c1) {
    if (max) global_t<T, true>(hw, c, x, y, c0, c1);
    else global_t<T, false>(hw, c, x, y, c0, c1);
}

}  // namespace
}  // namespace edgecnn
