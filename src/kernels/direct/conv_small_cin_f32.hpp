// Direct 2-D convolution, float32, for few input channels (a network's RGB stem: Cin = 3,
// Cout = 16..64, 3x3 or 7x7, stride 2). im2col + GEMM does badly there: K = kh*kw*Cin is
// tiny, the im2col copy costs as much as the multiply, and the GEMM's N = Cout is one
// or two vectors. This kernel instead keeps a block of output pixels x Cout vectors in
// registers and, per tap (ky, kx, ci), broadcasts one input value per pixel and FMAs it
// with the tap's packed weight vector(s): no intermediate buffer at all.
//
// Input NHWC [n, h, w, c_in] or NCHW [n, c_in, h, w] (channel planes: the stem can read
// the model's input as it comes, without a layout transpose); output NHWC
// [n, out_h, out_w, c_out] with bias, an optional residual (same layout as the output,
// added before the activation) and a fused activation. Group 1, any kernel size, stride,
// dilation and padding. Taps outside the image are skipped, not multiplied by zero: rows
// by a per-row tap range, columns by an interior fast path (every tap inside) and a
// per-pixel tap range for the few border columns. Threads split (batch, output rows).
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/activation.hpp"

namespace edgecnn {

class ThreadPool;

// The kernel serves up to this many input channels (its inner loop is over kw*c_in taps
// per kernel row; the per-tap broadcast pays off only while that product stays small).
constexpr int64_t kConvSmallCinMax = 8;

struct ConvSmallCinParams {
    int64_t n = 1, h = 1, w = 1, c_in = 1, c_out = 1;
    int64_t kh = 1, kw = 1;
    int64_t stride_h = 1, stride_w = 1;
    int64_t dil_h = 1, dil_w = 1;
    int64_t pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;  // pad_b/pad_r only document the shape
    int64_t out_h = 1, out_w = 1;
    bool nchw_input = false;  // x is [n, c_in, h, w] instead of [n, h, w, c_in]
};

// Weights in the layout the kernel reads: tap t = (ky*kw + kx)*c_in + ci owns the 16-aligned
// run weights[t*c_pad, t*c_pad + c_pad); bias[c_pad] (zero when the model has none). Lanes
// >= c_out are zero, so the vector kernels never mask a weight load.
struct ConvSmallCinPacked {
    int64_t c_in = 0, c_out = 0, c_pad = 0, kh = 0, kw = 0;
    std::vector<float> weights;  // [kh*kw*c_in][c_pad]
    std::vector<float> bias;     // [c_pad]
};

// w: ONNX layout [c_out, c_in, kh, kw]; bias: [c_out] or nullptr.
ConvSmallCinPacked pack_conv_small_cin_f32(const float* w, const float* bias, int64_t c_out, int64_t c_in,
                                           int64_t kh, int64_t kw);

// y[n, oh, ow, co] = act(bias[co] + residual[n, oh, ow, co] + sum_{ky,kx,ci} w[co, ci, ky, kx] *
//                    x[n, oh*stride_h - pad_t + ky*dil_h, ow*stride_w - pad_l + kx*dil_w, ci])
// with taps outside x contributing nothing. `residual` may be null; it may alias y (then it
// is read before y is written, element for element) but x must not overlap y. Throws
// std::invalid_argument for bad parameters or c_in > kConvSmallCinMax. `pool` may be null.
void conv_small_cin_f32(const ConvSmallCinParams& p, const float* x, const ConvSmallCinPacked& packed, float* y,
                        const float* residual, const ActivationParams& act, ThreadPool* pool);

// The portable scalar implementation (what Isa::Scalar runs); exposed for tests/benchmarks.
void conv_small_cin_f32_scalar(const ConvSmallCinParams& p, const float* x, const ConvSmallCinPacked& packed,
                               float* y, const float* residual, const ActivationParams& act, ThreadPool* pool);

}  // namespace edgecnn
