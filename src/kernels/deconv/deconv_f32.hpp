// Fast 2-D transposed convolution (ConvTranspose), float32, NCHW in and out, group 1.
//
// Computed as a GEMM followed by col2im, fused per register tile: for a tile of rows
// m = (co, kh, kw) of W^T [Cout*KH*KW, Cin] and a block of input pixels of one input row,
// cols = W^T · X[:, pixels] is accumulated in registers straight from the NCHW input
// (its rows are contiguous, so no packing), then scattered into Y at
// (ih*sh - ph + kh*dh, iw*sw - pw + kw*dw). The common upsampling case (2x2 kernel,
// stride 2, no padding or dilation: output exactly twice the input) interleaves the kw
// pairs in registers and stores whole output rows with the bias added; every other case
// pre-fills Y with the bias and scatter-adds.
//
// Threads: over (image, block of input rows) when taps of different input pixels never
// land on the same output (stride >= dilated kernel), else over (image, block of output
// channels).
#pragma once
#include <cstdint>
#include <vector>

namespace edgecnn {

class ThreadPool;

struct Deconv2dParams {
    int64_t n = 1, c_in = 1, c_out = 1;
    int64_t ih = 1, iw = 1, oh = 1, ow = 1;
    int64_t kh = 1, kw = 1;
    int64_t sh = 1, sw = 1;
    int64_t dh = 1, dw = 1;
    int64_t ph = 0, pw = 0;  // padding before (may be negative: a larger output grows at the start)
};

// W [Cin, Cout, KH, KW] (ONNX layout, group 1) -> W^T [Cout*KH*KW, Cin] row-major.
std::vector<float> deconv2d_f32_transpose_weights(const float* w, int64_t c_in, int64_t c_out, int64_t kh,
                                                  int64_t kw);

// x: [n, c_in, ih, iw]; wt from deconv2d_f32_transpose_weights; bias: [c_out] or null;
// y: [n, c_out, oh, ow] (fully overwritten).
void deconv2d_f32(const Deconv2dParams& p, const float* x, const float* wt, const float* bias, float* y,
                  ThreadPool* pool);

// Name of the implementation active_isa() selects for `p` (for profiles).
const char* deconv2d_f32_kernel_name(const Deconv2dParams& p);

}  // namespace edgecnn
