// Elementwise ops: broadcasting, dtypes, integer semantics, Cast, Clip, Where.
#include <cmath>
#include <limits>

#include "op_test_util.hpp"

namespace edgecnn::test {
namespace {

template <class T>
std::vector<T> values(const Tensor& t) {
    const T* p = t.data<T>();
    return std::vector<T>(p, p + t.numel());
}

TEST(OpsElementwise, AddBroadcastsRowVector) {
    Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
    Tensor b = Tensor::from_vector<float>({10, 20, 30}, {3});
    auto out = run_op("Add", {a, b});
    EXPECT_EQ(out[0].shape(), (Shape{2, 3}));
    EXPECT_EQ(values<float>(out[0]), (std::vector<float>{11, 22, 33, 14, 25, 36}));
}

TEST(OpsElementwise, AddBroadcastsBothWays) {
    // [2,1,3] + [4,1] -> [2,4,3]: each operand is repeated along a different dim.
    Tensor a = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 1, 3});
    Tensor b = Tensor::from_vector<float>({100, 200, 300, 400}, {4, 1});
    auto out = run_op("Add", {a, b});
    ASSERT_EQ(out[0].shape(), (Shape{2, 4, 3}));
    const float* o = out[0].data<float>();
    EXPECT_EQ(o[0], 100.f);
    EXPECT_EQ(o[2], 102.f);
    EXPECT_EQ(o[3], 200.f);    // [0,1,0]
    EXPECT_EQ(o[11], 402.f);   // [0,3,2]
    EXPECT_EQ(o[12], 103.f);   // [1,0,0]
    EXPECT_EQ(o[23], 405.f);   // [1,3,2]
}

TEST(OpsElementwise, MulPerChannelAndScalarFirst) {
    Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 2, 2});
    Tensor s = Tensor::from_vector<float>({10, -1}, {2, 1, 1});
    EXPECT_EQ(values<float>(run_op("Mul", {x, s})[0]), (std::vector<float>{10, 20, 30, 40, -5, -6, -7, -8}));
    Tensor c = Tensor::scalar<float>(2.f);
    EXPECT_EQ(values<float>(run_op("Sub", {c, x})[0]), (std::vector<float>{1, 0, -1, -2, -3, -4, -5, -6}));
}

TEST(OpsElementwise, IncompatibleShapesAreRejected) {
    Tensor a(DType::F32, {2, 3});
    Tensor b(DType::F32, {2});
    EXPECT_THROW(run_op("Add", {a, b}), Error);
    Tensor c(DType::I64, {2, 3});
    EXPECT_THROW(run_op("Add", {a, c}), Error);  // mixed dtypes
}

TEST(OpsElementwise, IntegerDivisionTruncatesTowardZero) {
    Tensor a = Tensor::from_vector<int64_t>({-7, 7, -7, 7, std::numeric_limits<int64_t>::min()}, {5});
    Tensor b = Tensor::from_vector<int64_t>({2, 2, -2, -2, -1}, {5});
    EXPECT_EQ(values<int64_t>(run_op("Div", {a, b})[0]),
              (std::vector<int64_t>{-3, 3, 3, -3, std::numeric_limits<int64_t>::min()}));
    Tensor z = Tensor::from_vector<int64_t>({1, 0, 1, 1, 1}, {5});
    EXPECT_THROW(run_op("Div", {a, z}), Error);
}

TEST(OpsElementwise, Uint8ArithmeticWraps) {
    Tensor a = Tensor::from_vector<uint8_t>({250, 3}, {2});
    Tensor b = Tensor::from_vector<uint8_t>({10, 5}, {2});
    EXPECT_EQ(values<uint8_t>(run_op("Add", {a, b})[0]), (std::vector<uint8_t>{4, 8}));
    EXPECT_EQ(values<uint8_t>(run_op("Sub", {a, b})[0]), (std::vector<uint8_t>{240, 254}));
}

