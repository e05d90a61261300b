// The deconvolution tile kernel, written once over a vector-traits type (Vec: kN lanes,
// load/store with and without a lane mask, set1, zero, fmadd, add, interleave2) and
// instantiated per ISA by deconv_f32_avx512.cpp, deconv_f32_avx2.cpp and, with a one-lane
// portable Vec, deconv_f32.cpp. Internal linkage on purpose (see simd_f32.inl).
#pragma once
#include <cstdint>

#include "kernels/deconv/deconv_f32_internal.hpp"

namespace edgecnn::deconv_detail {
namespace {  // NOLINT: internal linkage per ISA translation unit

// MR rows of W^T x NV vectors of input pixels.
template <class Vec, int MR, int NV>
void deconv_block(const DeconvJob& j, int64_t n, int64_t co0, int64_t co1, int64_t ih0, int64_t ih1) {
    using V = typename Vec::V;
    constexpr int64_t kN = Vec::kN, kPix = kN * NV;
    const Deconv2dParams& p = j.p;
    const int64_t kk = p.kh * p.kw, cin = p.c_in, in_plane = p.ih * p.iw;
    const int64_t m_begin = co0 * kk, m_end = co1 * kk;
    const float* xn = j.x + n * cin * in_plane;
    alignas(64) float tile[MR * kPix];

    for (int64_t ih = ih0; ih < ih1; ++ih) {
        for (int64_t iw0 = 0; iw0 < p.iw; iw0 += kPix) {
            const int64_t cnt = p.iw - iw0 < kPix ? p.iw - iw0 : kPix;
            int64_t vcnt[NV];
            for (int v = 0; v < NV; ++v) {
                const int64_t c = cnt - v * kN;
                vcnt[v] = c < 0 ? 0 : (c > kN ? kN : c);
            }
            const float* xb = xn + ih * p.iw + iw0;
            for (int64_t m0 = m_begin; m0 < m_end; m0 += MR) {
                const int64_t mr = m_end - m0 < MR ? m_end - m0 : MR;
                const float* arow[MR];
                for (int r = 0; r < MR; ++r) arow[r] = j.wt + (m0 + (r < mr ? r : mr - 1)) * cin;
                V acc[MR][NV];
                for (int r = 0; r < MR; ++r)
                    for (int v = 0; v < NV; ++v) acc[r][v] = Vec::zero();
                if (cnt == kPix) {
                    for (int64_t ci = 0; ci < cin; ++ci) {
                        const float* xr = xb + ci * in_plane;
                        V xv[NV];
                        for (int v = 0; v < NV; ++v) xv[v] = Vec::load(xr + v * kN);
                        for (int r = 0; r < MR; ++r) {
                            const V a = Vec::set1(arow[r][ci]);
                            for (int v = 0; v < NV; ++v) acc[r][v] = Vec::fmadd(a, xv[v], acc[r][v]);
                        }
                    }
                } else {
                    typename Vec::M msk[NV];
                    for (int v = 0; v < NV; ++v) msk[v] = Vec::mask(vcnt[v]);
                    for (int64_t ci = 0; ci < cin; ++ci) {
                        const float* xr = xb + ci * in_plane;
                        V xv[NV];
                        for (int v = 0; v < NV; ++v) xv[v] = vcnt[v] ? Vec::load(xr + v * kN, msk[v]) : Vec::zero();
                        for (int r = 0; r < MR; ++r) {
                            const V a = Vec::set1(arow[r][ci]);
                            for (int v = 0; v < NV; ++v) acc[r][v] = Vec::fmadd(a, xv[v], acc[r][v]);
                        }
                    }
                }
                if (j.exact2) {
                    // Rows come in (kw = 0, kw = 1) pairs (m0 and MR are even); each pair
                    // fills output row 2*ih + kh at columns 2*iw0 ...
                    for (int r = 0; r + 1 < MR; r += 2) {
                        if (r >= mr) break;
                        const int64_t m = m0 + r, co = m / 4, khi = (m / 2) % 2;
                        float* yr = j.y + ((n * p.c_out + co) * p.oh + 2 * ih + khi) * p.ow + 2 * iw0;
                        const V b = Vec::set1(j.bias ? j.bias[co] : 0.f);
                        for (int v = 0; v < NV; ++v) {
                            if (vcnt[v] == 0) break;
                            V lo, hi;
                            Vec::interleave2(acc[r][v], acc[r + 1][v], lo, hi);
                            lo = Vec::add(lo, b);
                            hi = Vec::add(hi, b);
                            float* yv = yr + 2 * kN * v;
                            if (vcnt[v] == kN) {
                                Vec::store(yv, lo);
                                Vec::store(yv + kN, hi);
                            } else {
                                const int64_t outs = 2 * vcnt[v];
                                Vec::store(yv, lo, Vec::mask(outs < kN ? outs : kN));
                                if (outs > kN) Vec::store(yv + kN, hi, Vec::mask(outs - kN));
                            }
                        }
                    }
                } else {
                    for (int r = 0; r < MR; ++r)
                        for (int v = 0; v < NV; ++v) Vec::store(tile + r * kPix + v * kN, acc[r][v]);
                    scatter_add_tile(j, tile, kPix, n, m0, mr, ih, iw0, cnt);
                }
            }
        }
    }
}

}  // namespace
}  // namespace edgecnn::deconv_detail
