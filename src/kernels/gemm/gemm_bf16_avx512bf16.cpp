// The AVX512-BF16 GEMM kernel (contract: gemm_bf16.hpp): 14 x 32 register tiles of FP32
// accumulators fed by vdpbf16ps, two K rows per instruction. B comes packed as bf16 pairs;
// A is converted to bf16 pairs (vcvtne2ps2bf16, round to nearest even) a block at a time
// into a per-thread buffer, once per row tile and K block, and reused across every column
// panel. The epilogue (bias, residual, activation) is the FP32 kernel's (store_tile).
// Compiled with -mavx512bf16 (CMakeLists: the _avx512bf16.cpp suffix).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, as in gemm_f32_avx512.cpp
#endif
#include <immintrin.h>

#include <vector>

#include "kernels/gemm/gemm_bf16_internal.hpp"
#include "kernels/gemm/gemm_f32_kernel.inl"
#include "kernels/gemm/gemm_f32_vec_avx512.hpp"

namespace edgecnn::gemm_detail {
namespace {

// C[MR x ncols] (+)= A[MR x 2kp] · B[2kp x NV*16]: `a` holds each row's K as kp bf16
// pairs (row stride lda_p pairs), `b` the panel's pairs (NV*16 columns x 2 per pair).
template <int MR, int NV>
void micro_kernel_bf16(int64_t kp, const uint32_t* __restrict a, int64_t lda_p, const uint16_t* __restrict b,
                       float* c, int64_t ldc, int ncols, const TileEpilogue& ep) {
    __m512 acc[MR][NV];
    EDGECNN_GEMM_UNROLL for (int i = 0; i < MR; ++i) EDGECNN_GEMM_UNROLL for (int j = 0; j < NV; ++j) acc[i][j] = _mm512_setzero_ps();
    const char* pf = ep.prefetch;
    const int64_t pf_step = ep.prefetch_step;
    for (int64_t p = 0; p < kp; ++p) {
        __builtin_prefetch(pf + p * pf_step, 0, 3);
        __m512bh bv[NV];
        EDGECNN_GEMM_UNROLL for (int j = 0; j < NV; ++j) bv[j] = (__m512bh)_mm512_loadu_si512(b + j * 32);
        EDGECNN_GEMM_UNROLL for (int i = 0; i < MR; ++i) {
            const __m512bh av = (__m512bh)_mm512_set1_epi32(int(a[i * lda_p + p]));
            EDGECNN_GEMM_UNROLL for (int j = 0; j < NV; ++j) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], av, bv[j]);
        }
        b += NV * 32;
    }
    store_tile<VecAvx512, MR, NV>(acc, c, ldc, ncols, ep);
}

using MicroKernelBf16Fn = void (*)(int64_t, const uint32_t*, int64_t, const uint16_t*, float*, int64_t, int,
                                   const TileEpilogue&);

template <int NV, size_t... I>
constexpr std::array<MicroKernelBf16Fn, sizeof...(I)> kernel_table_bf16(std::index_sequence<I...>) {
    return {&micro_kernel_bf16<int(I) + 1, NV>...};
}

// Rows [r0, r1) of A, K columns [k0, k0 + kc), into `dst` as bf16 pairs, kp = ceil(kc / 2)
// per row. A K block's odd tail pairs with a zero (the packed B row there is zero too, but
// a value read past K could be NaN).
void convert_rows(const float* A, int64_t lda, int64_t r0, int64_t r1, int64_t k0, int64_t kc, uint32_t* dst) {
    const int64_t kp = (kc + 1) / 2;
    for (int64_t r = r0; r < r1; ++r) {
        const float* src = A + r * lda + k0;
        uint32_t* out = dst + (r - r0) * kp;
        int64_t j = 0;
        for (; j + 32 <= kc; j += 32) {
            const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + j + 16), _mm512_loadu_ps(src + j));
            _mm512_storeu_si512(out + j / 2, (__m512i)v);
        }
        if (j < kc) {
            const int64_t rem = kc - j;
            const __mmask16 mlo = __mmask16((1u << std::min<int64_t>(rem, 16)) - 1u);
            const __mmask16 mhi = __mmask16((1u << std::clamp<int64_t>(rem - 16, 0, 16)) - 1u);
            const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(mhi, src + j + 16), _mm512_maskz_loadu_ps(mlo, src + j));
            const __mmask16 mst = __mmask16((1u << ((rem + 1) / 2)) - 1u);
            _mm512_mask_storeu_epi32(out + j / 2, mst, (__m512i)v);
        }
    }
}

}  // namespace

