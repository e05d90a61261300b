// Float32 SIMD building blocks for the vector kernels: one traits struct per ISA (AVX2 ymm,
// AVX-512 zmm, ARM64 NEON q registers) with the same static interface, and ISA-neutral
// math written once over those traits (exp, sigmoid, tanh, every fused Activation).
//
// Include ONLY from files named *_avx2.cpp / *_avx512.cpp / *_neon.cpp (they are compiled
// with the matching flags; NEON is part of the ARMv8-A baseline, so no flags there). Everything here has internal linkage on purpose: an inline function
// compiled with AVX-512 flags in one file and AVX2 flags in another must never be merged
// by the linker (an ODR "pick one" could hand AVX-512 code to an AVX2-only CPU). For the
// same reason avoid std:: inline helpers (std::min, std::exp, containers) in those files.
#pragma once
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

#include <cstdint>

#include "kernels/activation.hpp"

namespace edgecnn {
namespace {  // NOLINT: internal linkage per ISA translation unit (see above)

#if defined(__AVX512F__)
struct VecAvx512 {
    using V = __m512;
    using M = __mmask16;  // lane mask for channel tails
    static constexpr int kN = 16;

    static inline V load(const float* p) { return _mm512_loadu_ps(p); }
    static inline void store(float* p, V v) { _mm512_storeu_ps(p, v); }
    // Lanes [0, n) for n in [0, kN].
    static inline M mask(int64_t n) { return static_cast<M>((1u << static_cast<unsigned>(n)) - 1u); }
    static inline V load(const float* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
    static inline void store(float* p, V v, M m) { _mm512_mask_storeu_ps(p, m, v); }

    static inline V set1(float a) { return _mm512_set1_ps(a); }
    static inline V zero() { return _mm512_setzero_ps(); }
    static inline V add(V a, V b) { return _mm512_add_ps(a, b); }
    static inline V sub(V a, V b) { return _mm512_sub_ps(a, b); }
    static inline V mul(V a, V b) { return _mm512_mul_ps(a, b); }
    static inline V div(V a, V b) { return _mm512_div_ps(a, b); }
    // Here and below: the masked forms with an all-ones mask compile to the plain
    // instruction; the unmasked intrinsics trip g++ 12's -Wmaybe-uninitialized (their
    // _mm512_undefined_ps pass-through source).
    static inline V max(V a, V b) { return _mm512_mask_max_ps(a, static_cast<M>(0xFFFF), a, b); }
    static inline V min(V a, V b) { return _mm512_mask_min_ps(a, static_cast<M>(0xFFFF), a, b); }
    static inline V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }   // a*b + c
    static inline V fnmadd(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); } // c - a*b
    static inline V abs(V a) { return _mm512_abs_ps(a); }
    // a < b ? x : y (ordered compare: NaN picks y)
    static inline V select_lt(V a, V b, V x, V y) {
        return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), y, x);
    }
    // a >= b ? x : y (NaN picks y)
    static inline V select_ge(V a, V b, V x, V y) {
        return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_GE_OQ), y, x);
    }
    static inline V round_nearest(V a) {
        return _mm512_mask_roundscale_ps(a, static_cast<M>(0xFFFF), a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    }
    // p * 2^n for integral-valued n (scalef handles overflow to inf and gradual underflow).
    static inline V ldexp(V p, V n) { return _mm512_mask_scalef_ps(p, static_cast<M>(0xFFFF), p, n); }
};
#endif

#if defined(__AVX2__) && defined(__FMA__)
struct VecAvx2 {
    using V = __m256;
    using M = __m256i;
    static constexpr int kN = 8;

