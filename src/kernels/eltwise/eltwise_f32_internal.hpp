// Between the elementwise driver (eltwise_f32.cpp) and its per-ISA kernels.
#pragma once
#include <cstdint>

#include "kernels/eltwise/eltwise_f32.hpp"

namespace edgecnn::eltwise_detail {

struct BinaryJob {
    BinaryOp op;
    int64_t mid, inner;
    EltOperand a, b;
    float* y;
    ActivationParams act;
};

// Output elements [e0, e1) in flat row-major order over [outer, mid, inner].
void binary_avx512(const BinaryJob& j, int64_t e0, int64_t e1);
void binary_avx2(const BinaryJob& j, int64_t e0, int64_t e1);

void unary_avx512(const float* x, float* y, int64_t n, const ActivationParams& act);
void unary_avx2(const float* x, float* y, int64_t n, const ActivationParams& act);
void binary_neon(const BinaryJob& j, int64_t e0, int64_t e1);
void unary_neon(const float* x, float* y, int64_t n, const ActivationParams& act);

// y[c*ldy + r] = x[r*ldx + c] for r in [r0, r1), c in [c0, c1) (AVX2, used at both levels).
void transpose_avx2(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t r0, int64_t r1, int64_t c0,
                    int64_t c1);
// The same with 4x4 NEON blocks.
void transpose_neon(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t r0, int64_t r1, int64_t c0,
                    int64_t c1);

}  // namespace edgecnn::eltwise_detail
