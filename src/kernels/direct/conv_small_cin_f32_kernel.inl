// Small-Cin direct convolution row kernels, written once over a SIMD traits struct T
// (simd_f32.inl) and instantiated by conv_small_cin_f32_{avx2,avx512,neon}.cpp.
//
// Register tile: P output pixels x NV vectors of output channels. Per tap (ky, kx, ci) the
// tile loads NV weight vectors and broadcasts one input value per pixel, then does P*NV
// FMAs; with P = 6..8 that is about one load per FMA, which the load ports sustain. Output
// channels beyond NV vectors are done in further passes over the row (the input row stays
// in L1). Kernel rows outside the image are skipped by a per-row tap range; interior
// columns run the P-pixel tile with every tap, and the few border columns run one pixel
// at a time with their own in-image tap range, so no loop ever tests a tap.
#pragma once
#include "kernels/direct/conv_small_cin_f32_internal.hpp"
#include "kernels/eltwise/simd_f32.inl"

namespace edgecnn {
namespace {

// Output-channel vectors per pass and pixels per tile, by register file: 16 ymm on AVX2
// (P*NV accumulators + NV weights + a broadcast), 32 zmm / q registers otherwise.
template <class T>
constexpr int small_cin_max_nv() {
    return T::kN == 8 ? 2 : 4;
}
template <class T, int NV>
constexpr int small_cin_pixels() {
    if constexpr (T::kN == 8) return NV == 1 ? 8 : 6;
    else return NV <= 3 ? 8 : 6;
}

// acc[p][v] += sum over nky kernel rows and ntaps (kx, ci) taps per row. q: input at the
// first tap of pixel 0; xs: input step between the tile's pixels; wk: packed weights of
// that first tap at the pass's first channel.
template <class T, int NV, int P, bool kContig>
inline void sc_accumulate(const small_cin_detail::Job& j, const float* q, int64_t xs, int64_t nky, int64_t ntaps,
                          const float* wk, typename T::V (&acc)[P][NV]) {
    using V = typename T::V;
    const int64_t rs = j.p.dil_h * j.sr;              // input step between kernel rows
    const int64_t ws = j.p.kw * j.p.c_in * j.c_pad;  // weight step between kernel rows
    const int64_t cp = j.c_pad;
    const int64_t* off = j.tap_off;
    for (int64_t ky = 0; ky < nky; ++ky, q += rs, wk += ws) {
        const float* qp[P];
#pragma GCC unroll 16
        for (int p = 0; p < P; ++p) qp[p] = q + p * xs;
        const float* wt = wk;
        for (int64_t t = 0; t < ntaps; ++t, wt += cp) {
            const int64_t o = kContig ? t : off[t];
            V wv[NV];
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) wv[v] = T::load(wt + v * T::kN);
#pragma GCC unroll 16
            for (int p = 0; p < P; ++p) {
                const V b = T::set1(qp[p][o]);
#pragma GCC unroll 4
                for (int v = 0; v < NV; ++v) acc[p][v] = T::fmadd(b, wv[v], acc[p][v]);
            }
        }
    }
}

// Bias (+ residual) + activation, then the store; the pass's last vector is masked when
// the channel count ends inside it.
template <class T, int NV, int P, bool kTail>
inline void sc_store(const small_cin_detail::Job& j, typename T::V (&acc)[P][NV], float* y, const float* r,
                     typename T::M m, const VAct<T>& act, bool clamp) {
    using V = typename T::V;
    const int64_t ys = j.p.c_out;
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
            const bool masked = kTail && v == NV - 1;
            const int64_t o = p * ys + v * T::kN;
            V a = acc[p][v];
            if (r) a = T::add(a, masked ? T::load(r + o, m) : T::load(r + o));
            a = clamp ? T::min(T::max(a, act.lo), act.hi) : vactivate<T>(a, act);
            if (masked) T::store(y + o, a, m);
            else T::store(y + o, a);
        }
    }
}

