#include "kernels/reference/gemm_ref.hpp"

#include <algorithm>
#include <vector>

namespace edgecnn {

void gemm_f32_ref(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
    auto a_at = [&](int64_t i, int64_t p) { return trans_a ? a[p * lda + i] : a[i * lda + p]; };
    auto scale_row = [&](float* c_row) {
        if (beta == 0.f) std::fill(c_row, c_row + n, 0.f);
        else if (beta != 1.f)
            for (int64_t j = 0; j < n; ++j) c_row[j] *= beta;
    };
    // Few columns (matrix-vector) or a single row against a transposed B: an i-k-j
    // loop would run over rows of length n, so compute each output as a dot product.
    if (n < 8 || (trans_b && m == 1)) {
        for (int64_t i = 0; i < m; ++i) {
            float* c_row = c + i * ldc;
            scale_row(c_row);
            for (int64_t j = 0; j < n; ++j) {
                float acc = 0.f;
                for (int64_t p = 0; p < k; ++p) acc += a_at(i, p) * (trans_b ? b[j * ldb + p] : b[p * ldb + j]);
                c_row[j] += alpha * acc;
            }
        }
        return;
    }
    // The i-k-j order below wants rows of op(B) contiguous; a transposed B (the usual
    // Linear-layer weight) is copied once into that layout instead of read with stride.
    std::vector<float> b_copy;
    if (trans_b) {
        b_copy.resize(size_t(k * n));
        for (int64_t j = 0; j < n; ++j)
            for (int64_t p = 0; p < k; ++p) b_copy[size_t(p * n + j)] = b[j * ldb + p];
        b = b_copy.data();
        ldb = n;
    }
    for (int64_t i = 0; i < m; ++i) {
        float* __restrict c_row = c + i * ldc;
        scale_row(c_row);
        for (int64_t p = 0; p < k; ++p) {
            const float av = alpha * a_at(i, p);
            const float* __restrict b_row = b + p * ldb;
            for (int64_t j = 0; j < n; ++j) c_row[j] += av * b_row[j];
        }
    }
}

}  // namespace edgecnn
