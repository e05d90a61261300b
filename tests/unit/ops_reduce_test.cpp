// Reductions, ArgMax/ArgMin and TopK.
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

// [2,3,2] holding 1..12.
Tensor cube() { return Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {2, 3, 2}); }

Tensor axes(std::vector<int64_t> a) {
    Shape s{int64_t(a.size())};
    return Tensor::from_vector<int64_t>(a, s);
}

TEST(OpsReduce, SumOverMiddleAxisWithAxesInput) {
    auto out = run_op("ReduceSum", {cube(), axes({1})}, {{"keepdims", attr_int(0)}}, 1, 13);
    EXPECT_EQ(out[0].shape(), (Shape{2, 2}));
    EXPECT_EQ(values<float>(out[0]), (std::vector<float>{9, 12, 27, 30}));
}

TEST(OpsReduce, EmptyAxesReduceAllOrNothing) {
    auto all = run_op("ReduceSum", {cube(), axes({})}, {}, 1, 13);
    EXPECT_EQ(all[0].shape(), (Shape{1, 1, 1}));
    EXPECT_EQ(values<float>(all[0]), (std::vector<float>{78}));
    auto none = run_op("ReduceSum", {cube(), axes({})}, {{"noop_with_empty_axes", attr_int(1)}}, 1, 13);
    EXPECT_EQ(none[0].shape(), (Shape{2, 3, 2}));
    EXPECT_EQ(values<float>(none[0]), values<float>(cube()));
    auto omitted = run_op("ReduceMax", {cube()}, {{"keepdims", attr_int(0)}}, 1, 18);
    EXPECT_EQ(omitted[0].shape(), Shape{});
    EXPECT_EQ(values<float>(omitted[0]), (std::vector<float>{12}));
}

TEST(OpsReduce, AxesAttributeBeforeOpset18) {
    auto mean = run_op("ReduceMean", {cube()}, {{"axes", attr_ints({0, 2})}}, 1, 13);
    EXPECT_EQ(mean[0].shape(), (Shape{1, 3, 1}));
    EXPECT_EQ(values<float>(mean[0]), (std::vector<float>{4.5f, 6.5f, 8.5f}));
    auto mn = run_op("ReduceMin", {cube()}, {{"axes", attr_ints({-1})}, {"keepdims", attr_int(0)}}, 1, 13);
    EXPECT_EQ(values<float>(mn[0]), (std::vector<float>{1, 3, 5, 7, 9, 11}));
    auto prod = run_op("ReduceProd", {cube()}, {{"axes", attr_ints({0})}, {"keepdims", attr_int(0)}}, 1, 13);
    EXPECT_EQ(values<float>(prod[0]), (std::vector<float>{7, 16, 27, 40, 55, 72}));
    EXPECT_THROW(run_op("ReduceMean", {cube()}, {{"axes", attr_ints({3})}}, 1, 13), Error);
}

TEST(OpsReduce, NormsAndLogSums) {
    Tensor x = Tensor::from_vector<float>({3, -4, 1000, 1000}, {2, 2});
    auto l1 = run_op("ReduceL1", {x}, {{"axes", attr_ints({1})}}, 1, 13);
    EXPECT_EQ(values<float>(l1[0]), (std::vector<float>{7, 2000}));
    auto l2 = run_op("ReduceL2", {x}, {{"axes", attr_ints({1})}}, 1, 13);
    EXPECT_FLOAT_EQ(values<float>(l2[0])[0], 5.f);
    auto ss = run_op("ReduceSumSquare", {x}, {{"axes", attr_ints({1})}}, 1, 13);
    EXPECT_EQ(values<float>(ss[0])[0], 25.f);
    auto lse = run_op("ReduceLogSumExp", {x}, {{"axes", attr_ints({1})}}, 1, 13);
    EXPECT_FLOAT_EQ(values<float>(lse[0])[0], std::log(std::exp(3.f) + std::exp(-4.f)));
    EXPECT_FLOAT_EQ(values<float>(lse[0])[1], 1000.f + std::log(2.f));  // no overflow
    Tensor p = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
    auto ls = run_op("ReduceLogSum", {p}, {{"axes", attr_ints({0})}}, 1, 13);
    EXPECT_FLOAT_EQ(values<float>(ls[0])[1], std::log(6.f));
}

TEST(OpsReduce, ZeroSizeReductionGivesIdentity) {
    Tensor x(DType::F32, {2, 0});
    auto s = run_op("ReduceSum", {x, axes({1})}, {}, 1, 13);
    EXPECT_EQ(s[0].shape(), (Shape{2, 1}));
    EXPECT_EQ(values<float>(s[0]), (std::vector<float>{0, 0}));
    auto m = run_op("ReduceMax", {x}, {{"axes", attr_ints({1})}}, 1, 13);
    EXPECT_EQ(values<float>(m[0])[0], -std::numeric_limits<float>::infinity());
    auto p = run_op("ReduceProd", {x}, {{"axes", attr_ints({1})}}, 1, 13);
    EXPECT_EQ(values<float>(p[0])[0], 1.f);
}

