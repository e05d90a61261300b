// The segmentation argmax: the AVX2 kernel and the blocked scalar twin against a plain
// per-pixel reference, on random score maps with many ties, NaNs and awkward sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "base/cpu_features.hpp"
#include "isa_test_util.hpp"
#include "vision/postprocess/segment.hpp"

namespace edgecnn::vision {
namespace {

// The definition: lowest class with the greatest score; x > best is false for NaNs.
std::vector<int> naive_argmax(const std::vector<float>& x, int64_t K, int64_t hw) {
    std::vector<int> out(static_cast<size_t>(hw));
    for (int64_t i = 0; i < hw; ++i) {
        int bi = 0;
        for (int64_t k = 1; k < K; ++k)
            if (x[size_t(k * hw + i)] > x[size_t(bi * hw + i)]) bi = int(k);
        out[size_t(i)] = bi;
    }
    return out;
}

TEST(PostprocessSegment, ArgmaxKernelsMatchPerPixelReference) {
    std::mt19937 rng(7);
    const int64_t Ks[] = {2, 3, 7, 21, 33};
    const int64_t sizes[] = {1, 7, 8, 9, 31, 32, 33, 255, 257, 1000, 4099};
    for (int64_t K : Ks)
        for (int64_t hw : sizes)
            for (int trial = 0; trial < 2; ++trial) {
                std::vector<float> x(size_t(K * hw));
                // Trial 0: few distinct values (ties everywhere); 1: continuous with NaNs.
                std::uniform_int_distribution<int> small(-2, 2);
                std::normal_distribution<float> normal(0.f, 3.f);
                for (float& v : x) v = trial == 0 ? float(small(rng)) : normal(rng);
                if (trial == 1)
                    for (size_t i = 0; i < x.size(); i += 13) x[i] = std::numeric_limits<float>::quiet_NaN();
                const std::vector<int> want = naive_argmax(x, K, hw);
                std::vector<int> got(size_t(hw), -1);
                detail::argmax_planes_scalar(x.data(), K, hw, 0, hw, got.data());
                EXPECT_EQ(got, want) << "scalar K=" << K << " hw=" << hw << " trial " << trial;
                if (cpu_features().avx2) {
                    // Start mid-map too: the kernel must honour `from` and leave the tail alone.
                    const int64_t from = hw / 3;
                    std::vector<int> v(size_t(hw), -1);
                    int64_t done = detail::argmax_planes_avx2(x.data(), K, hw, from, hw, v.data());
                    ASSERT_GE(done, 0);
                    ASSERT_LE(from + done, hw);
                    EXPECT_EQ(done % 8, 0);
                    for (int64_t i = 0; i < from; ++i) ASSERT_EQ(v[size_t(i)], -1);
                    for (int64_t i = from + done; i < hw; ++i) ASSERT_EQ(v[size_t(i)], -1);
                    detail::argmax_planes_scalar(x.data(), K, hw, from + done, hw, v.data());
                    for (int64_t i = from; i < hw; ++i)
                        ASSERT_EQ(v[size_t(i)], want[size_t(i)]) << "avx2 K=" << K << " hw=" << hw << " pixel " << i;
                }
            }
}

TEST(PostprocessSegment, SegmentLabelsSameOnEveryIsa) {
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> small(0, 3);
    const int64_t K = 21, H = 37, W = 29;
    Tensor t(DType::F32, Shape{1, K, H, W});
    std::vector<float> x(size_t(K * H * W));
    for (float& v : x) v = float(small(rng));
    std::copy(x.begin(), x.end(), t.data<float>());
    const std::vector<int> want = naive_argmax(x, K, H * W);
    for (Isa isa : isas()) {
        IsaGuard g(isa);
        LabelMap m = segment_labels(t, true, 0.5f);
        EXPECT_EQ(m.labels, want) << isa_name(isa);
        EXPECT_EQ(m.width, W);
        EXPECT_EQ(m.height, H);
    }
}

}  // namespace
}  // namespace edgecnn::vision
