// Small-Cin direct convolution row kernels, written once over a SIMD traits struct T
// (simd_f32.inl) and instantiated by conv_small_cin_f32_{avx2,avx512,neon}.cpp.
//
// Register tile: P output pixels x NV vectors of output channels. Per tap (ky, kx, ci) the
// tile loads NV weight vectors and broadcasts one input value per pixel, then does P*NV
// FMAs; with P = 6..16 that is about one load per FMA, which the load ports sustain. Output
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
// (P*NV accumulators + NV weights + a broadcast), 32 zmm / q registers otherwise. One
// vector (16 channels on AVX-512) takes 16 pixels: each tap's weight load is then shared
// by 16 FMAs, and 16 independent accumulators cover the FMA latency of both ports.
template <class T>
constexpr int small_cin_max_nv() {
    return T::kN == 8 ? 2 : 4;
}
template <class T, int NV>
constexpr int small_cin_pixels() {
    if constexpr (T::kN == 8) return NV == 1 ? 8 : 6;
    else return NV == 1 ? 16 : NV == 2 ? 12 : NV == 3 ? 8 : 6;
}

// The epilogue's settings, fixed for a whole call.
template <class T>
struct ScEpilogue {
    VAct<T> act;
    bool post;    // a residual or an activation other than None/Relu/Clip/HardSwish: sc_post
    bool hswish;  // the activation is HardSwish (MobileNetV3's stem: inlined in the tile)
    bool tail;    // the pass's last vector ends inside it: masked with m
    typename T::M m;
};

// acc[p][v] += sum over nky kernel rows and ntaps (kx, ci) taps per row. q: input at the
// first tap of pixel 0; pixel p reads at p*XS floats from there when XS > 0 (the step known
// at compile time: one base register and immediate offsets for every pixel), else at p*xs
// (a pointer per pixel: with 12-16 pixels these spill out of the 16 x86 registers);
// wk: packed weights of that first tap at the pass's first channel.
template <class T, int NV, int P, bool kContig, int XS>
inline void sc_accumulate(const small_cin_detail::Job& j, const float* q, int64_t xs, int64_t nky, int64_t ntaps,
                          const float* wk, typename T::V (&acc)[P][NV]) {
    using V = typename T::V;
    const int64_t rs = j.p.dil_h * j.sr;              // input step between kernel rows
    const int64_t ws = j.p.kw * j.p.c_in * j.c_pad;  // weight step between kernel rows
    const int64_t cp = j.c_pad;
    const int64_t* off = j.tap_off;
    for (int64_t ky = 0; ky < nky; ++ky, q += rs, wk += ws) {
        const float* qp[XS > 0 ? 1 : P];
        if constexpr (XS > 0) {
            qp[0] = q;
        } else {
#pragma GCC unroll 16
            for (int p = 0; p < P; ++p) qp[p] = q + p * xs;
        }
        const float* wt = wk;
        for (int64_t t = 0; t < ntaps; ++t, wt += cp) {
            const int64_t o = kContig ? t : off[t];
            V wv[NV];
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) wv[v] = T::load(wt + v * T::kN);
#pragma GCC unroll 16
            for (int p = 0; p < P; ++p) {
                const V b = T::set1(XS > 0 ? qp[0][p * XS + o] : qp[p][o]);
#pragma GCC unroll 4
                for (int v = 0; v < NV; ++v) acc[p][v] = T::fmadd(b, wv[v], acc[p][v]);
            }
        }
    }
}

// Residual and activation for a tile: its np x nv sums (bias included) parked in `sums`,
// written to y. A rolled loop, one per ISA: unrolled into every tile shape it made the
// kernel 3x larger. y may be r itself: each element is read before it is written.
template <class T>
[[gnu::noinline]] void sc_post(const float* sums, float* y, const float* r, int np, int nv, int64_t ys,
                               const ScEpilogue<T>& e) {
    using V = typename T::V;
    for (int p = 0; p < np; ++p)
        for (int v = 0; v < nv; ++v) {
            const bool masked = e.tail && v == nv - 1;
            const int64_t o = p * ys + v * T::kN;
            V a = T::load(sums + (p * nv + v) * T::kN);
            if (r) a = T::add(a, masked ? T::load(r + o, e.m) : T::load(r + o));
            if (e.hswish) a = vactivate_fixed<T, Activation::HardSwish>(a, e.act);
            else a = vactivate<T>(a, e.act);
            if (masked) T::store(y + o, a, e.m);
            else T::store(y + o, a);
        }
}

