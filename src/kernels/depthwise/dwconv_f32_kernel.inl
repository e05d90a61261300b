// Depthwise NHWC row kernels written once over a SIMD traits struct T (simd_f32.inl) and
// instantiated by dwconv_f32_avx2.cpp / dwconv_f32_avx512.cpp.
//
// Loop order per output row: channel block (one vector) outer, output pixels inner, so
// the kh*kw weight vectors of a block are loaded once and, for the fixed 3x3 / 5x5
// kernels, stay in registers while the row streams by. The interior is unrolled over 4
// pixels (4 independent accumulators hide FMA latency); rows outside the image point at
// a zero row, so the interior has no branches; only columns whose window crosses the
// left/right edge check taps.
#pragma once
#include "kernels/depthwise/dwconv_f32_internal.hpp"
#include "kernels/eltwise/simd_f32.inl"

namespace edgecnn {
namespace {

template <class T, bool kTail>
struct DwIo {
    using V = typename T::V;
    typename T::M m;
    inline V load(const float* p) const {
        if constexpr (kTail) return T::load(p, m);
        else return T::load(p);
    }
    inline void store(float* p, V v) const {
        if constexpr (kTail) T::store(p, v, m);
        else T::store(p, v);
    }
};

template <class T, bool kClamp>
inline typename T::V dw_epilogue(typename T::V v, const VAct<T>& a) {
    if constexpr (kClamp) return T::min(T::max(v, a.lo), a.hi);
    else return vactivate<T>(v, a);
}

// Fixed KH x KW: weights in registers. SW: the horizontal stride when it is 1 or 2 and
// there is no horizontal dilation (input reuse across pixels), else 0 (run-time stride). rows[ky] points at channel cb of input row
// oh*stride_h - pad_t + ky*dil_h (or of the zero row).
template <class T, int KH, int KW, int SW, bool kTail, bool kClamp>
inline void dw_block_fixed(const dwconv_detail::Job& j, const float* const* rows, float* yrow, int64_t cb,
                           const DwIo<T, kTail>& io, const VAct<T>& act) {
    using V = typename T::V;
    const DwConvParams& p = j.p;
    const int64_t C = p.c, W = p.w;
    const int64_t xs = p.stride_w * C;  // input step between neighbouring output pixels
    const int64_t ts = p.dil_w * C;     // input step between horizontal taps
    V wv[KH * KW];
#pragma GCC unroll 32
    for (int t = 0; t < KH * KW; ++t) wv[t] = T::load(j.w + t * j.c_pad + cb);
    const V bias = T::load(j.bias + cb);

    auto edge_pixel = [&](int64_t ow) {
        const int64_t iw0 = ow * p.stride_w - p.pad_l;
        V acc = bias;
#pragma GCC unroll 8
        for (int kx = 0; kx < KW; ++kx) {
            const int64_t iw = iw0 + kx * p.dil_w;
            if (iw < 0 || iw >= W) continue;
#pragma GCC unroll 8
            for (int ky = 0; ky < KH; ++ky) acc = T::fmadd(io.load(rows[ky] + iw * C), wv[ky * KW + kx], acc);
        }
        io.store(yrow + ow * C + cb, dw_epilogue<T, kClamp>(acc, act));
    };

    int64_t ow = 0;
    for (; ow < j.ow_lo; ++ow) edge_pixel(ow);
    const int64_t ow_hi = j.ow_hi;
    // Interior: every tap inside the image.
    for (; ow + 4 <= ow_hi; ow += 4) {
        const int64_t o = (ow * p.stride_w - p.pad_l) * C;
        V a0 = bias, a1 = bias, a2 = bias, a3 = bias;
        if constexpr (SW > 0) {
            // Known stride, no dilation: the 4 pixels' windows overlap, so each input
            // vector of the row is loaded once and feeds every pixel that uses it.
            constexpr int kCols = 3 * SW + KW;
#pragma GCC unroll 8
            for (int ky = 0; ky < KH; ++ky) {
                const float* r = rows[ky] + o;
                V in[kCols];
#pragma GCC unroll 16
                for (int i = 0; i < kCols; ++i) in[i] = io.load(r + i * C);
#pragma GCC unroll 8
                for (int kx = 0; kx < KW; ++kx) {
                    const V w = wv[ky * KW + kx];
                    a0 = T::fmadd(in[kx], w, a0);
                    a1 = T::fmadd(in[kx + SW], w, a1);
                    a2 = T::fmadd(in[kx + 2 * SW], w, a2);
                    a3 = T::fmadd(in[kx + 3 * SW], w, a3);
                }
            }
        } else {
#pragma GCC unroll 8
            for (int ky = 0; ky < KH; ++ky) {
                const float* r = rows[ky] + o;
#pragma GCC unroll 8
                for (int kx = 0; kx < KW; ++kx) {
                    const V w = wv[ky * KW + kx];
                    const float* q = r + kx * ts;
                    a0 = T::fmadd(io.load(q), w, a0);
                    a1 = T::fmadd(io.load(q + xs), w, a1);
                    a2 = T::fmadd(io.load(q + 2 * xs), w, a2);
                    a3 = T::fmadd(io.load(q + 3 * xs), w, a3);
                }
            }
        }
        float* out = yrow + ow * C + cb;
        io.store(out, dw_epilogue<T, kClamp>(a0, act));
        io.store(out + C, dw_epilogue<T, kClamp>(a1, act));
        io.store(out + 2 * C, dw_epilogue<T, kClamp>(a2, act));
        io.store(out + 3 * C, dw_epilogue<T, kClamp>(a3, act));
    }
    for (; ow < ow_hi; ++ow) {
        const int64_t o = (ow * p.stride_w - p.pad_l) * C;
        V acc = bias;
#pragma GCC unroll 8
        for (int ky = 0; ky < KH; ++ky)
#pragma GCC unroll 8
            for (int kx = 0; kx < KW; ++kx) acc = T::fmadd(io.load(rows[ky] + o + kx * ts), wv[ky * KW + kx], acc);
        io.store(yrow + ow * C + cb, dw_epilogue<T, kClamp>(acc, act));
    }
    for (ow = ow_hi > j.ow_lo ? ow_hi : j.ow_lo; ow < p.out_w; ++ow) edge_pixel(ow);
}

// Any kernel size: weights read from the (L1-resident) packed buffer, shared by 4 pixels.
template <class T, bool kTail, bool kClamp>
inline void dw_block_generic(const dwconv_detail::Job& j, const float* const* rows, float* yrow, int64_t cb,
                             const DwIo<T, kTail>& io, const VAct<T>& act) {
    using V = typename T::V;
    const DwConvParams& p = j.p;
    const int64_t C = p.c, W = p.w, KH = p.kh, KW = p.kw;
    const int64_t xs = p.stride_w * C, ts = p.dil_w * C;
    const float* wb = j.w + cb;
    const V bias = T::load(j.bias + cb);

    auto edge_pixel = [&](int64_t ow) {
        const int64_t iw0 = ow * p.stride_w - p.pad_l;
        V acc = bias;
        for (int64_t kx = 0; kx < KW; ++kx) {
            const int64_t iw = iw0 + kx * p.dil_w;
            if (iw < 0 || iw >= W) continue;
            for (int64_t ky = 0; ky < KH; ++ky)
                acc = T::fmadd(io.load(rows[ky] + iw * C), T::load(wb + (ky * KW + kx) * j.c_pad), acc);
        }
        io.store(yrow + ow * C + cb, dw_epilogue<T, kClamp>(acc, act));
    };

    int64_t ow = 0;
    for (; ow < j.ow_lo; ++ow) edge_pixel(ow);
    const int64_t ow_hi = j.ow_hi;
    for (; ow + 4 <= ow_hi; ow += 4) {
        const int64_t o = (ow * p.stride_w - p.pad_l) * C;
        V a0 = bias, a1 = bias, a2 = bias, a3 = bias;
        for (int64_t ky = 0; ky < KH; ++ky) {
            const float* r = rows[ky] + o;
            const float* wr = wb + ky * KW * j.c_pad;
            for (int64_t kx = 0; kx < KW; ++kx) {
                const V w = T::load(wr + kx * j.c_pad);
                const float* q = r + kx * ts;
                a0 = T::fmadd(io.load(q), w, a0);
                a1 = T::fmadd(io.load(q + xs), w, a1);
                a2 = T::fmadd(io.load(q + 2 * xs), w, a2);
                a3 = T::fmadd(io.load(q + 3 * xs), w, a3);
            }
        }
        float* out = yrow + ow * C + cb;
        io.store(out, dw_epilogue<T, kClamp>(a0, act));
        io.store(out + C, dw_epilogue<T, kClamp>(a1, act));
        io.store(out + 2 * C, dw_epilogue<T, kClamp>(a2, act));
        io.store(out + 3 * C, dw_epilogue<T, kClamp>(a3, act));
    }
    for (; ow < ow_hi; ++ow) {
        const int64_t o = (ow * p.stride_w - p.pad_l) * C;
        V acc = bias;
        for (int64_t ky = 0; ky < KH; ++ky)
            for (int64_t kx = 0; kx < KW; ++kx)
                acc = T::fmadd(io.load(rows[ky] + o + kx * ts), T::load(wb + (ky * KW + kx) * j.c_pad), acc);
        io.store(yrow + ow * C + cb, dw_epilogue<T, kClamp>(acc, act));
    }
    for (ow = ow_hi > j.ow_lo ? ow_hi : j.ow_lo; ow < p.out_w; ++ow) edge_pixel(ow);
}

template <class T, int KH, int KW, int SW, bool kClamp>
void dw_rows_t(const dwconv_detail::Job& j, int64_t n, int64_t oh0, int64_t oh1, int64_t c0, int64_t c1) {
    const DwConvParams& p = j.p;
    const VAct<T> act(j.act);
    const int64_t C = p.c, W = p.w, H = p.h;
    const float* xn = j.x + n * H * W * C;
    constexpr int kMaxRows = 64;  // generic path: taller kernels are split by the driver
    const int64_t kh = KH > 0 ? KH : p.kh;
    const float* rows[KH > 0 ? KH : kMaxRows];
    const float* rows_cb[KH > 0 ? KH : kMaxRows];  // rows shifted to the channel block
    for (int64_t oh = oh0; oh < oh1; ++oh) {
        const int64_t ih0 = oh * p.stride_h - p.pad_t;
        for (int64_t ky = 0; ky < kh; ++ky) {
            const int64_t ih = ih0 + ky * p.dil_h;
            rows[ky] = (ih >= 0 && ih < H) ? xn + ih * W * C : j.zero_row;
        }
        float* yrow = j.y + ((n * p.out_h + oh) * p.out_w) * C;
        int64_t cb = c0;
        for (; cb + T::kN <= c1; cb += T::kN) {
            for (int64_t ky = 0; ky < kh; ++ky) rows_cb[ky] = rows[ky] + cb;
            const DwIo<T, false> io{};
            if constexpr (KH > 0) dw_block_fixed<T, KH, KW, SW, false, kClamp>(j, rows_cb, yrow, cb, io, act);
            else dw_block_generic<T, false, kClamp>(j, rows_cb, yrow, cb, io, act);
        }
        if (cb < c1) {
            for (int64_t ky = 0; ky < kh; ++ky) rows_cb[ky] = rows[ky] + cb;
            const DwIo<T, true> io{T::mask(c1 - cb)};
            if constexpr (KH > 0) dw_block_fixed<T, KH, KW, SW, true, kClamp>(j, rows_cb, yrow, cb, io, act);
            else dw_block_generic<T, true, kClamp>(j, rows_cb, yrow, cb, io, act);
        }
    }
}

template <class T, int KH, int KW>
void dw_rows_k(const dwconv_detail::Job& j, bool clamp, int64_t n, int64_t oh0, int64_t oh1, int64_t c0, int64_t c1) {
    const int sw = j.p.dil_w == 1 && j.p.stride_w <= 2 ? int(j.p.stride_w) : 0;
    if (clamp) {
        if (sw == 1) dw_rows_t<T, KH, KW, 1, true>(j, n, oh0, oh1, c0, c1);
        else if (sw == 2) dw_rows_t<T, KH, KW, 2, true>(j, n, oh0, oh1, c0, c1);
        else dw_rows_t<T, KH, KW, 0, true>(j, n, oh0, oh1, c0, c1);
    } else {
        if (sw == 1) dw_rows_t<T, KH, KW, 1, false>(j, n, oh0, oh1, c0, c1);
        else if (sw == 2) dw_rows_t<T, KH, KW, 2, false>(j, n, oh0, oh1, c0, c1);
        else dw_rows_t<T, KH, KW, 0, false>(j, n, oh0, oh1, c0, c1);
    }
}

template <class T>
void dw_rows(const dwconv_detail::Job& j, int64_t n, int64_t oh0, int64_t oh1, int64_t c0, int64_t c1) {
    const bool clamp = VAct<T>(j.act).is_clamp();
    const int64_t kh = j.p.kh, kw = j.p.kw;
    if (kh == 3 && kw == 3) dw_rows_k<T, 3, 3>(j, clamp, n, oh0, oh1, c0, c1);
    else if (kh == 5 && kw == 5) dw_rows_k<T, 5, 5>(j, clamp, n, oh0, oh1, c0, c1);
    else if (clamp) dw_rows_t<T, 0, 0, 0, true>(j, n, oh0, oh1, c0, c1);
    else dw_rows_t<T, 0, 0, 0, false>(j, n, oh0, oh1, c0, c1);
}

}  // namespace
}  // namespace edgecnn
