// AVX-512 instantiation of the FP32 GEMM (gemm_f32_kernel.inl): 14 x 32 register tiles,
// k-masked loads/stores for the column tail. Compiled with AVX-512 flags (see CMakeLists).
// GCC 12 reports its own _mm512_undefined_ps() placeholders as maybe-uninitialized once
// the intrinsics are inlined (GCC bug 105593); the warning says nothing about this code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include "kernels/gemm/gemm_f32_kernel.inl"

namespace edgecnn::gemm_detail {
namespace {

struct VecAvx512 {
    using V = __m512;
    using Mask = __mmask16;
    static constexpr int W = 16;
    static V zero() { return _mm512_setzero_ps(); }
    static V set1(float x) { return _mm512_set1_ps(x); }
    static V load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
    static Mask mask(int n) { return Mask((1u << n) - 1u); }
    static V load(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
    static void store(float* p, V v, Mask m) { _mm512_mask_storeu_ps(p, m, v); }
    static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
    static V add(V a, V b) { return _mm512_add_ps(a, b); }
    static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
    static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
    static V div(V a, V b) { return _mm512_div_ps(a, b); }
    static V min(V a, V b) { return _mm512_min_ps(a, b); }
    static V max(V a, V b) { return _mm512_max_ps(a, b); }
    static V abs(V a) { return _mm512_abs_ps(a); }
    static V copysign(V mag, V sign) {
        const __m512i s = _mm512_and_si512(_mm512_castps_si512(sign), _mm512_set1_epi32(int(0x80000000u)));
        return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(_mm512_abs_ps(mag)), s));
    }
    static V round(V a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    static V pow2i(V n) {
        const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
        return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
    }
};

}  // namespace

void gemm_block_f32_avx512(const GemmJob& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    gemm_block<VecAvx512, kMrAvx512, kNrAvx512 / VecAvx512::W>(job, m0, m1, n0, n1);
}

}  // namespace edgecnn::gemm_detail
