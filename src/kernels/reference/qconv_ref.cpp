#include "kernels/reference/qconv_ref.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/int8/requant.hpp"

namespace edgecnn {

void qconv_nhwc_ref(const QConvShape& s, const uint8_t* x, int32_t x_zero, const int8_t* w, const int32_t* bias,
                    const QRequant& rq, uint8_t* y) {
    const int64_t oh = s.out_h(), ow = s.out_w();
    const int64_t cg = s.c / s.group, og = s.out_c / s.group;
    for (int64_t b = 0; b < s.n; ++b)
        for (int64_t oy = 0; oy < oh; ++oy)
            for (int64_t ox = 0; ox < ow; ++ox)
                for (int64_t o = 0; o < s.out_c; ++o) {
                    const int64_t g = o / og;
                    int32_t acc = bias ? bias[o] : 0;
                    for (int64_t ky = 0; ky < s.kh; ++ky) {
                        int64_t iy = oy * s.stride_h - s.pad_t + ky * s.dil_h;
                        if (iy < 0 || iy >= s.h) continue;
                        for (int64_t kx = 0; kx < s.kw; ++kx) {
                            int64_t ix = ox * s.stride_w - s.pad_l + kx * s.dil_w;
                            if (ix < 0 || ix >= s.w) continue;
                            const uint8_t* px = x + ((b * s.h + iy) * s.w + ix) * s.c + g * cg;
                            for (int64_t c = 0; c < cg; ++c)
                                acc += (int32_t(px[c]) - x_zero) *
                                       int32_t(w[((o * cg + c) * s.kh + ky) * s.kw + kx]);
                        }
                    }
                    y[((b * oh + oy) * ow + ox) * s.out_c + o] = requantize_u8(acc, rq.mult[o], rq.zero, rq.lo, rq.hi);
                }
}

void qgemm_u8s8_ref(int64_t M, int64_t N, int64_t K, const uint8_t* A, int64_t lda, int32_t a_zero, const int8_t* B,
                    int64_t ldb, const int32_t* bias, const QRequant& rq, uint8_t* C, int64_t ldc) {
    for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
            int32_t acc = bias ? bias[n] : 0;
            for (int64_t k = 0; k < K; ++k) acc += (int32_t(A[m * lda + k]) - a_zero) * int32_t(B[k * ldb + n]);
            C[m * ldc + n] = requantize_u8(acc, rq.mult[n], rq.zero, rq.lo, rq.hi);
        }
}

void qmaxpool_nhwc_ref(int64_t n, int64_t h, int64_t w, int64_t c, int64_t kh, int64_t kw, int64_t stride_h,
                       int64_t stride_w, int64_t pad_t, int64_t pad_l, int64_t out_h, int64_t out_w, const uint8_t* x,
                       uint8_t* y) {
    for (int64_t b = 0; b < n; ++b)
        for (int64_t oy = 0; oy < out_h; ++oy)
            for (int64_t ox = 0; ox < out_w; ++ox) {
                uint8_t* py = y + ((b * out_h + oy) * out_w + ox) * c;
                std::fill(py, py + c, uint8_t(0));
                for (int64_t ky = 0; ky < kh; ++ky) {
                    int64_t iy = oy * stride_h - pad_t + ky;
                    if (iy < 0 || iy >= h) continue;
                    for (int64_t kx = 0; kx < kw; ++kx) {
                        int64_t ix = ox * stride_w - pad_l + kx;
                        if (ix < 0 || ix >= w) continue;
                        const uint8_t* px = x + ((b * h + iy) * w + ix) * c;
                        for (int64_t ch = 0; ch < c; ++ch) py[ch] = std::max(py[ch], px[ch]);
                    }
                }
            }
}

void qavgpool_nhwc_ref(int64_t n, int64_t h, int64_t w, int64_t c, int64_t kh, int64_t kw, int64_t stride_h,
                       int64_t stride_w, int64_t pad_t, int64_t pad_l, int64_t pad_b, int64_t pad_r, int64_t out_h,
                       int64_t out_w, bool count_include_pad, const uint8_t* x, int32_t x_zero, float mult, int32_t y_zero, uint8_t* y) {
    std::vector<int32_t> sum(static_cast<size_t>(c));
    for (int64_t b = 0; b < n; ++b)
        for (int64_t oy = 0; oy < out_h; ++oy)
            for (int64_t ox = 0; ox < out_w; ++ox) {
                std::fill(sum.begin(), sum.end(), 0);
                int64_t count = 0;
                for (int64_t ky = 0; ky < kh; ++ky) {
                    const int64_t iy = oy * stride_h - pad_t + ky;
                    for (int64_t kx = 0; kx < kw; ++kx) {
                        const int64_t ix = ox * stride_w - pad_l + kx;
                        const bool inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                        // With count_include_pad, taps within the padded input count
                        // (the window clipped to input + pads, as ONNX does).
                        const bool in_padded = iy >= -pad_t && iy < h + pad_b && ix >= -pad_l && ix < w + pad_r;
                        if (inside) {
                            const uint8_t* px = x + ((b * h + iy) * w + ix) * c;
                            for (int64_t ch = 0; ch < c; ++ch) sum[size_t(ch)] += int32_t(px[ch]) - x_zero;
                        }
                        count += inside || (count_include_pad && in_padded);
                    }
                }
                uint8_t* py = y + ((b * out_h + oy) * out_w + ox) * c;
                for (int64_t ch = 0; ch < c; ++ch) {
                    float f = float(sum[size_t(ch)]) / float(std::max<int64_t>(count, 1)) * mult;
                    f = std::min(std::max(f, -kRequantLimit), kRequantLimit);
                    const int32_t q = int32_t(round_half_even(f)) + y_zero;
                    py[ch] = uint8_t(std::min(std::max(q, 0), 255));
                }
            }
}

void qadd_ref(int64_t count, const uint8_t* a, float a_mult, int32_t a_zero, const uint8_t* b, float b_mult,
              int32_t b_zero, int32_t y_zero, int32_t lo, int32_t hi, uint8_t* y) {
    for (int64_t i = 0; i < count; ++i) y[i] = qadd_u8(a[i], a_mult, a_zero, b[i], b_mult, b_zero, y_zero, lo, hi);
}

}  // namespace edgecnn
