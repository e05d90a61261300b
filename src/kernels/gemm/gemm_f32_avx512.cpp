// AVX-512 instantiation of the FP32 GEMM (gemm_f32_kernel.inl): 14 x 32 register tiles,
// k-masked loads/stores for the column tail. Compiled with AVX-512 flags (see CMakeLists).
// GCC 12 reports its own _mm512_undefined_ps() placeholders as maybe-uninitialized once
// the intrinsics are inlined (GCC bug 105593); the warning says nothing about this code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include "kernels/gemm/gemm_f32_kernel.inl"
#include "kernels/gemm/gemm_f32_vec_avx512.hpp"

namespace edgecnn::gemm_detail {

void gemm_block_f32_avx512(const GemmJob& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    gemm_block<VecAvx512, kMrAvx512, kNrAvx512 / VecAvx512::W>(job, m0, m1, n0, n1);
}

}  // namespace edgecnn::gemm_detail
