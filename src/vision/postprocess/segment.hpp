// Segmentation heads: a per-pixel label map from a model's score map.
#pragma once
#include <vector>

#include "base/tensor.hpp"

namespace edgecnn::vision {

struct LabelMap {
    int width = 0, height = 0, classes = 0;
    std::vector<int> labels;  // row-major, height × width
};

// `scores` is [1,K,H,W] (nchw) or [1,H,W,K], float32. K > 1: per-pixel argmax (ties: lower
// index). K == 1: 1 where the value exceeds `threshold` (apply it to probabilities, or to
// logits with threshold 0), else 0. Throws Error(Invalid) naming the shape otherwise.
LabelMap segment_labels(const Tensor& scores, bool nchw, float threshold);
// A label map the model computed itself (an ArgMax at its end, e.g. the one --task segment
// appends so the engine fuses it with the upsampling): int64 [1,1,H,W] or [1,H,W] with
// values in [0, classes). Throws Error(Invalid) naming the shape or the bad label.
LabelMap labels_from_argmax(const Tensor& labels, int classes);
// Pixels per label (size = max(classes, 2)).
std::vector<int64_t> label_histogram(const LabelMap& m);

namespace detail {
// Argmax over K planes of `hw` floats each (NCHW scores), pixels [from, to): labels[i] = the
// lowest k with the greatest x[k*hw + i] (a NaN never wins over an earlier class).
// The scalar twin is the reference; the AVX2 kernel does whole blocks of 8 and returns how
// many pixels from `from` it did (the rest go to the scalar twin). Both walk the pixels in
// L1-sized blocks with every plane read once, so the argmax is one pass over the scores.
void argmax_planes_scalar(const float* x, int64_t K, int64_t hw, int64_t from, int64_t to, int* labels);
int64_t argmax_planes_avx2(const float* x, int64_t K, int64_t hw, int64_t from, int64_t to, int* labels);
}  // namespace detail

}  // namespace edgecnn::vision
