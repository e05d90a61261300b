#include "kernels/reference/conv_ref.hpp"

#include <algorithm>

namespace edgecnn {
namespace {

int64_t floor_div(int64_t a, int64_t b) {  // b > 0
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

// The range [lo, hi) of o in [0, count) for which o * stride + offset lies in [0, size).
void valid_range(int64_t offset, int64_t stride, int64_t size, int64_t count, int64_t& lo, int64_t& hi) {
    lo = std::clamp<int64_t>(ceil_div(-offset, stride), 0, count);
    hi = std::clamp<int64_t>(ceil_div(size - offset, stride), lo, count);
}

// A 1x1 convolution with unit strides and no padding is the same computation over the
// flattened spatial plane; treating it as one long row keeps the inner loop long
// (7x7 planes of late ResNet layers would otherwise loop over rows of 7).
ConvParams flatten_pointwise(const ConvParams& p) {
    for (int d = 0; d < 3; ++d)
        if (p.kernel[d] != 1 || p.stride[d] != 1 || p.pad_begin[d] != 0 || p.in[d] != p.out[d]) return p;
    ConvParams q = p;
    const int64_t plane = p.in[0] * p.in[1] * p.in[2];
    for (int d = 0; d < 3; ++d) {
        q.in[d] = q.out[d] = 1;
        q.dilation[d] = 1;
    }
    q.in[2] = q.out[2] = plane;
    return q;
}

}  // namespace

void conv_f32_ref(const ConvParams& params, const float* x, const float* w, const float* bias, float* y) {
    const ConvParams p = flatten_pointwise(params);
    const int64_t cig = p.c_in / p.groups, cog = p.c_out / p.groups;
    const int64_t ID = p.in[0], IH = p.in[1], IW = p.in[2];
    const int64_t OD = p.out[0], OH = p.out[1], OW = p.out[2];
    const int64_t KD = p.kernel[0], KH = p.kernel[1], KW = p.kernel[2];
    const int64_t in_plane = ID * IH * IW, out_plane = OD * OH * OW, k_size = KD * KH * KW;

    for (int64_t n = 0; n < p.n; ++n) {
        for (int64_t oc = 0; oc < p.c_out; ++oc) {
            const int64_t g = oc / cog;
            float* y_plane = y + (n * p.c_out + oc) * out_plane;
            const float b = bias ? bias[oc] : 0.f;
            // One output row at a time stays in L1 while all input channels and taps
            // accumulate into it; the innermost loop runs along the row and vectorizes.
            for (int64_t od = 0; od < OD; ++od) {
                for (int64_t oh = 0; oh < OH; ++oh) {
                    float* __restrict y_row = y_plane + (od * OH + oh) * OW;
                    std::fill(y_row, y_row + OW, b);
                    for (int64_t ic = 0; ic < cig; ++ic) {
                        const float* x_plane = x + (n * p.c_in + g * cig + ic) * in_plane;
                        const float* w_k = w + (oc * cig + ic) * k_size;
                        for (int64_t kd = 0; kd < KD; ++kd) {
                            const int64_t id = od * p.stride[0] - p.pad_begin[0] + kd * p.dilation[0];
                            if (id < 0 || id >= ID) continue;
                            for (int64_t kh = 0; kh < KH; ++kh) {
                                const int64_t ih = oh * p.stride[1] - p.pad_begin[1] + kh * p.dilation[1];
                                if (ih < 0 || ih >= IH) continue;
                                const float* __restrict x_row = x_plane + (id * IH + ih) * IW;
                                for (int64_t kw = 0; kw < KW; ++kw) {
                                    const float wv = w_k[(kd * KH + kh) * KW + kw];
                                    const int64_t off = kw * p.dilation[2] - p.pad_begin[2];
                                    int64_t lo, hi;
                                    valid_range(off, p.stride[2], IW, OW, lo, hi);
                                    if (p.stride[2] == 1) {
                                        const float* xs = x_row + off;
                                        for (int64_t ow = lo; ow < hi; ++ow) y_row[ow] += wv * xs[ow];
                                    } else {
                                        const int64_t s = p.stride[2];
                                        for (int64_t ow = lo; ow < hi; ++ow) y_row[ow] += wv * x_row[ow * s + off];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

void conv_transpose_f32_ref(const ConvParams& p, const float* x, const float* w, const float* bias, float* y) {
    const int64_t cig = p.c_in / p.groups, cog = p.c_out / p.groups;
    const int64_t ID = p.in[0], IH = p.in[1], IW = p.in[2];
    const int64_t OD = p.out[0], OH = p.out[1], OW = p.out[2];
    const int64_t KD = p.kernel[0], KH = p.kernel[1], KW = p.kernel[2];
    const int64_t in_plane = ID * IH * IW, out_plane = OD * OH * OW, k_size = KD * KH * KW;

    for (int64_t n = 0; n < p.n; ++n)
        for (int64_t oc = 0; oc < p.c_out; ++oc) {
            float* y_plane = y + (n * p.c_out + oc) * out_plane;
            std::fill(y_plane, y_plane + out_plane, bias ? bias[oc] : 0.f);
        }

    for (int64_t n = 0; n < p.n; ++n) {
        for (int64_t ci = 0; ci < p.c_in; ++ci) {
            const int64_t g = ci / cig;
            const float* x_plane = x + (n * p.c_in + ci) * in_plane;
            for (int64_t oc = 0; oc < cog; ++oc) {
                float* y_plane = y + (n * p.c_out + g * cog + oc) * out_plane;
                const float* w_k = w + (ci * cog + oc) * k_size;
                for (int64_t id = 0; id < ID; ++id) {
                    for (int64_t kd = 0; kd < KD; ++kd) {
                        const int64_t od = id * p.stride[0] - p.pad_begin[0] + kd * p.dilation[0];
                        if (od < 0 || od >= OD) continue;
                        for (int64_t ih = 0; ih < IH; ++ih) {
                            const float* __restrict x_row = x_plane + (id * IH + ih) * IW;
                            for (int64_t kh = 0; kh < KH; ++kh) {
                                const int64_t oh = ih * p.stride[1] - p.pad_begin[1] + kh * p.dilation[1];
                                if (oh < 0 || oh >= OH) continue;
                                float* __restrict y_row = y_plane + (od * OH + oh) * OW;
                                for (int64_t kw = 0; kw < KW; ++kw) {
                                    const float wv = w_k[(kd * KH + kh) * KW + kw];
                                    const int64_t off = kw * p.dilation[2] - p.pad_begin[2];
                                    int64_t lo, hi;
                                    valid_range(off, p.stride[2], OW, IW, lo, hi);
                                    const int64_t s = p.stride[2];
                                    for (int64_t iw = lo; iw < hi; ++iw) y_row[iw * s + off] += wv * x_row[iw];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

}  // namespace edgecnn
