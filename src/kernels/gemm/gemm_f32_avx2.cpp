// AVX2+FMA instantiation of the FP32 GEMM (gemm_f32_kernel.inl): 6 x 16 register tiles,
// vmaskmov loads/stores for the column tail. Compiled with AVX2/FMA flags (see CMakeLists).
#include <immintrin.h>

#include "kernels/gemm/gemm_f32_kernel.inl"

namespace edgecnn::gemm_detail {
namespace {

struct VecAvx2 {
    using V = __m256;
    using Mask = __m256i;
    static constexpr int W = 8;
    static V zero() { return _mm256_setzero_ps(); }
    static V set1(float x) { return _mm256_set1_ps(x); }
    static V load(const float* p) { return _mm256_loadu_ps(p); }
    static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
    // Lanes [0, n) set: their sign bits select them for vmaskmov.
    static Mask mask(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
    static V load(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
    static void store(float* p, V v, Mask m) { _mm256_maskstore_ps(p, m, v); }
    static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
    static V add(V a, V b) { return _mm256_add_ps(a, b); }
    static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
    static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
    static V div(V a, V b) { return _mm256_div_ps(a, b); }
    static V min(V a, V b) { return _mm256_min_ps(a, b); }
    static V max(V a, V b) { return _mm256_max_ps(a, b); }
    static V abs(V a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.f), a); }
    static V copysign(V mag, V sign) {
        const V s = _mm256_set1_ps(-0.f);
        return _mm256_or_ps(_mm256_andnot_ps(s, mag), _mm256_and_ps(s, sign));
    }
    static V round(V a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    static V pow2i(V n) {
        const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
        return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
    }
};

}  // namespace

void gemm_block_f32_avx2(const GemmJob& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    gemm_block<VecAvx2, kMrAvx2, kNrAvx2 / VecAvx2::W>(job, m0, m1, n0, n1);
}

}  // namespace edgecnn::gemm_detail
