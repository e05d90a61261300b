// Pooling over NHWC float32 tensors (channels innermost, unpadded), vectorized over
// channels and threaded over (batch, output rows). The NCHW scalar twins are in
// kernels/reference/pool_ref.hpp; semantics match them (see there), except that a NaN
// in a max window is not guaranteed to propagate.
#pragma once
#include <cstdint>

namespace edgecnn {

class ThreadPool;

struct PoolNhwcParams {
    int64_t n = 1, h = 1, w = 1, c = 1;  // input [n, h, w, c]
    int64_t kh = 1, kw = 1;
    int64_t stride_h = 1, stride_w = 1;
    int64_t dil_h = 1, dil_w = 1;  // MaxPool only (AveragePool has none before opset 19)
    int64_t pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;
    // Output [n, out_h, out_w, c]: the caller applies ceil_mode / auto_pad.
    int64_t out_h = 1, out_w = 1;
};

// Window of output (oh, ow): rows oh*stride_h - pad_t + ky*dil_h, ky < kh (likewise
// columns). Max over positions inside the image; -inf for a window with none.
void maxpool_f32_nhwc(const PoolNhwcParams& p, const float* x, float* y, ThreadPool* pool);

// Mean over the window's positions inside the image, or, with count_include_pad, divided by
// the number of positions inside the padded image [-pad, in + pad_end) (a ceil_mode window
// reaching further does not count those). 0 for a window with no position.
void avgpool_f32_nhwc(const PoolNhwcParams& p, const float* x, float* y, bool count_include_pad,
                      ThreadPool* pool);

// [n, hw, c] -> [n, c]: mean / max over the hw pixels of each image.
void global_avgpool_f32_nhwc(int64_t n, int64_t hw, int64_t c, const float* x, float* y, ThreadPool* pool);
void global_maxpool_f32_nhwc(int64_t n, int64_t hw, int64_t c, const float* x, float* y, ThreadPool* pool);

}  // namespace edgecnn
