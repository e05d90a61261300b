#include "vision/postprocess/classify.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>

#include "base/error.hpp"

namespace edgecnn::vision {

std::vector<float> softmax(const float* x, size_t n) {
    std::vector<float> p(n);
    if (n == 0) return p;
    float mx = *std::max_element(x, x + n);
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += (p[i] = std::exp(x[i] - mx));
    for (float& v : p) v = float(v / sum);
    return p;
}

bool looks_like_probabilities(const float* x, size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) {
        if (!(x[i] >= 0.f && x[i] <= 1.f)) return false;
        sum += x[i];
    }
    return n > 0 && std::fabs(sum - 1.0) < 1e-3;
}

std::vector<ClassScore> top_k(const float* scores, size_t n, int k) {
    std::vector<int> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    size_t kk = std::min(n, size_t(std::max(k, 0)));
    std::partial_sort(idx.begin(), idx.begin() + long(kk), idx.end(), [&](int a, int b) {
        return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
    });
    std::vector<float> prob = looks_like_probabilities(scores, n) ? std::vector<float>(scores, scores + n) : softmax(scores, n);
    std::vector<ClassScore> out;
    for (size_t i = 0; i < kk; ++i) out.push_back({idx[i], scores[idx[i]], prob[size_t(idx[i])]});
    return out;
}

std::vector<std::string> read_class_names(const std::string& path) {
    std::ifstream f(path);
    if (!f) throw Error(ErrorKind::Io, path + ": cannot open class-names file");
    std::vector<std::string> names;
    std::string line;
    while (std::getline(f, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        names.push_back(line);
    }
    if (names.empty()) throw Error(ErrorKind::Io, path + ": class-names file is empty");
    return names;
}

}  // namespace edgecnn::vision
