// Scalar INT8 reference kernels (NHWC): the definition the fast int8 kernels are tested
// against bit for bit. Arithmetic: kernels/int8/requant.hpp. Padding reads as the input's
// zero point (real 0), so it contributes nothing.
#pragma once
#include <cstdint>

namespace edgecnn {

// Output requantization of one int8 layer: per-output-channel float multipliers
// (x_scale * w_scale[c] / y_scale), the output zero point and the clamp [lo, hi] that a
// fused Relu/Clip narrows (0..255 without one).
struct QRequant {
    const float* mult = nullptr;  // [channels]
    int32_t zero = 0;
    int32_t lo = 0, hi = 255;
};

struct QConvShape {
    int64_t n = 1, h = 1, w = 1, c = 1;  // input NHWC
    int64_t out_c = 1, kh = 1, kw = 1, group = 1;
    int64_t stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
    int64_t pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;
    int64_t out_h() const { return (h + pad_t + pad_b - dil_h * (kh - 1) - 1) / stride_h + 1; }
    int64_t out_w() const { return (w + pad_l + pad_r - dil_w * (kw - 1) - 1) / stride_w + 1; }
};

// y[N,OH,OW,OC] = requant(sum over taps and channels of (x - x_zero) * w + bias).
// w: [OC, C/group, kh, kw] int8 (ONNX layout); bias: [OC] int32 or null.
void qconv_nhwc_ref(const QConvShape& s, const uint8_t* x, int32_t x_zero, const int8_t* w, const int32_t* bias,
                    const QRequant& rq, uint8_t* y);

// C[M,N] = requant(sum_k (A[m,k] - a_zero) * B[k,n] + bias[n]); A row-major (lda),
// B [K,N] row-major (ldb), C row stride ldc.
void qgemm_u8s8_ref(int64_t M, int64_t N, int64_t K, const uint8_t* A, int64_t lda, int32_t a_zero, const int8_t* B,
                    int64_t ldb, const int32_t* bias, const QRequant& rq, uint8_t* C, int64_t ldc);

// Max pooling of uint8 NHWC data (exact: max commutes with the monotonic dequantization,
// so input and output share scale and zero point). Padding never wins.
void qmaxpool_nhwc_ref(int64_t n, int64_t h, int64_t w, int64_t c, int64_t kh, int64_t kw, int64_t stride_h,
                       int64_t stride_w, int64_t pad_t, int64_t pad_l, int64_t out_h, int64_t out_w, const uint8_t* x,
                       uint8_t* y);

// Average pooling of uint8 NHWC data: per window, sum = Σ (q - x_zero) over the taps inside
// the image (exact int32), count = those taps (or kh*kw with count_include_pad: padding
// reads as the zero point, adding 0), then f = float(sum) / float(count) * mult (two
// float32 operations; mult = x_scale / y_scale), rounded half to even, plus y_zero,
// clamped to 0..255. Global average pooling is the case kh = h, kw = w.
void qavgpool_nhwc_ref(int64_t n, int64_t h, int64_t w, int64_t c, int64_t kh, int64_t kw, int64_t stride_h,
                       int64_t stride_w, int64_t pad_t, int64_t pad_l, int64_t pad_b, int64_t pad_r, int64_t out_h,
                       int64_t out_w, bool count_include_pad, const uint8_t* x, int32_t x_zero, float mult, int32_t y_zero, uint8_t* y);

// y = requant of a*(qa - za) + b*(qb - zb): int8 Add with two input scales, computed as
// f = sa/sy * (qa - za) + sb/sy * (qb - zb) in float32 (two products, one sum, in that
// order), then rounded half to even, plus y_zero, clamped to [lo, hi].
void qadd_ref(int64_t count, const uint8_t* a, float a_mult, int32_t a_zero, const uint8_t* b, float b_mult,
              int32_t b_zero, int32_t y_zero, int32_t lo, int32_t hi, uint8_t* y);

}  // namespace edgecnn
