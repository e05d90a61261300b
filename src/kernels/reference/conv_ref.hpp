// Scalar reference convolutions (NCHW / NCDHW, float32): the ground truth that the
// optimized conv kernels are tested against. They know nothing of graphs or ops: the
// caller resolves attributes (auto_pad, output_shape, ...) into a ConvParams.
//
// Every convolution is described with three spatial dims (depth, height, width):
// 2-D convolutions set depth = 1 (kernel 1, stride 1, dilation 1, pad 0) and 1-D
// convolutions also set height = 1, so one kernel serves 1-D, 2-D and 3-D.
#pragma once
#include <cstdint>

namespace edgecnn {

struct ConvParams {
    int64_t n = 1;       // batch
    int64_t c_in = 1;    // input channels (all groups)
    int64_t c_out = 1;   // output channels (all groups)
    int64_t groups = 1;  // c_in and c_out are both multiples of groups
    // Per spatial dim {depth, height, width}.
    int64_t in[3] = {1, 1, 1};
    int64_t kernel[3] = {1, 1, 1};
    int64_t stride[3] = {1, 1, 1};
    int64_t dilation[3] = {1, 1, 1};
    // Padding before each dim. May be negative for a transposed convolution whose
    // requested output is larger than the natural one (the output then grows at the start).
    int64_t pad_begin[3] = {0, 0, 0};
    int64_t out[3] = {1, 1, 1};
};

// y[n, oc, o] = bias[oc] + sum over ic in oc's group and kernel taps k of
//               w[oc, ic, k] * x[n, g*c_in/groups + ic, o*stride - pad_begin + k*dilation]
// (taps that fall outside x read zero).
// x: [n, c_in, in...], w: [c_out, c_in/groups, kernel...], bias: [c_out] or null,
// y: [n, c_out, out...] (fully overwritten).
void conv_f32_ref(const ConvParams& p, const float* x, const float* w, const float* bias, float* y);

// Transposed convolution (the gradient of conv_f32_ref with respect to its input):
// every x[n, ic, i] scatters x * w[ic, oc, k] into y[n, g*c_out/groups + oc,
// i*stride - pad_begin + k*dilation]; positions outside y are dropped. Output padding
// and an explicit output shape are expressed through `out` (and a negative pad_begin).
// x: [n, c_in, in...], w: [c_in, c_out/groups, kernel...], bias: [c_out] or null,
// y: [n, c_out, out...] (fully overwritten).
void conv_transpose_f32_ref(const ConvParams& p, const float* x, const float* w, const float* bias, float* y);

}  // namespace edgecnn
