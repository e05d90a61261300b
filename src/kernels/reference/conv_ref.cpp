#include "kernels/reference/conv_ref.hpp"

#include <algorithm>
#include <vector>

#include "kernels/reference/gemm_ref.hpp"

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

// A 1x1 convolution with unit strides and no padding reads x as it is: its im2col matrix
// is x itself, over the flattened spatial plane.
bool is_pointwise(const ConvParams& p) {
    for (int d = 0; d < 3; ++d)
        if (p.kernel[d] != 1 || p.stride[d] != 1 || p.pad_begin[d] != 0 || p.in[d] != p.out[d]) return false;
    return true;
}

// Direct convolution, one output row at a time: the row stays in L1 while every input
// channel and tap accumulates into it. Used where a group has a single input and output
// channel (depthwise), for which im2col would only copy.
void conv_direct(const ConvParams& p, const float* x, const float* w, const float* bias, float* y) {
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

// Copies the input patches of output rows [row0, row0 + rows) (rows index (od, oh) pairs)
// of one group into col: one line per (ic, kd, kh, kw) tap, one column per output
// position, zero where the tap reads padding.
void im2col(const ConvParams& p, const float* x_group, int64_t cig, int64_t row0, int64_t rows, float* col) {
    const int64_t ID = p.in[0], IH = p.in[1], IW = p.in[2];
    const int64_t OH = p.out[1], OW = p.out[2];
    const int64_t KD = p.kernel[0], KH = p.kernel[1], KW = p.kernel[2];
    const int64_t in_plane = ID * IH * IW, cols = rows * OW;
    for (int64_t ic = 0; ic < cig; ++ic)
        for (int64_t kd = 0; kd < KD; ++kd)
            for (int64_t kh = 0; kh < KH; ++kh)
                for (int64_t kw = 0; kw < KW; ++kw) {
                    float* line = col + (((ic * KD + kd) * KH + kh) * KW + kw) * cols;
                    const int64_t off = kw * p.dilation[2] - p.pad_begin[2];
                    int64_t lo, hi;
                    valid_range(off, p.stride[2], IW, OW, lo, hi);
                    for (int64_t r = 0; r < rows; ++r) {
                        const int64_t od = (row0 + r) / OH, oh = (row0 + r) % OH;
                        const int64_t id = od * p.stride[0] - p.pad_begin[0] + kd * p.dilation[0];
                        const int64_t ih = oh * p.stride[1] - p.pad_begin[1] + kh * p.dilation[1];
                        float* out = line + r * OW;
                        if (id < 0 || id >= ID || ih < 0 || ih >= IH) {
                            std::fill(out, out + OW, 0.f);
                            continue;
                        }
                        const float* x_row = x_group + ic * in_plane + (id * IH + ih) * IW;
                        std::fill(out, out + lo, 0.f);
                        for (int64_t ow = lo; ow < hi; ++ow) out[ow] = x_row[ow * p.stride[2] + off];
                        std::fill(out + hi, out + OW, 0.f);
                    }
                }
}

}  // namespace

void conv_f32_ref(const ConvParams& p, const float* x, const float* w, const float* bias, float* y) {
    const int64_t cig = p.c_in / p.groups, cog = p.c_out / p.groups;
    if (cig == 1 && cog == 1) return conv_direct(p, x, w, bias, y);

    // Per group, Y[cog, positions] = W[cog, cig*taps] * col[cig*taps, positions]: the
    // GEMM formulation of convolution. col is built for a tile of output rows at a time
    // so that it stays in cache while every output channel of the group reads it.
    const int64_t in_plane = p.in[0] * p.in[1] * p.in[2];
    const int64_t out_rows = p.out[0] * p.out[1], OW = p.out[2], out_plane = out_rows * OW;
    const int64_t taps = p.kernel[0] * p.kernel[1] * p.kernel[2], k_dim = cig * taps;
    const bool pointwise = is_pointwise(p);
    constexpr int64_t kColBudget = 256 * 1024;  // floats (1 MiB)
    const int64_t tile_rows = pointwise ? std::max<int64_t>(out_rows, 1)
                                        : std::clamp<int64_t>(kColBudget / std::max<int64_t>(1, k_dim * OW), 1, out_rows);
    std::vector<float> col(pointwise ? 0 : size_t(k_dim * tile_rows * OW));

    for (int64_t n = 0; n < p.n; ++n)
        for (int64_t g = 0; g < p.groups; ++g) {
            const float* x_g = x + (n * p.c_in + g * cig) * in_plane;
            const float* w_g = w + g * cog * k_dim;
            float* y_g = y + (n * p.c_out + g * cog) * out_plane;
            for (int64_t row0 = 0; row0 < out_rows; row0 += tile_rows) {
                const int64_t rows = std::min(tile_rows, out_rows - row0), cols = rows * OW;
                float* y_tile = y_g + row0 * OW;
                for (int64_t oc = 0; oc < cog; ++oc)
                    std::fill(y_tile + oc * out_plane, y_tile + oc * out_plane + cols, bias ? bias[g * cog + oc] : 0.f);
                const float* b = x_g + row0 * OW;  // pointwise: output position == input position
                int64_t ldb = in_plane;
                if (!pointwise) {
                    im2col(p, x_g, cig, row0, rows, col.data());
                    b = col.data();
                    ldb = cols;
                }
                gemm_f32_ref(false, false, cog, cols, k_dim, 1.f, w_g, k_dim, b, ldb, 1.f, y_tile, out_plane);
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