// Bias (+ residual) + activation, then the store; the pass's last vector is masked when
// the channel count ends inside it. Without a residual, None/Relu/Clip (a clamp, ±inf
// bounds for None) and HardSwish are applied here; otherwise the sums go through sc_post.
// The sums start from zero and take the bias, then the residual, last, in the im2col +
// GEMM path's order (taps in the same order too): on x86 and NEON both paths give
// bit-identical outputs, so choosing this path changes no result.
template <class T, int NV, int P>
inline void sc_store(const small_cin_detail::Job& j, typename T::V (&acc)[P][NV], const typename T::V (&bias)[NV],
                     float* y, const float* r, const ScEpilogue<T>& e) {
    using V = typename T::V;
    const int64_t ys = j.p.c_out;
    if (e.post) {
        alignas(64) float sums[P * NV * T::kN];
#pragma GCC unroll 16
        for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) T::store(sums + (p * NV + v) * T::kN, T::add(acc[p][v], bias[v]));
        sc_post<T>(sums, y, r, P, NV, ys, e);
        return;
    }
    auto store = [&](auto activate) {
#pragma GCC unroll 16
        for (int p = 0; p < P; ++p) {
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) {
                const int64_t o = p * ys + v * T::kN;
                const V a = activate(T::add(acc[p][v], bias[v]));
                if (e.tail && v == NV - 1) T::store(y + o, a, e.m);
                else T::store(y + o, a);
            }
        }
    };
    if (e.hswish) store([&](V a) { return vactivate_fixed<T, Activation::HardSwish>(a, e.act); });
    else store([&](V a) { return T::min(T::max(a, e.act.lo), e.act.hi); });
}

// Input rows that output row oh + kPrefetchRows reads and the row before it does not
// (every channel plane of them for NCHW input), prefetched into L1 one tile's columns at a
// time while row oh computes. A model's input is often cold (the rest of the network
// evicted it since the last run): the hardware prefetchers follow a plain row-by-row copy
// (the NCHW→NHWC Transpose) but not this kernel's 2-6 short row streams. Measured on
// lraspp's 520x520 stem reading NCHW, 1 thread (Zen): no prefetch 1.2 ms, one row ahead
// into L2 0.5-0.9 ms (erratic), 2-4 rows ahead into L1 0.52 ms (steady), 8 rows 0.54.
constexpr int64_t kPrefetchRows = 2;
struct ScPrefetch {
    static constexpr int kMax = 24;  // streams; a 7x7 kernel on 3 planes needs 21
    const float* rows[kMax];
    int n = 0;
    int64_t row_len = 0;  // floats in one row of one plane
};

// Interior columns [ow, ow_hi) of one row in tiles of P pixels, the rest in tiles of P/2,
// P/4, ... down to single pixels (a row of 111 columns: 6 x 16 + 8 + 4 + 2 + 1).
template <class T, int NV, int P, bool kContig, int XS>
inline void sc_interior(const small_cin_detail::Job& j, const float* xr, const float* wr, int64_t nky,
                        const typename T::V (&bias)[NV], float* yrow, const float* rrow, int64_t ow, int64_t ow_hi,
                        const ScEpilogue<T>& e, const ScPrefetch& pf) {
    const ConvSmallCinParams& p = j.p;
    const int64_t ntaps = p.kw * p.c_in;
    const int64_t xs = p.stride_w * j.sx;
    for (; ow + P <= ow_hi; ow += P) {
        if (pf.n) {
            const int64_t c0 = (ow * p.stride_w - p.pad_l) * j.sx;
            int64_t c1 = ((ow + P - 1) * p.stride_w - p.pad_l + (p.kw - 1) * p.dil_w + 1) * j.sx;
            if (c1 > pf.row_len) c1 = pf.row_len;
            for (int s = 0; s < pf.n; ++s) {
                for (int64_t c = c0; c < c1; c += 16) __builtin_prefetch(pf.rows[s] + c, 0, 3);
                __builtin_prefetch(pf.rows[s] + c1 - 1, 0, 3);
            }
        }
        typename T::V acc[P][NV];
        for (int q = 0; q < P; ++q)
            for (int v = 0; v < NV; ++v) acc[q][v] = T::zero();
        sc_accumulate<T, NV, P, kContig, XS>(j, xr + (ow * p.stride_w - p.pad_l) * j.sx, xs, nky, ntaps, wr, acc);
        sc_store<T, NV, P>(j, acc, bias, yrow + ow * p.c_out, rrow ? rrow + ow * p.c_out : nullptr, e);
    }
    if constexpr (P > 1) {
        if (ow < ow_hi) sc_interior<T, NV, P / 2, kContig, XS>(j, xr, wr, nky, bias, yrow, rrow, ow, ow_hi, e, pf);
    }
}

