// Fast 2-D float32 resampling of NCHW planes (Resize/Upsample over H and W only):
// nearest neighbour and bilinear with per-output-row and per-output-column source
// indices and weights computed once per bound shape (any coordinate mode: the op works
// them out). Bilinear runs separably: each needed source row is resampled horizontally
// once per task into a small row cache, output rows are vertical blends of two cached
// rows. Nearest copies a row whose source row equals the previous row's.
//
// Matches kernels/reference/resize_ref (filter_pass order: W first, then H) up to float
// rounding. Threaded over (plane, block of output rows).
#pragma once
#include <cstdint>
#include <vector>

namespace edgecnn {

class ThreadPool;

struct Resize2dPlan {
    bool linear = false;             // false: nearest (only y0 / x0 used)
    int64_t planes = 0;              // N * C
    int64_t ih = 0, iw = 0, oh = 0, ow = 0;
    std::vector<int32_t> y0, y1;     // [oh] source rows (clamped)
    std::vector<float> wy0, wy1;     // [oh]
    std::vector<int32_t> x0, x1;     // [ow] source columns (clamped)
    std::vector<float> wx0, wx1;     // [ow]
};

// x: [planes, ih, iw], y: [planes, oh, ow].
void resize2d_f32(const Resize2dPlan& p, const float* x, float* y, ThreadPool* pool);

// Resize fused with an argmax over the classes (ONNX Resize then ArgMax(axis=1), first
// index on ties, a NaN never wins over an earlier class): x holds images of `classes`
// planes (p.planes = images * classes), labels: [images, oh, ow]. The full-resolution
// score map is never written: each output row is made per class (with the same
// operations as resize2d_f32, so the values compared are the same) and folded into a
// running maximum. For segmentation heads that upsample logits 8x before the argmax.
void resize2d_argmax_f32(const Resize2dPlan& p, int64_t classes, const float* x, int64_t* labels, ThreadPool* pool);

// Name of the implementation active_isa() selects (for profiles).
const char* resize2d_f32_kernel_name(bool linear);

}  // namespace edgecnn
