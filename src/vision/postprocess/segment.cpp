#include "vision/postprocess/segment.hpp"

#include <algorithm>

#include "base/error.hpp"

namespace edgecnn::vision {

LabelMap segment_labels(const Tensor& t, bool nchw, float threshold) {
    if (t.dtype() != DType::F32 || t.rank() != 4 || t.dim(0) != 1)
        fail("segment: output " + shape_str(t.shape()) + " " + dtype_name(t.dtype()) +
             " is not a float32 [1,K,H,W] (or [1,H,W,K]) score map");
    LabelMap m;
    const int64_t K = nchw ? t.dim(1) : t.dim(3), H = nchw ? t.dim(2) : t.dim(1), W = nchw ? t.dim(3) : t.dim(2);
    if (K < 1 || H < 1 || W < 1) fail("segment: output " + shape_str(t.shape()) + " is empty");
    m.width = int(W);
    m.height = int(H);
    m.classes = int(K == 1 ? 2 : K);
    m.labels.assign(size_t(W * H), 0);
    const float* x = t.data<float>();
    const int64_t hw = H * W;
    if (K == 1) {
        for (int64_t i = 0; i < hw; ++i) m.labels[size_t(i)] = x[i] > threshold ? 1 : 0;
    } else if (nchw) {
        // Plane by plane, so every read streams through memory (a per-pixel loop over
        // classes would jump by H*W floats each step).
        std::vector<float> best(x, x + hw);
        int* lab = m.labels.data();
        for (int64_t k = 1; k < K; ++k) {
            const float* plane = x + k * hw;
            const int kk = int(k);
            for (int64_t i = 0; i < hw; ++i) {
                const bool better = plane[i] > best[size_t(i)];
                best[size_t(i)] = better ? plane[i] : best[size_t(i)];
                lab[i] = better ? kk : lab[i];
            }
        }
    } else {
        for (int64_t i = 0; i < hw; ++i) {
            const float* px = x + i * K;
            int bi = 0;
            for (int64_t k = 1; k < K; ++k)
                if (px[k] > px[bi]) bi = int(k);
            m.labels[size_t(i)] = bi;
        }
    }
    return m;
}

std::vector<int64_t> label_histogram(const LabelMap& m) {
    std::vector<int64_t> h(size_t(std::max(m.classes, 2)), 0);
    for (int l : m.labels)
        if (l >= 0 && size_t(l) < h.size()) ++h[size_t(l)];
    return h;
}

}  // namespace edgecnn::vision