TEST(OpsElementwise, PowMixedTypes) {
    Tensor x = Tensor::from_vector<float>({2, 3, -2}, {3});
    Tensor e = Tensor::from_vector<int64_t>({3, 0, 2}, {3});
    EXPECT_EQ(values<float>(run_op("Pow", {x, e})[0]), (std::vector<float>{8, 1, 4}));
    Tensor two = Tensor::scalar<float>(2.f);
    EXPECT_EQ(values<float>(run_op("Pow", {x, two})[0]), (std::vector<float>{4, 9, 4}));
    Tensor half = Tensor::scalar<float>(0.5f);
    auto r = values<float>(run_op("Pow", {x, half})[0]);
    EXPECT_FLOAT_EQ(r[0], std::sqrt(2.f));
    EXPECT_TRUE(std::isnan(r[2]));
    Tensor xi = Tensor::from_vector<int32_t>({2, -3, 5}, {3});
    Tensor ei = Tensor::from_vector<int32_t>({10, 3, -1}, {3});
    EXPECT_EQ(values<int32_t>(run_op("Pow", {xi, ei})[0]), (std::vector<int32_t>{1024, -27, 0}));
    Tensor ef = Tensor::from_vector<float>({0.5f, 2.f, 1.f}, {3});
    EXPECT_EQ(values<int32_t>(run_op("Pow", {xi, ef})[0]), (std::vector<int32_t>{1, 9, 5}));
}

TEST(OpsElementwise, VariadicMaxMinSumMean) {
    Tensor a = Tensor::from_vector<float>({1, 5, 3}, {3});
    Tensor b = Tensor::from_vector<float>({4}, {1});
    Tensor c = Tensor::from_vector<float>({0, 0, 0, 9, 9, 9}, {2, 3});
    EXPECT_EQ(values<float>(run_op("Max", {a, b, c})[0]), (std::vector<float>{4, 5, 4, 9, 9, 9}));
    EXPECT_EQ(values<float>(run_op("Min", {a, b, c})[0]), (std::vector<float>{0, 0, 0, 1, 4, 3}));
    EXPECT_EQ(values<float>(run_op("Sum", {a, b, c})[0]), (std::vector<float>{5, 9, 7, 14, 18, 16}));
    auto mean = values<float>(run_op("Mean", {a, b, c})[0]);
    EXPECT_FLOAT_EQ(mean[0], 5.f / 3);
    EXPECT_FLOAT_EQ(mean[4], 6.f);
    EXPECT_EQ(values<float>(run_op("Sum", {a})[0]), (std::vector<float>{1, 5, 3}));
    Tensor n = Tensor::from_vector<float>({std::nanf(""), 1, 2}, {3});
    auto m = values<float>(run_op("Max", {a, n})[0]);
    EXPECT_TRUE(std::isnan(m[0]));
    EXPECT_EQ(m[1], 5.f);
    Tensor i = Tensor::from_vector<int32_t>({-4, 8}, {2});
    Tensor j = Tensor::from_vector<int32_t>({3}, {1});
    EXPECT_EQ(values<int32_t>(run_op("Max", {i, j})[0]), (std::vector<int32_t>{3, 8}));
}

TEST(OpsElementwise, Float16IsComputedThroughFloat) {
    Tensor a(DType::F16, {2});
    Tensor b(DType::F16, {2});
    auto* pa = static_cast<uint16_t*>(a.raw());
    auto* pb = static_cast<uint16_t*>(b.raw());
    pa[0] = float_to_half(1.5f);
    pa[1] = float_to_half(-2.f);
    pb[0] = float_to_half(0.25f);
    pb[1] = float_to_half(-3.f);
    auto out = run_op("Max", {a, b});
    ASSERT_EQ(out[0].dtype(), DType::F16);
    const auto* o = static_cast<const uint16_t*>(out[0].raw());
    EXPECT_EQ(half_to_float(o[0]), 1.5f);
    EXPECT_EQ(half_to_float(o[1]), -2.f);
    auto sum = run_op("Add", {a, b});
    EXPECT_EQ(half_to_float(static_cast<const uint16_t*>(sum[0].raw())[0]), 1.75f);
}

TEST(OpsElementwise, ComparisonsGiveBool) {
    Tensor a = Tensor::from_vector<int64_t>({1, 2, 3, 4, 5, 6}, {2, 3});
    Tensor b = Tensor::from_vector<int64_t>({2, 2, 7}, {3});
    auto eq = run_op("Equal", {a, b});
    ASSERT_EQ(eq[0].dtype(), DType::Bool);
    EXPECT_EQ(values<bool>(eq[0]), (std::vector<bool>{false, true, false, false, false, false}));
    EXPECT_EQ(values<bool>(run_op("Less", {a, b})[0]), (std::vector<bool>{true, false, true, false, false, true}));
    EXPECT_EQ(values<bool>(run_op("GreaterOrEqual", {a, b})[0]),
              (std::vector<bool>{false, true, false, true, true, false}));
    Tensor f = Tensor::from_vector<float>({std::nanf(""), 1.f}, {2});
    EXPECT_EQ(values<bool>(run_op("Equal", {f, f})[0]), (std::vector<bool>{false, true}));
}