// One output row, output channels [cb, cb + NV*kN) (the last vector masked when kTail).
template <class T, int NV, bool kContig, bool kTail>
void sc_row_pass(const small_cin_detail::Job& j, int64_t n, int64_t oh, int64_t cb, typename T::M m,
                 const VAct<T>& act, bool clamp) {
    using V = typename T::V;
    constexpr int P = small_cin_pixels<T, NV>();
    const ConvSmallCinParams& p = j.p;
    const int64_t cin = p.c_in, cp = j.c_pad;
    const float* xn = j.x + n * j.simg;
    // Kernel rows [ky0, ky1) land inside the image.
    const int64_t ih0 = oh * p.stride_h - p.pad_t;
    const int64_t ky0 = ih0 < 0 ? (-ih0 + p.dil_h - 1) / p.dil_h : 0;
    const int64_t ky1 = p.h - 1 - ih0 < 0 ? 0 : ((p.h - 1 - ih0) / p.dil_h + 1 < p.kh ? (p.h - 1 - ih0) / p.dil_h + 1 : p.kh);
    const int64_t nky = ky1 > ky0 ? ky1 - ky0 : 0;
    const float* xr = nky ? xn + (ih0 + ky0 * p.dil_h) * j.sr : xn;
    const float* wr = j.w + ky0 * p.kw * cin * cp + cb;
    V bias[NV];
    for (int v = 0; v < NV; ++v) bias[v] = T::load(j.bias + cb + v * T::kN);
    const int64_t row = (n * p.out_h + oh) * p.out_w;
    float* yrow = j.y + row * p.c_out + cb;
    const float* rrow = j.r ? j.r + row * p.c_out + cb : nullptr;

    auto edge_pixel = [&](int64_t ow) {
        const int64_t iw0 = ow * p.stride_w - p.pad_l;
        const int64_t kx0 = iw0 < 0 ? (-iw0 + p.dil_w - 1) / p.dil_w : 0;
        int64_t kx1 = p.w - 1 - iw0 < 0 ? 0 : (p.w - 1 - iw0) / p.dil_w + 1;
        if (kx1 > p.kw) kx1 = p.kw;
        const int64_t nkx = kx1 > kx0 ? kx1 - kx0 : 0;
        V acc[1][NV];
        for (int v = 0; v < NV; ++v) acc[0][v] = bias[v];
        if (nkx) sc_accumulate<T, NV, 1, kContig>(j, xr + (iw0 + kx0 * p.dil_w) * j.sx, 0, nky, nkx * cin,
                                                   wr + kx0 * cin * cp, acc);
        sc_store<T, NV, 1, kTail>(j, acc, yrow + ow * p.c_out, rrow ? rrow + ow * p.c_out : nullptr, m, act, clamp);
    };

    const int64_t ntaps = p.kw * cin;
    const int64_t xs = p.stride_w * j.sx;
    int64_t ow = 0;
    for (; ow < j.ow_lo; ++ow) edge_pixel(ow);
    for (; ow + P <= j.ow_hi; ow += P) {
        V acc[P][NV];
        for (int q = 0; q < P; ++q)
            for (int v = 0; v < NV; ++v) acc[q][v] = bias[v];
        sc_accumulate<T, NV, P, kContig>(j, xr + (ow * p.stride_w - p.pad_l) * j.sx, xs, nky, ntaps, wr, acc);
        sc_store<T, NV, P, kTail>(j, acc, yrow + ow * p.c_out, rrow ? rrow + ow * p.c_out : nullptr, m, act, clamp);
    }
    for (; ow < j.ow_hi; ++ow) {
        V acc[1][NV];
        for (int v = 0; v < NV; ++v) acc[0][v] = bias[v];
        sc_accumulate<T, NV, 1, kContig>(j, xr + (ow * p.stride_w - p.pad_l) * j.sx, 0, nky, ntaps, wr, acc);
        sc_store<T, NV, 1, kTail>(j, acc, yrow + ow * p.c_out, rrow ? rrow + ow * p.c_out : nullptr, m, act, clamp);
    }
    for (ow = j.ow_hi > j.ow_lo ? j.ow_hi : j.ow_lo; ow < p.out_w; ++ow) edge_pixel(ow);
}

template <class T, int NV>
inline void sc_row_pass_nv(const small_cin_detail::Job& j, int64_t n, int64_t oh, int64_t cb, bool tail,
                           typename T::M m, const VAct<T>& act, bool clamp) {
    if (j.contiguous) {
        if (tail) sc_row_pass<T, NV, true, true>(j, n, oh, cb, m, act, clamp);
        else sc_row_pass<T, NV, true, false>(j, n, oh, cb, m, act, clamp);
    } else {
        if (tail) sc_row_pass<T, NV, false, true>(j, n, oh, cb, m, act, clamp);
        else sc_row_pass<T, NV, false, false>(j, n, oh, cb, m, act, clamp);
    }
}

template <class T>
void sc_rows(const small_cin_detail::Job& j, int64_t n, int64_t oh0, int64_t oh1) {
    constexpr int kMaxNv = small_cin_max_nv<T>();
    const VAct<T> act(j.act);
    const bool clamp = act.is_clamp();
    const int64_t cout = j.p.c_out;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
        for (int64_t cb = 0; cb < cout; cb += kMaxNv * T::kN) {
            const int64_t rem = cout - cb;
            const int64_t nvec = (rem < kMaxNv * T::kN ? rem + T::kN - 1 : kMaxNv * T::kN) / T::kN;
            const bool tail = rem < nvec * T::kN;
            const typename T::M m = T::mask(tail ? rem - (nvec - 1) * T::kN : T::kN);
            if (nvec == 1) sc_row_pass_nv<T, 1>(j, n, oh, cb, tail, m, act, clamp);
            else if (nvec == 2) sc_row_pass_nv<T, 2>(j, n, oh, cb, tail, m, act, clamp);
            if constexpr (kMaxNv > 2) {
                if (nvec == 3) sc_row_pass_nv<T, 3>(j, n, oh, cb, tail, m, act, clamp);
                else if (nvec == 4) sc_row_pass_nv<T, 4>(j, n, oh, cb, tail, m, act, clamp);
            }
        }
    }
}

}  // namespace
}  // namespace edgecnn
