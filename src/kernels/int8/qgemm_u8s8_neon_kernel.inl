// The ARM64 int8 GEMM micro-kernel, shared by the dot-product level (sdot, in
// qgemm_u8s8_neondot.cpp) and the i8mm level (sudot, in qgemm_u8s8_neoni8mm.cpp); each
// file defines kUnsignedDot and includes this after <arm_neon.h>.
//
// B is the portable kernel's layout: panels of 8 columns, K in groups of 4 bytes
// ([panel][k/4][col][k%4]), so one 16-byte load is 4 columns x 4 k, exactly what the
// by-element dot product takes: `sdot acc.4s, b.16b, a.4b[l]` adds, for each of the 4
// columns, the 4-byte dot product with group l of an A register. Tile 8 rows x 8 columns:
// 16 accumulators, 8 A registers (16 bytes = 4 k groups of one row each) and 2 B
// registers per group, 26 of the 32 vector registers.
//
// u8 activations: sudot (FEAT_I8MM) multiplies signed B bytes by unsigned A bytes as they
// are. sdot is signed x signed, so that path flips A's top bit (a ^ 0x80 = a - 128 as int8)
// and adds 128 * colsum[n] back in the epilogue: sum (a - 128) * b + 128 * sum b = sum a * b,
// exact in int32 like every other kernel.
#include <algorithm>
#include <cstring>

#include "kernels/int8/qgemm_u8s8_internal.hpp"
#include "kernels/int8/requant.hpp"

namespace edgecnn::qgemm_detail {
namespace {

constexpr int MR = kMrNeon, NR = kNrNeon;
static_assert(NR == 8, "two 4-column B registers per k group");

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
    for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = vdupq_n_s32(0);
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

    // Epilogue: per-column constant = bias - a_zero * colsum (+ 128 * colsum for sdot).
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