TEST(OpsElementwise, BooleanLogic) {
    Tensor a = Tensor::from_vector<bool>({true, true, false, false}, {2, 2});
    Tensor b = Tensor::from_vector<bool>({true, false}, {2});
    EXPECT_EQ(values<bool>(run_op("And", {a, b})[0]), (std::vector<bool>{true, false, false, false}));
    EXPECT_EQ(values<bool>(run_op("Or", {a, b})[0]), (std::vector<bool>{true, true, true, false}));
    EXPECT_EQ(values<bool>(run_op("Xor", {a, b})[0]), (std::vector<bool>{false, true, true, false}));
    EXPECT_EQ(values<bool>(run_op("Not", {a})[0]), (std::vector<bool>{false, false, true, true}));
    Tensor f(DType::F32, {2});
    EXPECT_THROW(run_op("And", {f, f}), Error);
}

TEST(OpsElementwise, WhereBroadcastsAllThree) {
    Tensor c = Tensor::from_vector<bool>({true, false}, {2, 1});
    Tensor x = Tensor::from_vector<int64_t>({1, 2, 3}, {3});
    Tensor y = Tensor::scalar<int64_t>(-1);
    auto out = run_op("Where", {c, x, y});
    ASSERT_EQ(out[0].shape(), (Shape{2, 3}));
    EXPECT_EQ(values<int64_t>(out[0]), (std::vector<int64_t>{1, 2, 3, -1, -1, -1}));
}

TEST(OpsElementwise, UnaryMath) {
    Tensor x = Tensor::from_vector<float>({4, 0.25f, 2.5f, -1.5f}, {2, 2});
    auto s = values<float>(run_op("Sqrt", {x})[0]);
    EXPECT_EQ(s[0], 2.f);
    EXPECT_EQ(s[1], 0.5f);
    EXPECT_TRUE(std::isnan(s[3]));
    EXPECT_EQ(values<float>(run_op("Floor", {x})[0]), (std::vector<float>{4, 0, 2, -2}));
    EXPECT_EQ(values<float>(run_op("Ceil", {x})[0]), (std::vector<float>{4, 1, 3, -1}));
    EXPECT_EQ(values<float>(run_op("Round", {x})[0]), (std::vector<float>{4, 0, 2, -2}));  // half to even
    EXPECT_EQ(values<float>(run_op("Reciprocal", {x})[0]), (std::vector<float>{0.25f, 4, 0.4f, -1 / 1.5f}));
    EXPECT_EQ(values<float>(run_op("Neg", {x})[0]), (std::vector<float>{-4, -0.25f, -2.5f, 1.5f}));
    EXPECT_FLOAT_EQ(values<float>(run_op("Exp", {x})[0])[3], std::exp(-1.5f));
    EXPECT_FLOAT_EQ(values<float>(run_op("Erf", {x})[0])[2], std::erf(2.5f));
    Tensor i = Tensor::from_vector<int32_t>({-3, 0, 7}, {3});
    EXPECT_EQ(values<int32_t>(run_op("Abs", {i})[0]), (std::vector<int32_t>{3, 0, 7}));
    EXPECT_EQ(values<int32_t>(run_op("Sign", {i})[0]), (std::vector<int32_t>{-1, 0, 1}));
    EXPECT_THROW(run_op("Sqrt", {i}), Error);  // float-only op on int
    Tensor u = Tensor::from_vector<uint8_t>({1}, {1});
    EXPECT_THROW(run_op("Neg", {u}), Error);
}

TEST(OpsElementwise, CastBetweenTypes) {
    Tensor f = Tensor::from_vector<float>({-1.7f, 0.f, 2.9f, 300.f}, {4});
    auto i = run_op("Cast", {f}, {{"to", attr_int(int64_t(DType::I32))}});
    ASSERT_EQ(i[0].dtype(), DType::I32);
    EXPECT_EQ(values<int32_t>(i[0]), (std::vector<int32_t>{-1, 0, 2, 300}));
    auto b = run_op("Cast", {f}, {{"to", attr_int(int64_t(DType::Bool))}});
    EXPECT_EQ(values<bool>(b[0]), (std::vector<bool>{true, false, true, true}));
    auto h = run_op("Cast", {f}, {{"to", attr_int(int64_t(DType::F16))}});
    ASSERT_EQ(h[0].dtype(), DType::F16);
    auto back = run_op("Cast", {h[0]}, {{"to", attr_int(int64_t(DType::F64))}});
    EXPECT_EQ(values<double>(back[0]), (std::vector<double>{-1.7001953125, 0, 2.900390625, 300}));
    Tensor big = Tensor::from_vector<int64_t>({(int64_t(1) << 40) + 1}, {1});
    auto d = run_op("Cast", {big}, {{"to", attr_int(int64_t(DType::F64))}});
    EXPECT_EQ(values<double>(d[0])[0], double((int64_t(1) << 40) + 1));
    auto like = run_op("CastLike", {f, Tensor::scalar<int64_t>(0)}, {}, 1, 15);
    EXPECT_EQ(values<int64_t>(like[0]), (std::vector<int64_t>{-1, 0, 2, 300}));
    try {
        run_op("Cast", {f}, {{"to", attr_int(8)}});  // string
        FAIL() << "cast to string should be unsupported";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    }
}

