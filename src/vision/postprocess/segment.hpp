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
// Pixels per label (size = max(classes, 2)).
std::vector<int64_t> label_histogram(const LabelMap& m);

}  // namespace edgecnn::vision