    static inline V load(const float* p) { return _mm256_loadu_ps(p); }
    static inline void store(float* p, V v) { _mm256_storeu_ps(p, v); }
    static inline M mask(int64_t n) {
        alignas(32) static const int32_t table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
        return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(table + 8 - n));
    }
    static inline V load(const float* p, M m) { return _mm256_maskload_ps(p, m); }
    static inline void store(float* p, V v, M m) { _mm256_maskstore_ps(p, m, v); }

    static inline V set1(float a) { return _mm256_set1_ps(a); }
    static inline V zero() { return _mm256_setzero_ps(); }
    static inline V add(V a, V b) { return _mm256_add_ps(a, b); }
    static inline V sub(V a, V b) { return _mm256_sub_ps(a, b); }
    static inline V mul(V a, V b) { return _mm256_mul_ps(a, b); }
    static inline V div(V a, V b) { return _mm256_div_ps(a, b); }
    static inline V max(V a, V b) { return _mm256_max_ps(a, b); }
    static inline V min(V a, V b) { return _mm256_min_ps(a, b); }
    static inline V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
    static inline V fnmadd(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
    static inline V abs(V a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.f), a); }
    static inline V select_lt(V a, V b, V x, V y) { return _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_LT_OQ)); }
    static inline V select_ge(V a, V b, V x, V y) { return _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_GE_OQ)); }
    static inline V round_nearest(V a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    // p * 2^n for integral n in [-150, 128]: two exact power-of-two factors, each a normal
    // float, so the result overflows/underflows only as the true product does.
    static inline V ldexp(V p, V n) {
        const __m256i ni = _mm256_cvtps_epi32(n);
        const __m256i h = _mm256_srai_epi32(ni, 1);
        const __m256i l = _mm256_sub_epi32(ni, h);
        const __m256i bias = _mm256_set1_epi32(127);
        const V fh = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, bias), 23));
        const V fl = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(l, bias), 23));
        return _mm256_mul_ps(_mm256_mul_ps(p, fh), fl);
    }
};
#endif

#if defined(__aarch64__)
// ARMv8.0 Advanced SIMD: 4 floats per q register, 32 of them. No masked loads or stores,
// so M is the lane count and the channel tail goes through a small stack buffer (tails
// are rare: one per row at most).
struct VecNeon {
    using V = float32x4_t;
    struct M {
        int n = 0;
    };
    static constexpr int kN = 4;

    static inline V load(const float* p) { return vld1q_f32(p); }
    static inline void store(float* p, V v) { vst1q_f32(p, v); }
    static inline M mask(int64_t n) { return M{static_cast<int>(n)}; }
    static inline V load(const float* p, M m) {
        float t[4] = {0.f, 0.f, 0.f, 0.f};
        for (int l = 0; l < m.n; ++l) t[l] = p[l];
        return vld1q_f32(t);
    }
    static inline void store(float* p, V v, M m) {
        float t[4];
        vst1q_f32(t, v);
        for (int l = 0; l < m.n; ++l) p[l] = t[l];
    }

    static inline V set1(float a) { return vdupq_n_f32(a); }
    static inline V zero() { return vdupq_n_f32(0.f); }
    static inline V add(V a, V b) { return vaddq_f32(a, b); }
    static inline V sub(V a, V b) { return vsubq_f32(a, b); }
    static inline V mul(V a, V b) { return vmulq_f32(a, b); }
    static inline V div(V a, V b) { return vdivq_f32(a, b); }
    static inline V max(V a, V b) { return vmaxq_f32(a, b); }
    static inline V min(V a, V b) { return vminq_f32(a, b); }
    static inline V fmadd(V a, V b, V c) { return vfmaq_f32(c, a, b); }   // a*b + c
    static inline V fnmadd(V a, V b, V c) { return vfmsq_f32(c, a, b); }  // c - a*b
    static inline V abs(V a) { return vabsq_f32(a); }
    // Ordered compares: NaN picks y, as on x86.
    static inline V select_lt(V a, V b, V x, V y) { return vbslq_f32(vcltq_f32(a, b), x, y); }
    static inline V select_ge(V a, V b, V x, V y) { return vbslq_f32(vcgeq_f32(a, b), x, y); }
    static inline V round_nearest(V a) { return vrndnq_f32(a); }
    // p * 2^n for integral n in [-150, 128], as two normal power-of-two factors (see VecAvx2).
    static inline V ldexp(V p, V n) {
        const int32x4_t ni = vcvtnq_s32_f32(n);
        const int32x4_t h = vshrq_n_s32(ni, 1);
        const int32x4_t l = vsubq_s32(ni, h);
        const int32x4_t bias = vdupq_n_s32(127);
        const V fh = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(h, bias), 23));
        const V fl = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(l, bias), 23));
        return vmulq_f32(vmulq_f32(p, fh), fl);
    }
};
#endif