TEST(OpsReduce, IntegerSumAndMax) {
    Tensor x = Tensor::from_vector<int64_t>({5, -2, 7, 1, 9, -3}, {3, 2});
    auto s = run_op("ReduceSum", {x, axes({0})}, {{"keepdims", attr_int(0)}}, 1, 13);
    EXPECT_EQ(values<int64_t>(s[0]), (std::vector<int64_t>{21, -4}));
    auto m = run_op("ReduceMax", {x}, {{"axes", attr_ints({1})}, {"keepdims", attr_int(0)}}, 1, 13);
    EXPECT_EQ(values<int64_t>(m[0]), (std::vector<int64_t>{5, 7, 9}));
}

TEST(OpsReduce, AxesInputUnknownDefersInference) {
    Node node;
    node.op_type = "ReduceSum";
    node.inputs = {0, 1};
    node.outputs = {2};
    OpAttrs attrs(node, 13);
    auto k = OpRegistry::instance().find("ReduceSum")->factory(attrs);
    std::vector<ValueInfo> in(2), out(1);
    in[0].dtype = DType::F32;
    in[0].shape = {2, 3};
    in[1].dtype = DType::I64;
    in[1].shape = {1};
    EXPECT_FALSE(k->infer(in, out));
}

TEST(OpsReduce, ArgMaxArgMinTies) {
    // [2,3,2] over axis 1, with ties in the first column.
    Tensor x = Tensor::from_vector<float>({5, 1, 5, 3, 2, 3, 0, 0, 0, 0, 0, -1}, {2, 3, 2});
    auto first = run_op("ArgMax", {x}, {{"axis", attr_int(1)}}, 1, 13);
    EXPECT_EQ(first[0].dtype(), DType::I64);
    EXPECT_EQ(first[0].shape(), (Shape{2, 1, 2}));
    EXPECT_EQ(values<int64_t>(first[0]), (std::vector<int64_t>{0, 1, 0, 0}));
    auto last = run_op("ArgMax", {x}, {{"axis", attr_int(1)}, {"select_last_index", attr_int(1)}}, 1, 13);
    EXPECT_EQ(values<int64_t>(last[0]), (std::vector<int64_t>{1, 2, 2, 1}));
    auto mn = run_op("ArgMin", {x}, {{"axis", attr_int(-1)}, {"keepdims", attr_int(0)}}, 1, 13);
    EXPECT_EQ(mn[0].shape(), (Shape{2, 3}));
    EXPECT_EQ(values<int64_t>(mn[0]), (std::vector<int64_t>{1, 1, 0, 0, 0, 1}));
}

TEST(OpsReduce, TopKLargestAndSmallest) {
    // Along axis 0 of [4,2] (strided slices), with ties broken by lower index.
    Tensor x = Tensor::from_vector<float>({1, 8, 7, 2, 7, 6, 3, 2}, {4, 2});
    Tensor k = Tensor::from_vector<int64_t>({2}, {1});
    auto big = run_op("TopK", {x, k}, {{"axis", attr_int(0)}}, 2, 11);
    EXPECT_EQ(big[0].shape(), (Shape{2, 2}));
    EXPECT_EQ(values<float>(big[0]), (std::vector<float>{7, 8, 7, 6}));
    EXPECT_EQ(values<int64_t>(big[1]), (std::vector<int64_t>{1, 0, 2, 2}));
    auto small = run_op("TopK", {x, k}, {{"axis", attr_int(0)}, {"largest", attr_int(0)}}, 2, 11);
    EXPECT_EQ(values<float>(small[0]), (std::vector<float>{1, 2, 3, 2}));
    EXPECT_EQ(values<int64_t>(small[1]), (std::vector<int64_t>{0, 1, 3, 3}));
    // Opset 1: k is an attribute, axis defaults to the last.
    auto old = run_op("TopK", {x}, {{"k", attr_int(1)}}, 2, 1);
    EXPECT_EQ(values<float>(old[0]), (std::vector<float>{8, 7, 7, 3}));
    Tensor too_big = Tensor::from_vector<int64_t>({5}, {1});
    EXPECT_THROW(run_op("TopK", {x, too_big}, {{"axis", attr_int(0)}}, 2, 11), Error);
}

TEST(OpsReduce, TopKNeedsKToInferShape) {
    Node node;
    node.op_type = "TopK";
    node.inputs = {0, 1};
    node.outputs = {2, 3};
    OpAttrs attrs(node, 11);
    auto kernel = OpRegistry::instance().find("TopK")->factory(attrs);
    std::vector<ValueInfo> in(2), out(2);
    in[0].dtype = DType::F32;
    in[0].shape = {3, 4};
    in[1].dtype = DType::I64;
    in[1].shape = {1};
    EXPECT_FALSE(kernel->infer(in, out));
}

}  // namespace
}  // namespace edgecnn::test
