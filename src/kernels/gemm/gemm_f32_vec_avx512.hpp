// The AVX-512 vector traits of the FP32 GEMM template (gemm_f32_kernel.inl), shared by the
// FP32 kernel (gemm_f32_avx512.cpp) and the BF16 one, whose FP32 epilogue is the same
// (gemm_bf16_avx512bf16.cpp). Include only from files compiled with AVX-512 flags.
#pragma once
#include <immintrin.h>

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
}  // namespace edgecnn::gemm_detail