// ---- ISA-neutral math over a traits struct T ----

// exp(x), within ~2 ulp of std::exp for normal results (Cody-Waite reduction by ln 2 and
// a degree-7 polynomial on [-ln2/2, ln2/2]); +inf above ~88.8, 0 below ~-104.
template <class T>
inline typename T::V vexp(typename T::V x) {
    using V = typename T::V;
    x = T::min(T::max(x, T::set1(-104.f)), T::set1(88.8f));
    const V n = T::round_nearest(T::mul(x, T::set1(1.44269504088896341f)));
    V r = T::fnmadd(n, T::set1(0.693359375f), x);
    r = T::fnmadd(n, T::set1(-2.12194440e-4f), r);
    V p = T::set1(1.9875691500e-4f);
    p = T::fmadd(p, r, T::set1(1.3981999507e-3f));
    p = T::fmadd(p, r, T::set1(8.3334519073e-3f));
    p = T::fmadd(p, r, T::set1(4.1665795894e-2f));
    p = T::fmadd(p, r, T::set1(1.6666665459e-1f));
    p = T::fmadd(p, r, T::set1(5.0000001201e-1f));
    p = T::fmadd(p, T::mul(r, r), T::add(r, T::set1(1.f)));
    return T::ldexp(p, n);
}

template <class T>
inline typename T::V vsigmoid(typename T::V x) {
    const auto one = T::set1(1.f);
    return T::div(one, T::add(one, vexp<T>(T::sub(T::zero(), x))));
}

template <class T>
inline typename T::V vsilu(typename T::V x) {
    return T::div(x, T::add(T::set1(1.f), vexp<T>(T::sub(T::zero(), x))));
}

// tanh: odd polynomial near 0 (where 1 - 2/(e^2x + 1) would cancel), the exp form elsewhere.
template <class T>
inline typename T::V vtanh(typename T::V x) {
    using V = typename T::V;
    const V ax = T::abs(x);
    const V one = T::set1(1.f);
    const V big = T::sub(one, T::div(T::set1(2.f), T::add(vexp<T>(T::add(ax, ax)), one)));
    const V z = T::mul(x, x);
    V p = T::set1(-5.70498872745e-3f);
    p = T::fmadd(p, z, T::set1(2.06390887954e-2f));
    p = T::fmadd(p, z, T::set1(-5.37397155531e-2f));
    p = T::fmadd(p, z, T::set1(1.33314422036e-1f));
    p = T::fmadd(p, z, T::set1(-3.33332819422e-1f));
    const V small = T::fmadd(T::mul(p, z), x, x);
    const V signed_big = T::select_lt(x, T::zero(), T::sub(T::zero(), big), big);
    return T::select_lt(ax, T::set1(0.625f), small, signed_big);
}