TEST(OpsElementwise, ClipInputsAndAttributes) {
    Tensor x = Tensor::from_vector<float>({-5, -1, 0, 1, 5}, {5});
    Tensor lo = Tensor::scalar<float>(-2.f);
    Tensor hi = Tensor::scalar<float>(2.f);
    EXPECT_EQ(values<float>(run_op("Clip", {x, lo, hi})[0]), (std::vector<float>{-2, -1, 0, 1, 2}));
    EXPECT_EQ(values<float>(run_op("Clip", {x, Tensor(), hi})[0]), (std::vector<float>{-5, -1, 0, 1, 2}));
    EXPECT_EQ(values<float>(run_op("Clip", {x, lo})[0]), (std::vector<float>{-2, -1, 0, 1, 5}));
    // Opset 6: bounds are attributes.
    auto old = run_op("Clip", {x}, {{"min", attr_float(0.f)}, {"max", attr_float(1.f)}}, 1, 6);
    EXPECT_EQ(values<float>(old[0]), (std::vector<float>{0, 0, 0, 1, 1}));
    // int8 with only a max.
    Tensor xi = Tensor::from_vector<int8_t>({-128, 0, 127}, {3});
    Tensor hi8 = Tensor::scalar<int8_t>(10);
    EXPECT_EQ(values<int8_t>(run_op("Clip", {xi, Tensor(), hi8})[0]), (std::vector<int8_t>{-128, 0, 10}));
    // Mismatched bound dtype is invalid.
    EXPECT_THROW(run_op("Clip", {x, Tensor::scalar<double>(0.0)}), Error);
}

TEST(OpsElementwise, ModFollowsDivisorOrDividendSign) {
    Tensor a = Tensor::from_vector<int32_t>({-7, 7, -7, 7}, {4});
    Tensor b = Tensor::from_vector<int32_t>({3, -3, -3, 3}, {4});
    EXPECT_EQ(values<int32_t>(run_op("Mod", {a, b})[0]), (std::vector<int32_t>{2, -2, -1, 1}));
    EXPECT_EQ(values<int32_t>(run_op("Mod", {a, b}, {{"fmod", attr_int(1)}})[0]),
              (std::vector<int32_t>{-1, 1, -1, 1}));
    Tensor f = Tensor::from_vector<float>({-7.5f, 7.5f}, {2});
    Tensor g = Tensor::scalar<float>(2.f);
    EXPECT_EQ(values<float>(run_op("Mod", {f, g}, {{"fmod", attr_int(1)}})[0]), (std::vector<float>{-1.5f, 1.5f}));
    Tensor z = Tensor::from_vector<int32_t>({0, 1, 1, 1}, {4});
    EXPECT_THROW(run_op("Mod", {a, z}), Error);
}

TEST(OpsElementwise, BitShiftAndFloatClasses) {
    Tensor x = Tensor::from_vector<uint8_t>({1, 255, 16}, {3});
    Tensor s = Tensor::from_vector<uint8_t>({3, 1, 9}, {3});
    EXPECT_EQ(values<uint8_t>(run_op("BitShift", {x, s}, {{"direction", attr_string("LEFT")}})[0]),
              (std::vector<uint8_t>{8, 254, 0}));
    EXPECT_EQ(values<uint8_t>(run_op("BitShift", {x, s}, {{"direction", attr_string("RIGHT")}})[0]),
              (std::vector<uint8_t>{0, 127, 0}));
    const float inf = std::numeric_limits<float>::infinity();
    Tensor f = Tensor::from_vector<float>({-inf, inf, std::nanf(""), 1.f}, {4});
    EXPECT_EQ(values<bool>(run_op("IsNaN", {f})[0]), (std::vector<bool>{false, false, true, false}));
    EXPECT_EQ(values<bool>(run_op("IsInf", {f}, {{"detect_negative", attr_int(0)}})[0]),
              (std::vector<bool>{false, true, false, false}));
}

}  // namespace
}  // namespace edgecnn::test
