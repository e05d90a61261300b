// Internal to the BF16 GEMM: the job the driver (gemm_bf16.cpp) hands to the AVX512-BF16
// block function (gemm_bf16_avx512bf16.cpp). Not for use outside gemm/.
#pragma once
#include <cstdint>

#include "kernels/gemm/gemm_f32.hpp"

namespace edgecnn::gemm_detail {

// Register tile of the BF16 kernel: 14 rows x 32 columns, as the FP32 AVX-512 one.
inline constexpr int kMrBf16 = 14, kNrBf16 = 32;

struct Bf16Job {
    int64_t M = 0, N = 0, K = 0;
    int64_t kp = 0;  // K rounded up to even: the packed rows per column
    const float* A = nullptr;
    int64_t lda = 0;
    const uint16_t* B = nullptr;  // PackedGemmBBf16::data
    float* C = nullptr;
    int64_t ldc = 0;
    GemmEpilogue ep;
    int64_t kc = 0;  // K block (even unless it is the last one), > 0
};

#if defined(__x86_64__) || defined(_M_X64)
// C rows [m0, m1) x columns [n0, n1) over all of K (n0 a multiple of 32).
void gemm_block_bf16_avx512(const Bf16Job& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
#endif

}  // namespace edgecnn::gemm_detail
