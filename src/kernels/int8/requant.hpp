// The INT8 arithmetic every int8 kernel of the engine promises, defined once.
//
// Scheme (see docs/INT8.md): activations are uint8 per tensor with a zero point
// (real = scale * (q - zero)); weights are int8, symmetric (zero point 0), one scale per
// output channel, values in [-127, 127]; biases are int32 with scale x_scale * w_scale[c];
// accumulation is exact in int32. An output is requantized from its int32 accumulator by
//
//     f = float(acc) * mult[c]                 (mult = x_scale * w_scale[c] / y_scale, float32;
//                                                float(acc) rounds to nearest even, as cvtdq2ps)
//     f = min(max(f, -kRequantLimit), kRequantLimit)
//     q = round_half_to_even(f) + y_zero       (as cvtps2dq under the default MXCSR; in
//                                                scalar code (f + 1.5*2^23) - 1.5*2^23)
//     q = min(max(q, lo), hi)                  (lo/hi: 0..255 narrowed by a fused Relu/Clip)
//
// Every step is one IEEE float32 operation or exact integer arithmetic, so the scalar
// reference and the SIMD kernels give bit-identical results. It is also what ONNX's
// QuantizeLinear does to the float result (round half to even, saturate), so an int8 plan
// differs from the op-by-op QDQ interpretation only where float accumulation rounds.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace edgecnn {

// Far outside any representable result (|q| <= 255 + 255) yet exactly convertible to
// int32: clamping there first keeps the float→int conversion in range.
inline constexpr float kRequantLimit = 65536.f;

// Round half to even for |f| <= 2^22: adding 1.5 * 2^23 moves f where float32's spacing
// is 1, so the addition itself rounds (ties to even, the default mode); subtracting gives
// the integer back exactly. Two plain adds that the compiler vectorizes, unlike nearbyint
// (a libm call without SSE4.1). Needs ISO floating-point semantics (no -ffast-math).
inline float round_half_even(float f) {
    const float magic = 12582912.f;
    return (f + magic) - magic;
}

inline uint8_t requantize_u8(int32_t acc, float mult, int32_t zero, int32_t lo, int32_t hi) {
    float f = float(acc) * mult;
    f = std::min(std::max(f, -kRequantLimit), kRequantLimit);
    int32_t q = int32_t(round_half_even(f)) + zero;
    return uint8_t(std::min(std::max(q, lo), hi));
}

// Int8 Add's arithmetic: f = a_mult * (qa - a_zero) + b_mult * (qb - b_zero) in float32
// (two products, then one sum; mult = input scale / output scale), then as requantize_u8.
inline uint8_t qadd_u8(int32_t qa, float a_mult, int32_t a_zero, int32_t qb, float b_mult, int32_t b_zero, int32_t zero,
                       int32_t lo, int32_t hi) {
    const float fa = float(qa - a_zero) * a_mult;
    const float fb = float(qb - b_zero) * b_mult;
    float f = fa + fb;
    f = std::min(std::max(f, -kRequantLimit), kRequantLimit);
    int32_t q = int32_t(round_half_even(f)) + zero;
    return uint8_t(std::min(std::max(q, lo), hi));
}

// Float → uint8 with a per-tensor scale and zero point, as ONNX QuantizeLinear:
// round(x / scale) half to even, plus zero, saturated to [0, 255]. NaN maps to the zero point.
inline uint8_t quantize_u8(float x, float scale, int32_t zero) {
    float f = x / scale;
    if (!(f == f)) f = 0.f;
    f = std::min(std::max(f, -kRequantLimit), kRequantLimit);
    int32_t q = int32_t(round_half_even(f)) + zero;
    return uint8_t(std::min(std::max(q, 0), 255));
}

}  // namespace edgecnn
