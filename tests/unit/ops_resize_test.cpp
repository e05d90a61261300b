// Resize / Upsample: hand-computed coordinates for each transformation mode and filter.
#include "op_test_util.hpp"

namespace edgecnn {
namespace {

using test::attr_float;
using test::attr_floats;
using test::attr_int;
using test::attr_string;
using test::run_op;

std::vector<float> values(const Tensor& t) { return std::vector<float>(t.data<float>(), t.data<float>() + t.numel()); }
Tensor f32(std::vector<float> v, Shape s) { return Tensor::from_vector<float>(v, std::move(s)); }
Tensor sizes(std::vector<int64_t> v) {
    int64_t n = int64_t(v.size());
    return Tensor::from_vector<int64_t>(v, {n});
}
Tensor scales(std::vector<float> v) {
    int64_t n = int64_t(v.size());
    return Tensor::from_vector<float>(v, {n});
}

void expect_near(const std::vector<float>& got, const std::vector<float>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5f) << "at " << i;
}

TEST(Resize, UpsampleNearestAttrAndInput) {
    Tensor x = f32({1, 2, 3, 4}, {1, 1, 2, 2});
    const std::vector<float> want = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
    auto a = run_op("Upsample", {x}, {{"scales", attr_floats({1, 1, 2, 3})}}, 1, 7);
    EXPECT_EQ(a[0].shape(), (Shape{1, 1, 4, 6}));
    EXPECT_EQ(values(a[0]), want);
    auto b = run_op("Upsample", {x, scales({1, 1, 2, 3})}, {{"mode", attr_string("nearest")}}, 1, 9);
    EXPECT_EQ(values(b[0]), want);
}

TEST(Resize, UpsampleLinearIsAsymmetric) {
    // x_src = j / 2: 0, 0.5, 1, 1.5 (clamped to the edge).
    auto y = run_op("Upsample", {f32({1, 3}, {1, 2}), scales({1, 2})}, {{"mode", attr_string("linear")}}, 1, 9);
    expect_near(values(y[0]), {1, 2, 3, 3});
}

TEST(Resize, LinearHalfPixelAndAlignCorners) {
    Tensor x = f32({1, 2}, {1, 1, 1, 2});
    // half_pixel: x_src = (j + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25.
    auto h = run_op("Resize", {x, Tensor(), Tensor(), sizes({1, 1, 1, 4})}, {{"mode", attr_string("linear")}}, 1, 13);
    EXPECT_EQ(h[0].shape(), (Shape{1, 1, 1, 4}));
    expect_near(values(h[0]), {1, 1.25f, 1.75f, 2});
    // 2x2 -> 3x3 with align_corners: corners kept, centre is the mean.
    auto a = run_op("Resize", {f32({1, 2, 3, 4}, {1, 1, 2, 2}), Tensor(), Tensor(), sizes({1, 1, 3, 3})},
                    {{"mode", attr_string("linear")}, {"coordinate_transformation_mode", attr_string("align_corners")}},
                    1, 13);
    expect_near(values(a[0]), {1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4});
}

TEST(Resize, PytorchHalfPixelSingleOutput) {
    // Output length 1 samples position 0 under pytorch_half_pixel (half_pixel would give 0.5).
    Tensor x = f32({1, 3}, {2});
    auto p = run_op("Resize", {x, Tensor(), Tensor(), sizes({1})},
                    {{"mode", attr_string("linear")}, {"coordinate_transformation_mode", attr_string("pytorch_half_pixel")}},
                    1, 13);
    expect_near(values(p[0]), {1});
    auto h = run_op("Resize", {x, Tensor(), Tensor(), sizes({1})}, {{"mode", attr_string("linear")}}, 1, 13);
    expect_near(values(h[0]), {2});
}

TEST(Resize, NearestModesAndDownsample) {
    Tensor x = f32({10, 20, 30, 40, 50}, {5});
    // asymmetric, scale 2 on 5 -> 10; x_src = j/2; round_prefer_floor keeps 0.5 -> 0, prefer_ceil -> 1.
    auto fl = run_op("Resize", {x, Tensor(), scales({2})},
                     {{"coordinate_transformation_mode", attr_string("asymmetric")}}, 1, 13);
    EXPECT_EQ(values(fl[0]), (std::vector<float>{10, 10, 20, 20, 30, 30, 40, 40, 50, 50}));
    auto ce = run_op("Resize", {x, Tensor(), scales({2})},
                     {{"coordinate_transformation_mode", attr_string("asymmetric")},
                      {"nearest_mode", attr_string("round_prefer_ceil")}},
                     1, 13);
    EXPECT_EQ(values(ce[0]), (std::vector<float>{10, 20, 20, 30, 30, 40, 40, 50, 50, 50}));
    // Downsample 5 -> 2 (scale 0.5 -> floor(2.5) = 2), half_pixel: x_src = 0.5, 2.5; ceil picks 1 and 3.
    auto dn = run_op("Resize", {x, Tensor(), scales({0.5f})}, {{"nearest_mode", attr_string("ceil")}}, 1, 13);
    EXPECT_EQ(values(dn[0]), (std::vector<float>{20, 40}));
}

TEST(Resize, NearestWorksOnInt64) {
    Tensor x = Tensor::from_vector<int64_t>({7, 9}, {2});
    auto y = run_op("Resize", {x, Tensor(), scales({2})}, {{"nearest_mode", attr_string("floor")}}, 1, 13);
    const int64_t* p = y[0].data<int64_t>();
    EXPECT_EQ(std::vector<int64_t>(p, p + 4), (std::vector<int64_t>{7, 7, 7, 9}));  // x_src = -0.25, .25, .75, 1.25
}

TEST(Resize, TfCropAndResizeExtrapolates) {
    // roi [0.5, 1.5] on 3 values: x_src = 1 + j * 1 * 2 / 2 = 1, 2, 3 -> the last is outside.
    Tensor x = f32({0, 10, 20}, {3});
    auto y = run_op("Resize", {x, f32({0.5f, 1.5f}, {2}), Tensor(), sizes({3})},
                    {{"mode", attr_string("linear")},
                     {"coordinate_transformation_mode", attr_string("tf_crop_and_resize")},
                     {"extrapolation_value", attr_float(-7)}},
                    1, 13);
    expect_near(values(y[0]), {10, 20, -7});
}

TEST(Resize, CubicTaps) {
    // asymmetric x2: x_src = j/2; at 1.5 the cubic (A=-0.75) weights are -0.09375, 0.59375, 0.59375, -0.09375.
    Tensor x = f32({0, 0, 1, 0}, {4});
    auto y = run_op("Resize", {x, Tensor(), scales({2})},
                    {{"mode", attr_string("cubic")}, {"coordinate_transformation_mode", attr_string("asymmetric")}}, 1,
                    13);
    auto v = values(y[0]);
    ASSERT_EQ(v.size(), 8u);
    EXPECT_NEAR(v[3], 0.59375f, 1e-6f);
    EXPECT_NEAR(v[4], 1.f, 1e-6f);
    EXPECT_NEAR(v[2], 0.f, 1e-6f);
    // exclude_outside renormalises taps that fall off the edge: at x_src = 0.5 (j=1) taps -1..2
    // weigh -0.09375, 0.59375, 0.59375, -0.09375; dropping index -1 leaves 1.09375 in total.
    auto e = run_op("Resize", {f32({1, 0, 0, 0}, {4}), Tensor(), scales({2})},
                    {{"mode", attr_string("cubic")},
                     {"coordinate_transformation_mode", attr_string("asymmetric")},
                     {"exclude_outside", attr_int(1)}},
                    1, 13);
    EXPECT_NEAR(values(e[0])[1], 0.59375f / 1.09375f, 1e-6f);
}

TEST(Resize, AntialiasLinearDownsample) {
    // scale 0.5: the triangle filter is twice as wide; x_src = 0.5 and 2.5 under half_pixel,
    // weights 1,3,3,1 / 8 on indices (-1..2) and (1..4), clamped to the edges.
    auto y = run_op("Resize", {f32({0, 1, 2, 3}, {4}), Tensor(), scales({0.5f})},
                    {{"mode", attr_string("linear")}, {"antialias", attr_int(1)}}, 1, 18);
    expect_near(values(y[0]), {0.625f, 2.375f});
}

TEST(Resize, Opset18AxesAndKeepAspectRatio) {
    Tensor x(DType::F32, {1, 1, 2, 4});
    // not_larger: scale = min(4/2, 4/4) = 1 -> sizes stay 2x4.
    auto y = run_op("Resize", {x, Tensor(), Tensor(), sizes({4, 4})},
                    {{"axes", test::attr_ints({2, 3})}, {"keep_aspect_ratio_policy", attr_string("not_larger")}}, 1,
                    18);
    EXPECT_EQ(y[0].shape(), (Shape{1, 1, 2, 4}));
    auto z = run_op("Resize", {x, Tensor(), Tensor(), sizes({4, 4})},
                    {{"axes", test::attr_ints({2, 3})}, {"keep_aspect_ratio_policy", attr_string("not_smaller")}}, 1,
                    18);
    EXPECT_EQ(z[0].shape(), (Shape{1, 1, 4, 8}));
}

TEST(Resize, RejectsBadInputs) {
    Tensor x = f32({1, 2}, {2});
    EXPECT_THROW(run_op("Resize", {x, Tensor(), scales({2}), sizes({4})}, {}, 1, 13), Error);  // both
    EXPECT_THROW(run_op("Resize", {x, Tensor(), scales({2, 2})}, {}, 1, 13), Error);          // wrong length
    EXPECT_THROW(run_op("Resize", {x}, {}, 1, 13), Error);                                    // neither
    try {
        run_op("Resize", {Tensor::from_vector<int64_t>({1}, {1}), Tensor(), scales({2})},
               {{"mode", attr_string("linear")}}, 1, 13);
        ADD_FAILURE() << "linear int64 should be unsupported";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    }
}

}  // namespace
}  // namespace edgecnn
