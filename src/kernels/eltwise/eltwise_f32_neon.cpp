// ARM64 NEON instantiation of the elementwise kernels (eltwise_f32_kernel.inl), and the
// blocked 4x4 in-register transpose behind the NCHW <-> NHWC conversions.
#include "kernels/eltwise/eltwise_f32_kernel.inl"

namespace edgecnn::eltwise_detail {

void binary_neon(const BinaryJob& j, int64_t e0, int64_t e1) { binary_dispatch<VecNeon>(j, e0, e1); }

void unary_neon(const float* x, float* y, int64_t n, const ActivationParams& act) { unary<VecNeon>(x, y, n, act); }

namespace {

inline void transpose4x4(const float* x, int64_t ldx, float* y, int64_t ldy) {
    const float32x4_t r0 = vld1q_f32(x), r1 = vld1q_f32(x + ldx), r2 = vld1q_f32(x + 2 * ldx),
                      r3 = vld1q_f32(x + 3 * ldx);
    // Pairs of rows interleaved (trn1/trn2), then the 64-bit halves exchanged.
    const float32x4_t t0 = vtrn1q_f32(r0, r1), t1 = vtrn2q_f32(r0, r1);
    const float32x4_t t2 = vtrn1q_f32(r2, r3), t3 = vtrn2q_f32(r2, r3);
    const float64x2_t d0 = vreinterpretq_f64_f32(t0), d1 = vreinterpretq_f64_f32(t1);
    const float64x2_t d2 = vreinterpretq_f64_f32(t2), d3 = vreinterpretq_f64_f32(t3);
    vst1q_f32(y, vreinterpretq_f32_f64(vtrn1q_f64(d0, d2)));
    vst1q_f32(y + ldy, vreinterpretq_f32_f64(vtrn1q_f64(d1, d3)));
    vst1q_f32(y + 2 * ldy, vreinterpretq_f32_f64(vtrn2q_f64(d0, d2)));
    vst1q_f32(y + 3 * ldy, vreinterpretq_f32_f64(vtrn2q_f64(d1, d3)));
}

}  // namespace

void transpose_neon(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t r0, int64_t r1, int64_t c0,
                    int64_t c1) {
    const int64_t rfull = r0 + (r1 - r0) / 4 * 4, cfull = c0 + (c1 - c0) / 4 * 4;
    // Column blocks outer: the 4 output rows of a block are written contiguously.
    for (int64_t c = c0; c < cfull; c += 4) {
        for (int64_t r = r0; r < rfull; r += 4) transpose4x4(x + r * ldx + c, ldx, y + c * ldy + r, ldy);
        for (int64_t cc = c; cc < c + 4; ++cc)
            for (int64_t r = rfull; r < r1; ++r) y[cc * ldy + r] = x[r * ldx + cc];
    }
    for (int64_t c = cfull; c < c1; ++c)
        for (int64_t r = r0; r < r1; ++r) y[c * ldy + r] = x[r * ldx + c];
}

}  // namespace edgecnn::eltwise_detail
