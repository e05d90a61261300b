// ARM64 NEON instantiation of the FP32 GEMM (gemm_f32_kernel.inl): 6 x 16 register tiles.
// Blocking for NEON's 32 q registers: 6 rows x 4 vectors of 4 columns = 24 accumulators
// plus the 4 B vectors of the current k; each k step issues 24 independent FMAs (enough
// to cover a 4-cycle FMA latency on two pipes) for 2 ldp of B and 6 scalar A loads, which
// GCC turns into by-element FMAs (fmla v.4s, v.4s, v.s[0]). The 6 A scalars take 6 more
// registers (34 > 32), so GCC 12 keeps 22 accumulators in registers and spills 2 (one
// ldr pair + one stp per k step, measured with objdump); 5 x 16 spills more with GCC 12,
// not less. A hand-allocated kernel (A packed k-major, 4 k per q register, by-lane FMAs)
// would remove that: future work, to be measured on a board. The narrow last panel
// (8 columns) is 6 x 2 vectors.
#include <arm_neon.h>

#include "kernels/gemm/gemm_f32_kernel.inl"

namespace edgecnn::gemm_detail {
namespace {

struct VecNeonGemm {
    using V = float32x4_t;
    using Mask = int;  // number of leading lanes (NEON has no masked loads/stores)
    static constexpr int W = 4;
    static V zero() { return vdupq_n_f32(0.f); }
    static V set1(float x) { return vdupq_n_f32(x); }
    static V load(const float* p) { return vld1q_f32(p); }
    static void store(float* p, V v) { vst1q_f32(p, v); }
    static Mask mask(int n) { return n; }
    static V load(const float* p, Mask n) {
        float t[4] = {0.f, 0.f, 0.f, 0.f};
        for (int l = 0; l < n; ++l) t[l] = p[l];
        return vld1q_f32(t);
    }
    static void store(float* p, V v, Mask n) {
        float t[4];
        vst1q_f32(t, v);
        for (int l = 0; l < n; ++l) p[l] = t[l];
    }
    static V fma(V a, V b, V c) { return vfmaq_f32(c, a, b); }
    static V add(V a, V b) { return vaddq_f32(a, b); }
    static V sub(V a, V b) { return vsubq_f32(a, b); }
    static V mul(V a, V b) { return vmulq_f32(a, b); }
    static V div(V a, V b) { return vdivq_f32(a, b); }
    static V min(V a, V b) { return vminq_f32(a, b); }
    static V max(V a, V b) { return vmaxq_f32(a, b); }
    static V abs(V a) { return vabsq_f32(a); }
    static V copysign(V mag, V sign) {
        const uint32x4_t s = vdupq_n_u32(0x80000000u);
        return vbslq_f32(s, sign, mag);
    }
    static V round(V a) { return vrndnq_f32(a); }
    static V pow2i(V n) {
        const int32x4_t e = vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127));
        return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
    }
};

}  // namespace

void gemm_block_f32_neon(const GemmJob& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    gemm_block<VecNeonGemm, kMrNeon, kNrNeon / VecNeonGemm::W>(job, m0, m1, n0, n1);
}

}  // namespace edgecnn::gemm_detail