// One output row, output channels [cb, cb + NV*kN).
template <class T, int NV, bool kContig, int XS>
void sc_row_pass(const small_cin_detail::Job& j, int64_t n, int64_t oh, int64_t cb, const ScEpilogue<T>& e) {
    using V = typename T::V;
    constexpr int P = small_cin_pixels<T, NV>();
    const ConvSmallCinParams& p = j.p;
    const int64_t cin = p.c_in, cp = j.c_pad;
    const float* xn = j.x + n * j.simg;
    // Kernel rows [ky0, ky1) land inside the image.
    const int64_t ih0 = oh * p.stride_h - p.pad_t;
    const int64_t ky0 = ih0 < 0 ? (-ih0 + p.dil_h - 1) / p.dil_h : 0;
    int64_t ky1 = p.h - 1 - ih0 < 0 ? 0 : (p.h - 1 - ih0) / p.dil_h + 1;
    if (ky1 > p.kh) ky1 = p.kh;
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
        for (int v = 0; v < NV; ++v) acc[0][v] = T::zero();
        if (nkx)
            sc_accumulate<T, NV, 1, kContig, XS>(j, xr + (iw0 + kx0 * p.dil_w) * j.sx, 0, nky, nkx * cin,
                                                 wr + kx0 * cin * cp, acc);
        sc_store<T, NV, 1>(j, acc, bias, yrow + ow * p.c_out, rrow ? rrow + ow * p.c_out : nullptr, e);
    };

    // The first channel pass of a row prefetches (see ScPrefetch).
    ScPrefetch pf;
    if (cb == 0 && oh + kPrefetchRows < p.out_h) {
        const bool planes = p.nchw_input && cin > 1;
        pf.row_len = planes ? p.w : p.w * cin;
        for (int64_t ky = 0; ky < p.kh; ++ky) {
            // ih: row ky of output row oh + kPrefetchRows; d: its offset from the row before's first.
            const int64_t ih = ih0 + p.stride_h * kPrefetchRows + ky * p.dil_h;
            const int64_t d = ih - (ih0 + p.stride_h * (kPrefetchRows - 1));
            if (ih < 0 || ih >= p.h || (d % p.dil_h == 0 && d / p.dil_h < p.kh)) continue;
            for (int64_t c = 0; c < (planes ? cin : 1) && pf.n < ScPrefetch::kMax; ++c)
                pf.rows[pf.n++] = xn + ih * j.sr + c * j.sc;
        }
    }
    int64_t ow = 0;
    for (; ow < j.ow_lo; ++ow) edge_pixel(ow);
    if (ow < j.ow_hi) sc_interior<T, NV, P, kContig, XS>(j, xr, wr, nky, bias, yrow, rrow, ow, j.ow_hi, e, pf);
    for (ow = j.ow_hi > j.ow_lo ? j.ow_hi : j.ow_lo; ow < p.out_w; ++ow) edge_pixel(ow);
}

// The pixel step variants: RGB NHWC and RGB planes at stride 2 (6 / 2 floats: nearly every
// stem) get compile-time steps; anything else runs with the step in registers.
template <class T, int NV>
inline void sc_row_pass_nv(const small_cin_detail::Job& j, int64_t n, int64_t oh, int64_t cb, int64_t xs,
                           const ScEpilogue<T>& e) {
    if (j.contiguous) {
        if (xs == 6) sc_row_pass<T, NV, true, 6>(j, n, oh, cb, e);
        else sc_row_pass<T, NV, true, 0>(j, n, oh, cb, e);
    } else {
        if (xs == 2) sc_row_pass<T, NV, false, 2>(j, n, oh, cb, e);
        else sc_row_pass<T, NV, false, 0>(j, n, oh, cb, e);
    }
}

template <class T>
void sc_rows(const small_cin_detail::Job& j, int64_t n, int64_t oh0, int64_t oh1) {
    constexpr int kMaxNv = small_cin_max_nv<T>();
    ScEpilogue<T> e{VAct<T>(j.act), false, j.act.kind == Activation::HardSwish, false, T::mask(T::kN)};
    e.post = j.r != nullptr || !(e.act.is_clamp() || e.hswish);
    const int64_t cout = j.p.c_out;
    const int64_t xs = j.p.stride_w * j.sx;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
        for (int64_t cb = 0; cb < cout; cb += kMaxNv * T::kN) {
            const int64_t rem = cout - cb;
            const int64_t nvec = (rem < kMaxNv * T::kN ? rem + T::kN - 1 : kMaxNv * T::kN) / T::kN;
            e.tail = rem < nvec * T::kN;
            e.m = T::mask(e.tail ? rem - (nvec - 1) * T::kN : T::kN);
            if (nvec == 1) sc_row_pass_nv<T, 1>(j, n, oh, cb, xs, e);
            else if (nvec == 2) sc_row_pass_nv<T, 2>(j, n, oh, cb, xs, e);
            if constexpr (kMaxNv > 2) {
                if (nvec == 3) sc_row_pass_nv<T, 3>(j, n, oh, cb, xs, e);
                else if (nvec == 4) sc_row_pass_nv<T, 4>(j, n, oh, cb, xs, e);
            }
        }
    }
}

}  // namespace
}  // namespace edgecnn
