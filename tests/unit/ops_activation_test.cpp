// Activations, PRelu and Softmax/LogSoftmax in both axis conventions.
#include <cmath>
#include <limits>

#include "op_test_util.hpp"

namespace edgecnn::test {
namespace {

std::vector<float> fvals(const Tensor& t) {
    const float* p = t.data<float>();
    return std::vector<float>(p, p + t.numel());
}

void expect_near(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-6f) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

TEST(OpsActivation, ReluKeepsNaNAndSupportsInt) {
    Tensor x = Tensor::from_vector<float>({-1, 0, 2, std::nanf("")}, {4});
    auto r = fvals(run_op("Relu", {x})[0]);
    EXPECT_EQ(r[0], 0.f);
    EXPECT_EQ(r[2], 2.f);
    EXPECT_TRUE(std::isnan(r[3]));
    Tensor i = Tensor::from_vector<int32_t>({-5, 5}, {2});
    auto ri = run_op("Relu", {i});
    EXPECT_EQ(ri[0].data<int32_t>()[0], 0);
    EXPECT_EQ(ri[0].data<int32_t>()[1], 5);
}

TEST(OpsActivation, PointwiseValues) {
    Tensor x = Tensor::from_vector<float>({-2, 0, 3}, {3});
    EXPECT_EQ(fvals(run_op("LeakyRelu", {x}, {{"alpha", attr_float(0.5f)}})[0]), (std::vector<float>{-1, 0, 3}));
    expect_near(fvals(run_op("HardSigmoid", {x})[0]), {0.1f, 0.5f, 1.f});
    expect_near(fvals(run_op("HardSwish", {x})[0]), {-1.f / 3, 0.f, 3.f});
    EXPECT_EQ(fvals(run_op("Softsign", {x})[0]), (std::vector<float>{-2.f / 3, 0.f, 0.75f}));
    EXPECT_EQ(fvals(run_op("ThresholdedRelu", {x}, {{"alpha", attr_float(2.f)}})[0]),
              (std::vector<float>{0, 0, 3}));
    auto elu = fvals(run_op("Elu", {x}, {{"alpha", attr_float(2.f)}})[0]);
    EXPECT_FLOAT_EQ(elu[0], 2.f * (std::exp(-2.f) - 1.f));
    EXPECT_EQ(elu[2], 3.f);
    auto selu = fvals(run_op("Selu", {x})[0]);
    EXPECT_NEAR(selu[0], 1.0507f * 1.67326f * (std::exp(-2.f) - 1.f), 1e-4);
    EXPECT_NEAR(selu[2], 3.f * 1.0507010f, 1e-5);
    auto th = fvals(run_op("Tanh", {x})[0]);
    EXPECT_FLOAT_EQ(th[0], std::tanh(-2.f));
}

TEST(OpsActivation, SigmoidAndSoftplusAtExtremes) {
    Tensor x = Tensor::from_vector<float>({-1000, -1, 0, 1, 1000}, {5});
    auto s = fvals(run_op("Sigmoid", {x})[0]);
    EXPECT_EQ(s[0], 0.f);
    EXPECT_FLOAT_EQ(s[1], 1.f / (1.f + std::exp(1.f)));
    EXPECT_EQ(s[2], 0.5f);
    EXPECT_EQ(s[4], 1.f);
    auto sp = fvals(run_op("Softplus", {x})[0]);
    EXPECT_EQ(sp[0], 0.f);
    EXPECT_FLOAT_EQ(sp[2], std::log(2.f));
    EXPECT_FLOAT_EQ(sp[3], std::log1p(std::exp(1.f)));
    EXPECT_EQ(sp[4], 1000.f);  // no overflow to inf
}

TEST(OpsActivation, GeluExactAndTanh) {
    Tensor x = Tensor::from_vector<float>({-1, 0, 2}, {3});
    auto g = fvals(run_op("Gelu", {x}, {}, 1, 20)[0]);
    EXPECT_NEAR(g[0], -0.15865526f, 1e-6);
    EXPECT_EQ(g[1], 0.f);
    EXPECT_NEAR(g[2], 1.9544997f, 1e-6);
    auto t = fvals(run_op("Gelu", {x}, {{"approximate", attr_string("tanh")}}, 1, 20)[0]);
    EXPECT_NEAR(t[0], -0.15880801f, 1e-6);
    EXPECT_THROW(run_op("Gelu", {x}, {{"approximate", attr_string("erf")}}, 1, 20), Error);
}

TEST(OpsActivation, PReluSlopeBroadcastsToX) {
    Tensor x = Tensor::from_vector<float>({-1, 2, -3, 4, -5, 6}, {1, 3, 2});
    Tensor slope = Tensor::from_vector<float>({0.5f, 0.f, 2.f}, {3, 1});
    EXPECT_EQ(fvals(run_op("PRelu", {x, slope})[0]), (std::vector<float>{-0.5f, 2, 0, 4, -10, 6}));
    // A slope bigger than X would broadcast X, which PRelu forbids.
    Tensor wide(DType::F32, {2, 3, 2});
    EXPECT_THROW(run_op("PRelu", {x, wide}), Error);
}

TEST(OpsActivation, SoftmaxPerAxisFromOpset13) {
    // [2,3,2] over axis 1: each (n, w) column of 3 is normalised.
    Tensor x = Tensor::from_vector<float>({0, 10, 1, 10, 2, 10, 0, 0, 0, 0, 0, 0}, {2, 3, 2});
    auto y = fvals(run_op("Softmax", {x}, {{"axis", attr_int(1)}}, 1, 13)[0]);
    const float e0 = 1.f / (1 + std::exp(1.f) + std::exp(2.f));
    EXPECT_FLOAT_EQ(y[0], e0);
    EXPECT_FLOAT_EQ(y[2], std::exp(1.f) * e0);
    EXPECT_FLOAT_EQ(y[4], std::exp(2.f) * e0);
    EXPECT_FLOAT_EQ(y[1], 1.f / 3);
    EXPECT_FLOAT_EQ(y[6], 1.f / 3);
    // Default axis -1: pairs.
    auto d = fvals(run_op("Softmax", {x}, {}, 1, 13)[0]);
    EXPECT_FLOAT_EQ(d[0], 1.f / (1 + std::exp(10.f)));
    EXPECT_FLOAT_EQ(d[6], 0.5f);
}

TEST(OpsActivation, SoftmaxCoercesTo2DBeforeOpset13) {
    // Opset 11, axis 1 on [2,3,2]: each batch row of 6 is one distribution.
    Tensor x = Tensor::from_vector<float>({0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}, {2, 3, 2});
    auto y = fvals(run_op("Softmax", {x}, {}, 1, 11)[0]);
    for (float v : y) EXPECT_FLOAT_EQ(v, 1.f / 6);
    auto l = fvals(run_op("LogSoftmax", {x}, {{"axis", attr_int(2)}}, 1, 11)[0]);
    for (float v : l) EXPECT_FLOAT_EQ(v, -std::log(2.f));
    EXPECT_THROW(run_op("Softmax", {x}, {{"axis", attr_int(3)}}, 1, 13), Error);
}

TEST(OpsActivation, LogSoftmaxLargeNumbersStayFinite) {
    Tensor x = Tensor::from_vector<float>({1000, 1001, 1002}, {1, 3});
    auto y = fvals(run_op("LogSoftmax", {x}, {}, 1, 13)[0]);
    const float lse = std::log(std::exp(-2.f) + std::exp(-1.f) + 1.f);
    EXPECT_NEAR(y[0], -2.f - lse, 1e-5);
    EXPECT_NEAR(y[2], -lse, 1e-5);
    auto s = fvals(run_op("Softmax", {x}, {}, 1, 13)[0]);
    EXPECT_NEAR(s[0] + s[1] + s[2], 1.f, 1e-6);
}

TEST(OpsActivation, HardmaxAndShrink) {
    Tensor x = Tensor::from_vector<float>({3, 1, 3, 0, 5, 2}, {2, 3});
    EXPECT_EQ(fvals(run_op("Hardmax", {x}, {}, 1, 13)[0]), (std::vector<float>{1, 0, 0, 0, 1, 0}));
    EXPECT_EQ(fvals(run_op("Hardmax", {x}, {{"axis", attr_int(0)}}, 1, 13)[0]),
              (std::vector<float>{1, 0, 1, 0, 1, 0}));
    Tensor s = Tensor::from_vector<float>({-2, -0.5f, 0.25f, 2}, {4});
    EXPECT_EQ(fvals(run_op("Shrink", {s}, {{"lambd", attr_float(1.f)}, {"bias", attr_float(0.5f)}})[0]),
              (std::vector<float>{-1.5f, 0, 0, 1.5f}));
}

TEST(OpsActivation, RejectsIntegerSoftmax) {
    Tensor x = Tensor::from_vector<int32_t>({1, 2}, {2});
    try {
        run_op("Softmax", {x});
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    }
}

}  // namespace
}  // namespace edgecnn::test
