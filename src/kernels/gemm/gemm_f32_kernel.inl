// The one source of the FP32 GEMM micro-kernels and block loop, instantiated per ISA.
// An including file defines a vector-traits struct (see VecPortable in gemm_f32.cpp, the
// AVX2/AVX-512 ones in gemm_f32_avx2.cpp / gemm_f32_avx512.cpp) and instantiates
// gemm_block<Vec, MR, NV>: MR rows x NV vectors of Vec::W columns per register tile.
//
// Vec provides: V, Mask, W, zero, set1, load, store, mask(n), load(p, m),
// store(p, v, m), fma(a, b, c) = a*b + c, add, sub, mul, div, min, max, abs,
// copysign(mag, sign), round (to nearest), pow2i (2^n for integral-valued n).
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include "kernels/gemm/gemm_f32_internal.hpp"

namespace edgecnn::gemm_detail {
namespace {

#if defined(__GNUC__)
#define EDGECNN_GEMM_UNROLL _Pragma("GCC unroll 32")
#else
#define EDGECNN_GEMM_UNROLL
#endif

// exp(x) for |x| up to ~87 with ~2 ulp relative error: x = n ln2 + r, |r| <= ln2/2, and
// the classic degree-6 minimax polynomial for e^r (Cephes expf coefficients).
template <class Vec>
inline typename Vec::V vexp(typename Vec::V x) {
    using V = typename Vec::V;
    x = Vec::min(Vec::max(x, Vec::set1(-87.0f)), Vec::set1(88.0f));
    const V n = Vec::round(Vec::mul(x, Vec::set1(1.44269504088896341f)));
    V r = Vec::fma(n, Vec::set1(-0.693359375f), x);
    r = Vec::fma(n, Vec::set1(2.12194440e-4f), r);
    V p = Vec::set1(1.9875691500e-4f);
    p = Vec::fma(p, r, Vec::set1(1.3981999507e-3f));
    p = Vec::fma(p, r, Vec::set1(8.3334519073e-3f));
    p = Vec::fma(p, r, Vec::set1(4.1665795894e-2f));
    p = Vec::fma(p, r, Vec::set1(1.6666665459e-1f));
    p = Vec::fma(p, r, Vec::set1(5.0000001201e-1f));
    p = Vec::fma(p, Vec::mul(r, r), Vec::add(r, Vec::set1(1.f)));
    return Vec::mul(p, Vec::pow2i(n));
}

// Activations other than None/Relu/Clip (which the micro-kernel folds into a min/max).
template <class Vec>
inline typename Vec::V activate(typename Vec::V x, const ActivationParams& p) {
    using V = typename Vec::V;
    const V zero = Vec::zero(), one = Vec::set1(1.f);
    switch (p.kind) {
        case Activation::HardSigmoid:
            return Vec::min(Vec::max(Vec::fma(x, Vec::set1(p.alpha), Vec::set1(p.beta)), zero), one);
        case Activation::HardSwish:
            return Vec::mul(
                x, Vec::min(Vec::max(Vec::fma(x, Vec::set1(1.f / 6.f), Vec::set1(0.5f)), zero), one));
        case Activation::Sigmoid: return Vec::div(one, Vec::add(one, vexp<Vec>(Vec::sub(zero, x))));
        case Activation::Silu: return Vec::div(x, Vec::add(one, vexp<Vec>(Vec::sub(zero, x))));
        case Activation::LeakyRelu:
            return Vec::fma(Vec::min(x, zero), Vec::set1(p.alpha), Vec::max(x, zero));
        case Activation::Tanh: {
            // tanh|x| = (1 - e^-2|x|) / (1 + e^-2|x|): absolute error ~1e-7 everywhere.
            const V t = vexp<Vec>(Vec::mul(Vec::abs(x), Vec::set1(-2.f)));
            return Vec::copysign(Vec::div(Vec::sub(one, t), Vec::add(one, t)), x);
        }
        default: return x;
    }
}

// Applies a non-min/max activation to an mr x ncols tile of C that is hot in L1.
template <class Vec>
__attribute__((noinline)) void activate_tile(float* c, int64_t ldc, int mr, int ncols, const ActivationParams& p) {
    constexpr int W = Vec::W;
    for (int i = 0; i < mr; ++i) {
        float* row = c + i * ldc;
        int j = 0;
        for (; j + W <= ncols; j += W) Vec::store(row + j, activate<Vec>(Vec::load(row + j), p));
        if (j < ncols) {
            const auto m = Vec::mask(ncols - j);
            Vec::store(row + j, activate<Vec>(Vec::load(row + j, m), p), m);
        }
    }
}

struct TileEpilogue {
    const float* bias;      // at the tile's first column, or null
    const float* residual;  // at the tile's first element, or null
    int64_t ldr;
    bool first, last;       // first / last K block
    bool clamp;             // apply min(max(x, lo), hi) (Relu/Clip) on the last K block
    float lo, hi;
    const char* prefetch;   // see micro_kernel
    int64_t prefetch_step;
};

// The epilogue of a register tile: C[MR x ncols] (+)= acc, then bias and residual (first K
// block), the min/max activation (last K block). Shared by every micro-kernel that ends
// in FP32 accumulators (the FP32 one here, the BF16 one in gemm_bf16_avx512bf16.cpp).
template <class Vec, int MR, int NV>
__attribute__((always_inline)) inline void store_tile(typename Vec::V (&acc)[MR][NV], float* c, int64_t ldc, int ncols, const TileEpilogue& ep) {
    using V = typename Vec::V;
    constexpr int W = Vec::W, NR = NV * W;
    const V lo = Vec::set1(ep.lo), hi = Vec::set1(ep.hi);
    if (ncols >= NR) {
        V bias[NV];
        EDGECNN_GEMM_UNROLL for (int j = 0; j < NV; ++j) bias[j] = ep.bias ? Vec::load(ep.bias + j * W) : Vec::zero();
        EDGECNN_GEMM_UNROLL for (int i = 0; i < MR; ++i) {
            float* cr = c + i * ldc;
            const float* rr = ep.residual ? ep.residual + i * ep.ldr : nullptr;
            EDGECNN_GEMM_UNROLL for (int j = 0; j < NV; ++j) {
                V x = acc[i][j];
                if (!ep.first) {
                    x = Vec::add(x, Vec::load(cr + j * W));
                } else {
                    x = Vec::add(x, bias[j]);
                    if (ep.residual) x = Vec::add(x, Vec::load(rr + j * W));
                }
                if (ep.clamp) x = Vec::min(Vec::max(x, lo), hi);
                Vec::store(cr + j * W, x);
            }
        }
    } else {
        typename Vec::Mask mk[NV];
        EDGECNN_GEMM_UNROLL for (int j = 0; j < NV; ++j) mk[j] = Vec::mask(std::clamp(ncols - j * W, 0, W));
        V bias[NV];
        EDGECNN_GEMM_UNROLL for (int j = 0; j < NV; ++j) bias[j] = ep.bias ? Vec::load(ep.bias + j * W, mk[j]) : Vec::zero();
        EDGECNN_GEMM_UNROLL for (int i = 0; i < MR; ++i) {
            float* cr = c + i * ldc;
            const float* rr = ep.residual ? ep.residual + i * ep.ldr : nullptr;
            EDGECNN_GEMM_UNROLL for (int j = 0; j < NV; ++j) {
                if (j * W >= ncols) break;
                V x = acc[i][j];
                if (!ep.first) {
                    x = Vec::add(x, Vec::load(cr + j * W, mk[j]));
                } else {
                    x = Vec::add(x, bias[j]);
                    if (ep.residual) x = Vec::add(x, Vec::load(rr + j * W, mk[j]));
                }
                if (ep.clamp) x = Vec::min(Vec::max(x, lo), hi);
                Vec::store(cr + j * W, x, mk[j]);
            }
        }
    }
}

// One register tile: C[MR x ncols] (+)= A[MR x kc] · Bpanel[kc x NV*W], then the epilogue.
// A is read in place (a[i * lda + k]), B rows are NV*W floats apart.
//
// A is not packed: copying MR x KC blocks into k-major panels (as BLIS does) cost 10-30%
// on every CNN shape measured on Zen 5 (bench/gemm_bench.cpp), since the rows stay in L1
// across the column panels anyway and the broadcasts are free loads either way.
//
// `pf` + k * `pf_step` (bytes) is prefetched at step k: the driver points it at the B data a
// later call will read, so B streams in from memory while this tile computes.
template <class Vec, int MR, int NV>
void micro_kernel(int64_t kc, const float* __restrict a, int64_t lda, const float* __restrict b, float* c,
                  int64_t ldc, int ncols, const TileEpilogue& ep) {
    using V = typename Vec::V;
    constexpr int W = Vec::W, NR = NV * W;
    V acc[MR][NV];
    EDGECNN_GEMM_UNROLL for (int i = 0; i < MR; ++i) EDGECNN_GEMM_UNROLL for (int j = 0; j < NV; ++j) acc[i][j] = Vec::zero();

    // Row pointers for the broadcasts; the compiler keeps them in registers or
    // rematerializes them from a and lda.
    const float* ar[MR];
    EDGECNN_GEMM_UNROLL for (int i = 0; i < MR; ++i) ar[i] = a + i * lda;
    const char* pf = ep.prefetch;
    const int64_t pf_step = ep.prefetch_step;
    for (int64_t k = 0; k < kc; ++k) {
        __builtin_prefetch(pf + k * pf_step, 0, 3);
        V bv[NV];
        EDGECNN_GEMM_UNROLL for (int j = 0; j < NV; ++j) bv[j] = Vec::load(b + j * W);
        EDGECNN_GEMM_UNROLL for (int i = 0; i < MR; ++i) {
            const V av = Vec::set1(ar[i][k]);
            EDGECNN_GEMM_UNROLL for (int j = 0; j < NV; ++j) acc[i][j] = Vec::fma(av, bv[j], acc[i][j]);
        }
        b += NR;
    }

    store_tile<Vec, MR, NV>(acc, c, ldc, ncols, ep);
}

using MicroKernelFn = void (*)(int64_t, const float*, int64_t, const float*, float*, int64_t, int,
                               const TileEpilogue&);

// table[mr - 1] = the kernel for an mr-row tile.
template <class Vec, int NV, size_t... I>
constexpr std::array<MicroKernelFn, sizeof...(I)> kernel_table(std::index_sequence<I...>) {
    return {&micro_kernel<Vec, int(I) + 1, NV>...};
}

// The block loop: for each K block, for each MR-row tile (its A rows stay in L1), for each
// column panel (the task's B block stays in L2); tasks with few rows swap the two inner
// loops (see panels_outer).
template <class Vec, int MR, int NV>
void gemm_block(const GemmJob& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    static_assert(NV % 2 == 0, "the narrow last panel is NV/2 vectors wide");
    constexpr int NR = NV * Vec::W;
    static constexpr auto kWide = kernel_table<Vec, NV>(std::make_index_sequence<MR>());
    static constexpr auto kNarrow = kernel_table<Vec, NV / 2>(std::make_index_sequence<MR>());

    const int64_t K = job.K, N = job.N;
    const GemmEpilogue& gep = job.ep;
    const Activation kind = gep.act.kind;
    TileEpilogue ep{};
    ep.clamp = kind == Activation::Relu || kind == Activation::Clip;
    ep.lo = kind == Activation::Clip ? gep.act.alpha : 0.f;
    ep.hi = kind == Activation::Clip ? gep.act.beta : std::numeric_limits<float>::infinity();
    const bool post_act = !ep.clamp && kind != Activation::None;

    // Few rows (e.g. the 7x7 maps of a ResNet's last stage, M = 49): B is large and read
    // from memory once per call, while all of the task's A rows fit in L2. Walking the
    // column panels outermost lets each B micro-panel serve every row tile while it is hot
    // in L1 and spreads B's memory stream evenly over the call; rows-outermost would read
    // the whole B block from memory during the first row tile, faster than memory delivers.
    const bool panels_outer = (m1 - m0) * job.kc * int64_t(sizeof(float)) <= kPanelsOuterMaxABytes;
    const int64_t tiles = (m1 - m0 + MR - 1) / MR;
    int64_t k0 = 0;
    do {
        const int64_t kc = std::min(job.kc, K - k0);
        const bool first = k0 == 0, last = k0 + kc >= K;
        // Panels outermost: the next column panel's B block (same K block) is prefetched in
        // `chunk`-byte parts, one per row tile of the current panel, so the stream from memory
        // runs at 1/tiles of the rate one tile would need. Rows outermost (or K == 0):
        // nothing is prefetched (prefetching the next panel there measured no gain).
        const int64_t next_bytes = kc * NR * int64_t(sizeof(float));
        const int64_t chunk = (next_bytes + tiles - 1) / tiles;
        const int64_t pf_step = kc > 0 ? std::max<int64_t>(64, ((chunk + kc - 1) / kc + 63) / 64 * 64) : 0;
        auto tile = [&](int64_t m, int64_t n) {
            const int mr = int(std::min<int64_t>(MR, m1 - m));
            const float* a = job.A + m * job.lda + k0;
            const bool narrow = is_narrow_panel(n, N, NR);
            const int pw = narrow ? NR / 2 : NR;
            const int ncols = int(std::min<int64_t>(pw, N - n));
            const float* b = job.B + n * K + k0 * pw;
            float* c = job.C + m * job.ldc + n;
            ep.first = first;
            ep.last = last;
            ep.bias = first && gep.bias ? gep.bias + n : nullptr;
            ep.residual = first && gep.residual ? gep.residual + m * gep.ld_residual + n : nullptr;
            ep.ldr = gep.ld_residual;
            const bool clamp = ep.clamp;
            ep.clamp = clamp && last;
            ep.prefetch = reinterpret_cast<const char*>(b);
            ep.prefetch_step = 0;
            if (panels_outer && n + NR < n1) {
                const int64_t next_pw = is_narrow_panel(n + NR, N, NR) ? NR / 2 : NR;
                ep.prefetch = reinterpret_cast<const char*>(job.B + (n + NR) * K + k0 * next_pw) + (m - m0) / MR * chunk;
                ep.prefetch_step = pf_step;
            }
            const MicroKernelFn fn = narrow ? kNarrow[size_t(mr - 1)] : kWide[size_t(mr - 1)];
            fn(kc, a, job.lda, b, c, job.ldc, ncols, ep);
            ep.clamp = clamp;
            if (last && post_act) activate_tile<Vec>(c, job.ldc, mr, ncols, gep.act);
        };
        if (panels_outer)
            for (int64_t n = n0; n < n1; n += NR)
                for (int64_t m = m0; m < m1; m += MR) tile(m, n);
        else
            for (int64_t m = m0; m < m1; m += MR)
                for (int64_t n = n0; n < n1; n += NR) tile(m, n);
        k0 += kc;
    } while (k0 < K);
}

}  // namespace
}  // namespace edgecnn::gemm_detail
