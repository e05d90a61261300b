// The ARM64 int8 GEMM micro-kernels: one file per level defines QGEMM_NEON_MODE (and the
// block function's name) and includes this after <arm_neon.h>:
//   kSdot   dot-product level (qgemm_u8s8_neondot.cpp, ARMv8.2 FEAT_DotProd): sdot
//   kSudot  i8mm level (qgemm_u8s8_neoni8mm.cpp, FEAT_I8MM): sudot
//   kSmull  plain NEON (qgemm_u8s8_neon.cpp, ARMv8.0: Cortex-A53/A72): smull + sadalp
//
// B is the portable kernel's layout: panels of 8 columns, K in groups of 4 bytes
// ([panel][k/4][col][k%4]), so one 16-byte load is 4 columns x 4 k, exactly what the
// by-element dot product takes: `sdot acc.4s, b.16b, a.4b[l]` adds, for each of the 4
// columns, the 4-byte dot product with group l of an A register. Dot tiles are 8 rows x 8
// columns: 16 accumulators, 8 A registers (16 bytes = 4 k groups of one row each) and 2 B
// registers per group, 26 of the 32 vector registers.
//
// u8 activations: sudot multiplies signed B bytes by unsigned A bytes as they are. sdot
// and smull are signed x signed, so those paths flip A's top bit (a ^ 0x80 = a - 128 as
// int8) and add 128 * colsum[n] back in the epilogue: sum (a - 128) * b + 128 * sum b =
// sum a * b, exact in int32 like every other kernel.
//
// smull (no dot product): one k group of one row (4 bytes, replicated 4 times) times a B
// register gives 16 int16 products (|(a - 128) * b| <= 128 * 128, exact in int16);
// sadalp adds adjacent pairs into int32 lanes (col c: k0+k1, k2+k3), and the two partial
// sums of each column are added pairwise (addp) before the epilogue. Tiles of 4 rows x 8
// columns: 4 pair accumulators per row, 16 in all.
#include <algorithm>
#include <cstring>

#include "kernels/int8/qgemm_u8s8_internal.hpp"
#include "kernels/int8/requant.hpp"

