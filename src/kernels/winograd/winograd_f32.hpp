// Winograd F(4x4, 3x3) convolution, float32, NHWC: 3x3 stride-1 convolutions in 36
// GEMMs of [tiles, Cin] x [Cin, Cout] instead of 9 taps, i.e. 2.25x fewer multiplies per
// output for 4x4 tiles (4x in the limit). Tiles of 4x4 output pixels read 6x6 inputs;
// V = Bt d B (input transform), M = V . U per position (the packed GEMM), Y = At M A
// (output transform) with bias, residual and activation fused. U = G g Gt is computed and
// packed once per weight tensor.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/activation.hpp"
#include "kernels/gemm/gemm_f32.hpp"

namespace edgecnn {

class ThreadPool;

struct WinogradF43Weights {
    int64_t cin = 0, cout = 0;
    std::vector<PackedGemmB> u;  // 36 positions, each [Cin, Cout]
    std::vector<float> bias;     // [Cout], zeros when the model has none
    int64_t bytes() const;
};

// w: ONNX layout [Cout, Cin, 3, 3]; bias [Cout] or null.
WinogradF43Weights pack_winograd_f43(const float* w, const float* bias, int64_t cin, int64_t cout);

struct WinogradParams {
    int64_t n = 1, h = 1, w = 1, cin = 1, cout = 1;
    int64_t pad_t = 0, pad_l = 0;  // the output is out_h x out_w; reads outside x are zero
    int64_t out_h = 1, out_w = 1;
};

// Scratch needed by winograd_f43_nhwc with `threads` threads.
int64_t winograd_f43_workspace_bytes(const WinogradParams& p, int threads);

// y[n, oy, ox, co] = act(bias[co] + residual[...] + sum_{ci,ky,kx} w[co,ci,ky,kx] x[n, oy-pad_t+ky, ox-pad_l+kx, ci]).
// `residual` (same shape as y) may be null. `workspace` holds winograd_f43_workspace_bytes.
void winograd_f43_nhwc(const WinogradParams& p, const float* x, const WinogradF43Weights& wt, float* y,
                       const float* residual, const ActivationParams& act, float* workspace, ThreadPool* pool);

}  // namespace edgecnn
