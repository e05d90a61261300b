#include "vision/postprocess/segment.hpp"

#include <algorithm>

#include "base/cpu_features.hpp"
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
        int64_t done = 0;
        if (active_isa() >= Isa::Avx2 && active_isa() < Isa::Neon)
            done = detail::argmax_planes_avx2(x, K, hw, 0, hw, m.labels.data());
        detail::argmax_planes_scalar(x, K, hw, done, hw, m.labels.data());
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

LabelMap labels_from_argmax(const Tensor& t, int classes) {
    const bool ok = t.dtype() == DType::I64 && t.dim(0) == 1 && (t.rank() == 3 || (t.rank() == 4 && t.dim(1) == 1));
    if (!ok) fail("segment: label output " + shape_str(t.shape()) + " " + dtype_name(t.dtype()) + " is not int64 [1,1,H,W] or [1,H,W]");
    LabelMap m;
    m.height = int(t.dim(t.rank() - 2));
    m.width = int(t.dim(t.rank() - 1));
    m.classes = classes;
    const int64_t* x = t.data<int64_t>();
    m.labels.resize(size_t(t.numel()));
    for (size_t i = 0; i < m.labels.size(); ++i) {
        if (x[i] < 0 || x[i] >= classes)
            fail("segment: label " + std::to_string(x[i]) + " is outside [0, " + std::to_string(classes) + ")");
        m.labels[i] = int(x[i]);
    }
    return m;
}

namespace detail {

void argmax_planes_scalar(const float* x, int64_t K, int64_t hw, int64_t from, int64_t to, int* labels) {
    // Blocks of pixels small enough that the running best values stay in L1 while each plane
    // streams through once (plane by plane over the whole map would re-read `best` and the
    // labels K times from L2/memory; pixel by pixel would jump hw floats per class).
    constexpr int64_t B = 256;
    float best[B];
    for (int64_t b0 = from; b0 < to; b0 += B) {
        const int64_t nb = std::min(B, to - b0);
        int* lab = labels + b0;
        for (int64_t i = 0; i < nb; ++i) {
            best[i] = x[b0 + i];
            lab[i] = 0;
        }
        for (int64_t k = 1; k < K; ++k) {
            const float* plane = x + k * hw + b0;
            const int kk = int(k);
            for (int64_t i = 0; i < nb; ++i) {
                const bool better = plane[i] > best[i];
                best[i] = better ? plane[i] : best[i];
                lab[i] = better ? kk : lab[i];
            }
        }
    }
}

#if !(defined(__x86_64__) || defined(_M_X64))
int64_t argmax_planes_avx2(const float*, int64_t, int64_t, int64_t, int64_t, int*) { return 0; }
#endif

}  // namespace detail

std::vector<int64_t> label_histogram(const LabelMap& m) {
    std::vector<int64_t> h(size_t(std::max(m.classes, 2)), 0);
    for (int l : m.labels)
        if (l >= 0 && size_t(l) < h.size()) ++h[size_t(l)];
    return h;
}

}  // namespace edgecnn::vision