namespace edgecnn::qgemm_detail {
namespace {

enum Mode { kSdot, kSudot, kSmull };
constexpr Mode kMode = QGEMM_NEON_MODE;
constexpr bool kUnsignedDot = kMode == kSudot;
constexpr int MR = kMode == kSmull ? kMrNeonSmull : kMrNeon, NR = kNrNeon;
static_assert(NR == 8, "two 4-column B registers per k group");

#if QGEMM_NEON_HAS_DOT
// acc[r][h] += dot(b[h] column groups, lane L of a[r]).
template <int L>
inline void step(int32x4_t (&acc)[MR][2], const uint8x16_t (&a)[MR], const int8_t* b) {
    const int8x16_t b0 = vld1q_s8(b), b1 = vld1q_s8(b + 16);
    for (int r = 0; r < MR; ++r) {
        if constexpr (kUnsignedDot) {
            acc[r][0] = vsudotq_laneq_s32(acc[r][0], b0, a[r], L);
            acc[r][1] = vsudotq_laneq_s32(acc[r][1], b1, a[r], L);
        } else {
            const int8x16_t as = vreinterpretq_s8_u8(a[r]);
            acc[r][0] = vdotq_laneq_s32(acc[r][0], b0, as, L);
            acc[r][1] = vdotq_laneq_s32(acc[r][1], b1, as, L);
        }
    }
}
#endif

// What the A bytes become before the dot product (see the header comment).
inline uint8x16_t prep(uint8x16_t v) {
    if constexpr (kUnsignedDot) return v;
    return veorq_u8(v, vdupq_n_u8(0x80));
}

// Rows [m, m + mr) x the 8 columns of panel p (ncols of them real).
inline void tile(const QGemmJob& j, int64_t m, int mr, int64_t p, int ncols) {
    const uint8_t* arow[MR];
    for (int r = 0; r < MR; ++r) arow[r] = j.A + (m + std::min(r, mr - 1)) * j.lda;  // spare rows repeat the last
    const int8_t* b = j.B + p * j.kp;
    int32x4_t acc[MR][2];
#if QGEMM_NEON_HAS_DOT
    for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = vdupq_n_s32(0);
#endif
#if QGEMM_NEON_HAS_DOT
    uint8x16_t a[MR];
    int64_t k = 0;
    for (; k + 16 <= j.K; k += 16, b += 4 * NR * 4) {
        for (int r = 0; r < MR; ++r) a[r] = prep(vld1q_u8(arow[r] + k));
        step<0>(acc, a, b);
        step<1>(acc, a, b + NR * 4);
        step<2>(acc, a, b + 2 * NR * 4);
        step<3>(acc, a, b + 3 * NR * 4);
    }
    if (k < j.K) {
        // K tail: up to 15 bytes, zero-filled so no byte past the row is read; B is zero
        // there too, so the filler's value does not matter. Only the groups B has.
        const int n = int(j.K - k);
        for (int r = 0; r < MR; ++r) {
            uint8_t buf[16] = {};
            std::memcpy(buf, arow[r] + k, size_t(n));
            a[r] = prep(vld1q_u8(buf));
        }
        const int groups = (n + 3) / 4;
        step<0>(acc, a, b);
        if (groups > 1) step<1>(acc, a, b + NR * 4);
        if (groups > 2) step<2>(acc, a, b + 2 * NR * 4);
        if (groups > 3) step<3>(acc, a, b + 3 * NR * 4);
    }
#else
    // pacc[r][q]: columns 2q, 2q+1, two partial sums each.
    int32x4_t pacc[MR][4];
    for (int r = 0; r < MR; ++r)
        for (int q = 0; q < 4; ++q) pacc[r][q] = vdupq_n_s32(0);
    const int64_t groups = j.kp / 4;
    for (int64_t g = 0; g < groups; ++g, b += NR * 4) {
        const int8x16_t b0 = vld1q_s8(b), b1 = vld1q_s8(b + 16);
        const int nk = int(std::min<int64_t>(4, j.K - g * 4));  // zero-filled K tail
        for (int r = 0; r < MR; ++r) {
            const int8x16_t a4 = vreinterpretq_s8_u8(prep(vreinterpretq_u8_s32(vdupq_n_s32(load_a4(arow[r] + g * 4, nk)))));
            pacc[r][0] = vpadalq_s16(pacc[r][0], vmull_s8(vget_low_s8(b0), vget_low_s8(a4)));
            pacc[r][1] = vpadalq_s16(pacc[r][1], vmull_high_s8(b0, a4));
            pacc[r][2] = vpadalq_s16(pacc[r][2], vmull_s8(vget_low_s8(b1), vget_low_s8(a4)));
            pacc[r][3] = vpadalq_s16(pacc[r][3], vmull_high_s8(b1, a4));
        }
    }
    for (int r = 0; r < MR; ++r) {
        acc[r][0] = vpaddq_s32(pacc[r][0], pacc[r][1]);
        acc[r][1] = vpaddq_s32(pacc[r][2], pacc[r][3]);
    }
#endif

    // Epilogue: per-column constant = bias - a_zero * colsum (+ 128 * colsum for sdot, smull).
    const int32_t shift = kUnsignedDot ? 0 : 128;
    int32_t off[NR];
    for (int c = 0; c < NR; ++c) {
        const int64_t n = p + c;
        off[c] = (shift - j.ep.a_zero) * j.col_sums[n] + (j.ep.bias && c < ncols ? j.ep.bias[n] : 0);
    }
    const int32x4_t off0 = vld1q_s32(off), off1 = vld1q_s32(off + 4);
    const bool vector_store = ncols == NR && !j.ep.residual && !j.ep.c_f32;
    if (vector_store) {
        // requant.hpp vectorized: float(acc) * mult (scvtf rounds to nearest even), clamp
        // to +-kRequantLimit, fcvtns (round half to even), + zero, clamp to [lo, hi].
        const float32x4_t mu0 = vld1q_f32(j.ep.mult + p), mu1 = vld1q_f32(j.ep.mult + p + 4);
        const float32x4_t lim = vdupq_n_f32(kRequantLimit), nlim = vdupq_n_f32(-kRequantLimit);
        const int32x4_t zero = vdupq_n_s32(j.ep.c_zero), lo = vdupq_n_s32(j.ep.lo), hi = vdupq_n_s32(j.ep.hi);
        auto rq = [&](int32x4_t v, float32x4_t mu) {
            float32x4_t f = vmulq_f32(vcvtq_f32_s32(v), mu);
            f = vminq_f32(vmaxq_f32(f, nlim), lim);
            int32x4_t q = vaddq_s32(vcvtnq_s32_f32(f), zero);
            return vminq_s32(vmaxq_s32(q, lo), hi);
        };
        for (int r = 0; r < mr; ++r) {
            const int32x4_t q0 = rq(vaddq_s32(acc[r][0], off0), mu0), q1 = rq(vaddq_s32(acc[r][1], off1), mu1);
            // Values are in [0, 255] after the clamp, so the narrowing moves are exact.
            const uint16x8_t h = vcombine_u16(vmovn_u32(vreinterpretq_u32_s32(q0)), vmovn_u32(vreinterpretq_u32_s32(q1)));
            vst1_u8(j.C + (m + r) * j.ldc + p, vmovn_u16(h));
        }
        return;
    }
    for (int r = 0; r < mr; ++r) {
        int32_t v[NR];
        vst1q_s32(v, vaddq_s32(acc[r][0], off0));
        vst1q_s32(v + 4, vaddq_s32(acc[r][1], off1));
        if (float* cf = j.ep.c_f32) {
            for (int c = 0; c < ncols; ++c) cf[(m + r) * j.ldc + p + c] = float(v[c]) * j.ep.mult[p + c];
            continue;
        }
        uint8_t* out = j.C + (m + r) * j.ldc + p;
        for (int c = 0; c < ncols; ++c) {
            const int64_t n = p + c;
            const uint8_t q = requantize_u8(v[c], j.ep.mult[n], j.ep.c_zero, j.ep.lo, j.ep.hi);
            if (!j.ep.residual) {
                out[c] = q;
                continue;
            }
            const QAddParams& ap = j.ep.add;
            const uint8_t rb = j.ep.residual[(m + r) * j.ldc + n];
            out[c] = qadd_u8(q, ap.a_mult, ap.a_zero, rb, ap.b_mult, ap.b_zero, ap.y_zero, ap.lo, ap.hi);
        }
    }
}

}  // namespace

void QGEMM_NEON_BLOCK_FN(const QGemmJob& j, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    for (int64_t p = n0; p < n1; p += NR) {
        const int ncols = int(std::min<int64_t>(NR, n1 - p));
        for (int64_t m = m0; m < m1; m += MR) tile(j, m, int(std::min<int64_t>(MR, m1 - m)), p, ncols);
    }
}

}  // namespace edgecnn::qgemm_detail
