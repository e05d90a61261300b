// Depthwise 2-D convolution, float32, NHWC (channels innermost, unpadded in memory):
// group == C_in == C_out, one filter per channel. Weights are packed once (tap-major,
// channels rounded up to 16) and the kernel fuses bias and activation.
//
// Fast paths: 3x3 and 5x5 filters keep every tap's weights in vector registers while a
// row of output pixels streams by (any stride, any dilation); other sizes run a generic
// path. Rows whose window leaves the image read a shared zero row, so the interior loop
// never branches; only the few output columns whose window crosses the left/right edge
// take a per-tap check. Threads split (batch, output rows, channel groups).
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/activation.hpp"

namespace edgecnn {

class ThreadPool;

struct DwConvParams {
    int64_t n = 1, h = 1, w = 1, c = 1;  // input [n, h, w, c]
    int64_t kh = 1, kw = 1;
    int64_t stride_h = 1, stride_w = 1;
    int64_t dil_h = 1, dil_w = 1;
    int64_t pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;  // pad_b/pad_r only document the shape
    int64_t out_h = 1, out_w = 1;                          // output [n, out_h, out_w, c]
};

// Natural output size along one dim: floor((in + pads - dil*(k-1) - 1) / stride) + 1.
inline int64_t dwconv_out_size(int64_t in, int64_t k, int64_t stride, int64_t dil, int64_t pad_begin, int64_t pad_end) {
    return (in + pad_begin + pad_end - dil * (k - 1) - 1) / stride + 1;
}

// Weights in the layout the kernel reads: for tap t = ky*kw + kx, the 16-aligned run
// weights[t*c_pad + ch]; bias[ch] (zero when the model has none). Lanes >= c are zero.
struct DwConvPacked {
    int64_t c = 0, c_pad = 0, kh = 0, kw = 0;
    std::vector<float> weights;  // [kh*kw][c_pad]
    std::vector<float> bias;     // [c_pad]
};

// w: ONNX layout [c, 1, kh, kw]; bias: [c] or nullptr.
DwConvPacked pack_dwconv_f32(const float* w, const float* bias, int64_t c, int64_t kh, int64_t kw);

// y[n, oh, ow, ch] = act(bias[ch] + sum_{ky,kx} w[ch, ky, kx] *
//                     x[n, oh*stride_h - pad_t + ky*dil_h, ow*stride_w - pad_l + kx*dil_w, ch])
// with taps outside x reading zero. x and y must not overlap. `pool` may be null.
void dwconv_f32_nhwc(const DwConvParams& p, const float* x, const DwConvPacked& packed, float* y,
                     const ActivationParams& act, ThreadPool* pool);

// The portable scalar implementation (what Isa::Scalar runs); exposed for tests/benchmarks.
void dwconv_f32_nhwc_scalar(const DwConvParams& p, const float* x, const DwConvPacked& packed, float* y,
                            const ActivationParams& act, ThreadPool* pool);

}  // namespace edgecnn