// Activation parameters broadcast once into registers.
template <class T>
struct VAct {
    using V = typename T::V;
    Activation kind = Activation::None;
    V alpha, beta;
    // Relu/Clip/None collapse to a clamp [lo, hi] (±inf bounds for None).
    V lo, hi;
    explicit VAct(const ActivationParams& a) : kind(a.kind) {
        alpha = T::set1(a.alpha);
        beta = T::set1(a.beta);
        float l = -__builtin_inff(), h = __builtin_inff();
        if (a.kind == Activation::Relu) l = 0.f;
        if (a.kind == Activation::Clip) l = a.alpha, h = a.beta;
        lo = T::set1(l);
        hi = T::set1(h);
    }
    // True when the activation is just min/max with lo/hi (no per-kind switch needed).
    bool is_clamp() const {
        return kind == Activation::None || kind == Activation::Relu || kind == Activation::Clip;
    }
};

template <class T, Activation K>
inline typename T::V vactivate_fixed(typename T::V x, const VAct<T>& a) {
    using V = typename T::V;
    if constexpr (K == Activation::None) {
        return x;
    } else if constexpr (K == Activation::Relu) {
        return T::max(x, T::zero());
    } else if constexpr (K == Activation::Clip) {
        return T::min(T::max(x, a.lo), a.hi);
    } else if constexpr (K == Activation::HardSigmoid) {
        return T::min(T::max(T::fmadd(a.alpha, x, a.beta), T::zero()), T::set1(1.f));
    } else if constexpr (K == Activation::HardSwish) {
        const V g = T::min(T::max(T::fmadd(x, T::set1(1.f / 6.f), T::set1(0.5f)), T::zero()), T::set1(1.f));
        return T::mul(x, g);
    } else if constexpr (K == Activation::Sigmoid) {
        return vsigmoid<T>(x);
    } else if constexpr (K == Activation::Silu) {
        return vsilu<T>(x);
    } else if constexpr (K == Activation::LeakyRelu) {
        return T::select_ge(x, T::zero(), x, T::mul(x, a.alpha));
    } else {
        static_assert(K == Activation::Tanh);
        return vtanh<T>(x);
    }
}

// Any activation, chosen at run time (a well-predicted switch per vector).
template <class T>
inline typename T::V vactivate(typename T::V x, const VAct<T>& a) {
    switch (a.kind) {
        case Activation::None: return x;
        case Activation::Relu: return vactivate_fixed<T, Activation::Relu>(x, a);
        case Activation::Clip: return vactivate_fixed<T, Activation::Clip>(x, a);
        case Activation::HardSigmoid: return vactivate_fixed<T, Activation::HardSigmoid>(x, a);
        case Activation::HardSwish: return vactivate_fixed<T, Activation::HardSwish>(x, a);
        case Activation::Sigmoid: return vactivate_fixed<T, Activation::Sigmoid>(x, a);
        case Activation::Silu: return vactivate_fixed<T, Activation::Silu>(x, a);
        case Activation::LeakyRelu: return vactivate_fixed<T, Activation::LeakyRelu>(x, a);
        case Activation::Tanh: return vactivate_fixed<T, Activation::Tanh>(x, a);
    }
    return x;
}

// Calls f(std::integral_constant-like tag) with the activation kind as a compile-time value.
template <Activation K>
struct ActTag {
    static constexpr Activation kind = K;
};
template <class F>
inline void dispatch_activation(Activation k, F&& f) {
    switch (k) {
        case Activation::None: f(ActTag<Activation::None>{}); return;
        case Activation::Relu: f(ActTag<Activation::Relu>{}); return;
        case Activation::Clip: f(ActTag<Activation::Clip>{}); return;
        case Activation::HardSigmoid: f(ActTag<Activation::HardSigmoid>{}); return;
        case Activation::HardSwish: f(ActTag<Activation::HardSwish>{}); return;
        case Activation::Sigmoid: f(ActTag<Activation::Sigmoid>{}); return;
        case Activation::Silu: f(ActTag<Activation::Silu>{}); return;
        case Activation::LeakyRelu: f(ActTag<Activation::LeakyRelu>{}); return;
        case Activation::Tanh: f(ActTag<Activation::Tanh>{}); return;
    }
}

}  // namespace
}  // namespace edgecnn
