// Top-1 / top-k accuracy of a classifier over a labelled source (an ImageFolder tree, or
// IDX images with their labels), shared by `edgecnn eval` and `quantize --max-drop`.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "ir/graph.hpp"
#include "ops/op.hpp"
#include "quant/calibration.hpp"

namespace edgecnn {

struct Accuracy {
    int64_t count = 0, top1 = 0, topk = 0;
    double top1_rate() const { return count ? double(top1) / double(count) : 0.0; }
    double topk_rate() const { return count ? double(topk) / double(count) : 0.0; }
};

struct EvalOptions {
    int top_k = 1;
    int64_t batch = 1;  // samples per run when the model's batch dim is dynamic
    int threads = 1;
    FpMath fpmath = FpMath::F32;  // SessionOptions::fpmath
    int64_t limit = 0;  // only the first N samples (0: all)
    std::function<void(const std::string&, int64_t, int64_t)> progress;
};

// `labels` (one per sample) when given, else src.label(i) (which must be >= 0). The first
// output must be [batch, classes] float32 scores.
Accuracy evaluate_accuracy(std::shared_ptr<Graph> model, CalibrationSource& src, const std::vector<int>& labels,
                           const EvalOptions& opt);

}  // namespace edgecnn
