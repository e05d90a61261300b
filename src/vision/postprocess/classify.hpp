// Classification heads: softmax and top-k over one row of scores.
#pragma once
#include <string>
#include <vector>

namespace edgecnn::vision {

struct ClassScore {
    int index = 0;
    float score = 0;        // the model's raw output
    float probability = 0;  // softmax over the row (the raw value when it already sums to 1)
};

// Numerically stable softmax (max subtracted first).
std::vector<float> softmax(const float* x, size_t n);
// True when the row already looks like probabilities (all in [0,1], sum within 1e-3 of 1).
bool looks_like_probabilities(const float* x, size_t n);
// The k best entries, best first; ties keep the lower index first.
std::vector<ClassScore> top_k(const float* scores, size_t n, int k);
// One name per line (trailing '\r' stripped); throws Error(Io) naming the file.
std::vector<std::string> read_class_names(const std::string& path);

}  // namespace edgecnn::vision
