// Scalar reference matrix multiplication (float32, row-major): the ground truth that
// the packed, register-blocked GEMM kernels are tested against. No graph knowledge.
#pragma once
#include <cstdint>

namespace edgecnn {

// C = alpha * op(A) * op(B) + beta * C, where op(A) is m x k and op(B) is k x n.
// op(A) = A (m rows of lda floats) or, with trans_a, A^T (A is k rows of lda floats);
// likewise for B with ldb. C is m rows of ldc floats. With beta == 0, C is not read
// (it may hold garbage or NaN), matching BLAS.
void gemm_f32_ref(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace edgecnn