void gemm_block_bf16_avx512(const Bf16Job& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    constexpr int MR = kMrBf16, NR = kNrBf16, NV = NR / 16;
    static constexpr auto kWide = kernel_table_bf16<NV>(std::make_index_sequence<MR>());
    static constexpr auto kNarrow = kernel_table_bf16<NV / 2>(std::make_index_sequence<MR>());
    // The converted A block: a row tile, or every row of the task when panels go outermost
    // (at most kPanelsOuterMaxABytes / 2). Grown once per thread, then reused.
    thread_local std::vector<uint32_t> abuf;

    const int64_t N = job.N, kp_all = job.kp;
    const GemmEpilogue& gep = job.ep;
    const Activation kind = gep.act.kind;
    TileEpilogue ep{};
    ep.clamp = kind == Activation::Relu || kind == Activation::Clip;
    ep.lo = kind == Activation::Clip ? gep.act.alpha : 0.f;
    ep.hi = kind == Activation::Clip ? gep.act.beta : std::numeric_limits<float>::infinity();
    const bool post_act = !ep.clamp && kind != Activation::None;
    // Same loop orders as the FP32 kernel (gemm_block in gemm_f32_kernel.inl), measured on
    // the FP32 A bytes so that both kernels pick the same order for a shape.
    const bool panels_outer = (m1 - m0) * job.kc * int64_t(sizeof(float)) <= kPanelsOuterMaxABytes;
    const int64_t tiles = (m1 - m0 + MR - 1) / MR;
    const size_t need = size_t(panels_outer ? (m1 - m0) : MR) * size_t((job.kc + 1) / 2);
    if (abuf.size() < need) abuf.resize(need);
    uint32_t* buf = abuf.data();

    int64_t k0 = 0;
    do {
        const int64_t kc = std::min(job.kc, job.K - k0);
        const int64_t kp = (kc + 1) / 2;
        const bool first = k0 == 0, last = k0 + kc >= job.K;
        const int64_t next_bytes = kp * NR * 2 * int64_t(sizeof(uint16_t));
        const int64_t chunk = (next_bytes + tiles - 1) / tiles;
        const int64_t pf_step = std::max<int64_t>(64, ((chunk + kp - 1) / kp + 63) / 64 * 64);
        auto tile = [&](int64_t m, int64_t n, const uint32_t* a) {
            const int mr = int(std::min<int64_t>(MR, m1 - m));
            const bool narrow = is_narrow_panel(n, N, NR);
            const int pw = narrow ? NR / 2 : NR;
            const int ncols = int(std::min<int64_t>(pw, N - n));
            const uint16_t* b = job.B + n * kp_all + (k0 / 2) * pw * 2;
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
                ep.prefetch = reinterpret_cast<const char*>(job.B + (n + NR) * kp_all + (k0 / 2) * next_pw * 2) +
                              (m - m0) / MR * chunk;
                ep.prefetch_step = pf_step;
            }
            const MicroKernelBf16Fn fn = narrow ? kNarrow[size_t(mr - 1)] : kWide[size_t(mr - 1)];
            fn(kp, a, kp, b, c, job.ldc, ncols, ep);
            ep.clamp = clamp;
            if (last && post_act) activate_tile<VecAvx512>(c, job.ldc, mr, ncols, gep.act);
        };
        if (panels_outer) {
            convert_rows(job.A, job.lda, m0, m1, k0, kc, buf);
            for (int64_t n = n0; n < n1; n += NR)
                for (int64_t m = m0; m < m1; m += MR) tile(m, n, buf + (m - m0) * kp);
        } else {
            for (int64_t m = m0; m < m1; m += MR) {
                convert_rows(job.A, job.lda, m, std::min<int64_t>(m + MR, m1), k0, kc, buf);
                for (int64_t n = n0; n < n1; n += NR) tile(m, n, buf);
            }
        }
        k0 += kc;
    } while (k0 < job.K);
}

}  // namespace edgecnn::gemm_detail
