// MaxPool, AveragePool, LpPool and Global* pools: hand-checked values, spec corner cases
// (ceil_mode, count_include_pad, auto_pad, Indices) and randomized naive comparisons.
#include <cmath>
#include <limits>
#include <random>

#include "op_test_util.hpp"

namespace edgecnn::test {
namespace {

std::vector<float> values(const Tensor& t) {
    const float* p = t.data<float>();
    return std::vector<float>(p, p + t.numel());
}

Tensor iota(Shape shape, float start = 0.f) {
    Tensor t(DType::F32, std::move(shape));
    float* p = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = start + float(i);
    return t;
}

void expect_near(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-5f) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at index " << i;
}

TEST(OpsPoolMax, DefaultPadsStridesDilations) {
    Tensor x = iota({1, 1, 4, 4}, 1);  // 1..16
    auto y = run_op("MaxPool", {x}, {{"kernel_shape", attr_ints({2, 2})}});
    EXPECT_EQ(y[0].shape(), (Shape{1, 1, 3, 3}));
    expect_near(values(y[0]), {6, 7, 8, 10, 11, 12, 14, 15, 16});
    y = run_op("MaxPool", {x}, {{"kernel_shape", attr_ints({3, 3})}, {"pads", attr_ints({1, 1, 1, 1})}, {"strides", attr_ints({2, 2})}});
    EXPECT_EQ(y[0].shape(), (Shape{1, 1, 2, 2}));
    expect_near(values(y[0]), {6, 8, 14, 16});
    y = run_op("MaxPool", {x}, {{"kernel_shape", attr_ints({2, 2})}, {"dilations", attr_ints({2, 2})}});
    EXPECT_EQ(y[0].shape(), (Shape{1, 1, 2, 2}));
    expect_near(values(y[0]), {11, 12, 15, 16});
}

TEST(OpsPoolMax, NegativeValuesIgnorePadding) {
    Tensor x = iota({1, 1, 2, 2}, -10);  // -10 -9 / -8 -7
    auto y = run_op("MaxPool", {x}, {{"kernel_shape", attr_ints({2, 2})}, {"pads", attr_ints({1, 1, 1, 1})}});
    EXPECT_EQ(y[0].shape(), (Shape{1, 1, 3, 3}));
    expect_near(values(y[0]), {-10, -9, -9, -8, -7, -7, -8, -7, -7});
}

TEST(OpsPoolMax, CeilModeDropsWindowStartingInPadding) {
    Tensor x = iota({1, 1, 4, 4}, 1);
    auto y = run_op("MaxPool", {x}, {{"kernel_shape", attr_ints({3, 3})}, {"strides", attr_ints({2, 2})}, {"ceil_mode", attr_int(1)}});
    EXPECT_EQ(y[0].shape(), (Shape{1, 1, 2, 2}));
    expect_near(values(y[0]), {11, 12, 15, 16});
    // 5 wide, kernel 2, stride 2, pad 1 each side: floor -> 3, ceil -> 4 but the 4th
    // window would start at padded position 6 = in + pad_begin, wholly in the padding.
    Tensor x1 = iota({1, 1, 5});
    auto y1 = run_op("MaxPool", {x1}, {{"kernel_shape", attr_ints({2})}, {"strides", attr_ints({2})}, {"pads", attr_ints({1, 1})}, {"ceil_mode", attr_int(1)}});
    EXPECT_EQ(y1[0].shape(), (Shape{1, 1, 3}));
    expect_near(values(y1[0]), {0, 2, 4});
    // 6 wide, kernel 3, stride 2: floor gives 2 windows, ceil adds a partial third.
    auto y2 = run_op("MaxPool", {iota({1, 1, 6})}, {{"kernel_shape", attr_ints({3})}, {"strides", attr_ints({2})}, {"ceil_mode", attr_int(1)}});
    EXPECT_EQ(y2[0].shape(), (Shape{1, 1, 3}));
    expect_near(values(y2[0]), {2, 4, 5});
}

TEST(OpsPoolMax, AutoPad) {
    Tensor x = iota({1, 1, 5, 5});
    // SAME_UPPER, kernel 2: out 5x5, pad 1 at the end.
    auto up = run_op("MaxPool", {x}, {{"kernel_shape", attr_ints({2, 2})}, {"auto_pad", attr_string("SAME_UPPER")}});
    EXPECT_EQ(up[0].shape(), (Shape{1, 1, 5, 5}));
    EXPECT_EQ(values(up[0])[0], 6.f);
    EXPECT_EQ(values(up[0])[24], 24.f);
    // SAME_LOWER puts the pad first: output (0,0) sees only x(0,0).
    auto lo = run_op("MaxPool", {x}, {{"kernel_shape", attr_ints({2, 2})}, {"auto_pad", attr_string("SAME_LOWER")}});
    EXPECT_EQ(values(lo[0])[0], 0.f);
    EXPECT_EQ(values(lo[0])[6], 6.f);
    // SAME with stride 2: out ceil(5/2) = 3.
    auto s2 = run_op("MaxPool", {x}, {{"kernel_shape", attr_ints({3, 3})}, {"strides", attr_ints({2, 2})}, {"auto_pad", attr_string("SAME_UPPER")}});
    EXPECT_EQ(s2[0].shape(), (Shape{1, 1, 3, 3}));
    // Pads 1 before and after: windows start at -1, 1, 3.
    expect_near(values(s2[0]), {6, 8, 9, 16, 18, 19, 21, 23, 24});
    auto valid = run_op("MaxPool", {x}, {{"kernel_shape", attr_ints({3, 3})}, {"strides", attr_ints({2, 2})}, {"auto_pad", attr_string("VALID")}});
    EXPECT_EQ(valid[0].shape(), (Shape{1, 1, 2, 2}));
}

TEST(OpsPoolMax, IndicesRowAndColumnMajor) {
    Tensor x = iota({2, 1, 3, 4});  // second batch plane starts at 12
    auto y = run_op("MaxPool", {x}, {{"kernel_shape", attr_ints({2, 2})}, {"strides", attr_ints({1, 2})}}, 2);
    EXPECT_EQ(y[0].shape(), (Shape{2, 1, 2, 2}));
    EXPECT_EQ(y[1].dtype(), DType::I64);
    const int64_t* idx = y[1].data<int64_t>();
    EXPECT_EQ(std::vector<int64_t>(idx, idx + 8), (std::vector<int64_t>{5, 7, 9, 11, 17, 19, 21, 23}));
    auto yc = run_op("MaxPool", {x}, {{"kernel_shape", attr_ints({2, 2})}, {"strides", attr_ints({1, 2})}, {"storage_order", attr_int(1)}}, 2);
    const int64_t* idc = yc[1].data<int64_t>();
    // (h, w) -> w * H + h with H = 3, plus 12 per plane.
    EXPECT_EQ(std::vector<int64_t>(idc, idc + 8), (std::vector<int64_t>{4, 10, 5, 11, 16, 22, 17, 23}));
}

TEST(OpsPoolMax, Uint8AndThreeD) {
    Tensor x = Tensor::from_vector<uint8_t>({1, 200, 3, 4, 5, 6}, {1, 1, 2, 3});
    auto y = run_op("MaxPool", {x}, {{"kernel_shape", attr_ints({2, 2})}});
    ASSERT_EQ(y[0].dtype(), DType::U8);
    EXPECT_EQ(y[0].data<uint8_t>()[0], 200);
    EXPECT_EQ(y[0].data<uint8_t>()[1], 200);
    auto y3 = run_op("MaxPool", {iota({1, 2, 2, 2, 2})}, {{"kernel_shape", attr_ints({2, 2, 2})}});
    EXPECT_EQ(y3[0].shape(), (Shape{1, 2, 1, 1, 1}));
    expect_near(values(y3[0]), {7, 15});
    EXPECT_THROW(run_op("MaxPool", {Tensor(DType::I64, {1, 1, 2, 2})}, {{"kernel_shape", attr_ints({2, 2})}}), Error);
    EXPECT_THROW(run_op("MaxPool", {iota({1, 1, 3, 3})}, {{"kernel_shape", attr_ints({2})}}), Error);
    EXPECT_THROW(run_op("MaxPool", {iota({1, 1, 3, 3})}, {{"kernel_shape", attr_ints({4, 4})}}), Error);
}

TEST(OpsPoolAverage, PadsWithAndWithoutCountIncludePad) {
    Tensor x = iota({1, 1, 3, 3}, 1);  // 1..9
    std::map<std::string, Attribute> a = {{"kernel_shape", attr_ints({2, 2})}, {"pads", attr_ints({1, 1, 1, 1})}, {"strides", attr_ints({2, 2})}};
    auto y = run_op("AveragePool", {x}, a);
    EXPECT_EQ(y[0].shape(), (Shape{1, 1, 2, 2}));
    // Windows: {1}, {2,3}, {4,7}, {5,6,8,9}.
    expect_near(values(y[0]), {1, 2.5f, 5.5f, 7});
    a["count_include_pad"] = attr_int(1);
    y = run_op("AveragePool", {x}, a);
    expect_near(values(y[0]), {0.25f, 1.25f, 2.75f, 7});
}

TEST(OpsPoolAverage, CeilModeDivisor) {
    Tensor x = iota({1, 1, 4, 4}, 1);
    auto y = run_op("AveragePool", {x}, {{"kernel_shape", attr_ints({3, 3})}, {"strides", attr_ints({2, 2})}, {"ceil_mode", attr_int(1)}});
    expect_near(values(y[0]), {6, 7.5f, 12, 13.5f});
    // count_include_pad counts the padded input, not the part of a ceil window beyond it:
    // 1-D, 4 wide, pad 1 both sides, kernel 3, stride 2, ceil -> windows at -1, 1, 3.
    Tensor x1 = iota({1, 1, 4}, 1);  // 1 2 3 4
    auto y1 = run_op("AveragePool", {x1}, {{"kernel_shape", attr_ints({3})}, {"strides", attr_ints({2})}, {"pads", attr_ints({1, 1})},
                                            {"ceil_mode", attr_int(1)}, {"count_include_pad", attr_int(1)}});
    EXPECT_EQ(y1[0].shape(), (Shape{1, 1, 3}));
    // [-1..1]: (0+1+2)/3, [1..3]: (2+3+4)/3, [3..5]: (4+0)/2 (position 5 is beyond the padded input).
    expect_near(values(y1[0]), {1, 3, 2});
}

TEST(OpsPoolAverage, RandomMatchesNaive2D) {
    std::mt19937 rng(4);
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    Tensor x(DType::F32, {2, 3, 9, 7});
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = dist(rng);
    const int64_t kh = 3, kw = 2, sh = 2, sw = 3, pt = 1, pl = 1, pb = 2, pr = 0;
    for (int include = 0; include < 2; ++include) {
        auto y = run_op("AveragePool", {x}, {{"kernel_shape", attr_ints({kh, kw})}, {"strides", attr_ints({sh, sw})},
                                              {"pads", attr_ints({pt, pl, pb, pr})}, {"count_include_pad", attr_int(include)}});
        auto m = run_op("MaxPool", {x}, {{"kernel_shape", attr_ints({kh, kw})}, {"strides", attr_ints({sh, sw})},
                                          {"pads", attr_ints({pt, pl, pb, pr})}});
        const int64_t oh = (9 + pt + pb - kh) / sh + 1, ow = (7 + pl + pr - kw) / sw + 1;
        ASSERT_EQ(y[0].shape(), (Shape{2, 3, oh, ow}));
        const float* xp = x.data<float>();
        for (int64_t pl_i = 0; pl_i < 6; ++pl_i)
            for (int64_t i = 0; i < oh; ++i)
                for (int64_t j = 0; j < ow; ++j) {
                    double sum = 0;
                    int n = 0;
                    float mx = -std::numeric_limits<float>::infinity();
                    for (int64_t a = 0; a < kh; ++a)
                        for (int64_t b = 0; b < kw; ++b) {
                            const int64_t h = i * sh - pt + a, w = j * sw - pl + b;
                            if (h < 0 || h >= 9 || w < 0 || w >= 7) {
                                n += include;
                                continue;
                            }
                            sum += xp[pl_i * 63 + h * 7 + w];
                            mx = std::max(mx, xp[pl_i * 63 + h * 7 + w]);
                            ++n;
                        }
                    EXPECT_NEAR(values(y[0])[size_t((pl_i * oh + i) * ow + j)], sum / n, 1e-5);
                    EXPECT_EQ(values(m[0])[size_t((pl_i * oh + i) * ow + j)], mx);
                }
    }
}

TEST(OpsPoolLp, LpPoolAndGlobal) {
    Tensor x = Tensor::from_vector<float>({3, -4, 0, 5, 12, 0}, {1, 1, 6});
    auto y = run_op("LpPool", {x}, {{"kernel_shape", attr_ints({2})}, {"strides", attr_ints({2})}});
    expect_near(values(y[0]), {5, 5, 12});
    auto g = run_op("GlobalLpPool", {x}, {{"p", attr_int(1)}});
    expect_near(values(g[0]), {24});
}

TEST(OpsPoolGlobal, AverageAndMax) {
    Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, -1, -2, -3, -5}, {1, 2, 2, 2});
    auto a = run_op("GlobalAveragePool", {x});
    EXPECT_EQ(a[0].shape(), (Shape{1, 2, 1, 1}));
    expect_near(values(a[0]), {2.5f, -2.75f});
    auto m = run_op("GlobalMaxPool", {x});
    EXPECT_EQ(m[0].shape(), (Shape{1, 2, 1, 1}));
    expect_near(values(m[0]), {4, -1});
    auto m1 = run_op("GlobalMaxPool", {x.reshaped({2, 4})});  // no spatial dims: identity
    EXPECT_EQ(m1[0].shape(), (Shape{2, 4}));
    EXPECT_THROW(run_op("GlobalAveragePool", {Tensor(DType::I32, {1, 2, 2})}), Error);
}

}  // namespace
}  // namespace edgecnn::test
