// Shape and data-movement ops: hand-checked values, odd shapes, int64/bool data.
#include <limits>

#include "op_test_util.hpp"

namespace edgecnn {
namespace {

using test::attr_float;
using test::attr_int;
using test::attr_ints;
using test::attr_string;
using test::run_op;

template <typename T>
std::vector<T> values(const Tensor& t) {
    const T* p = t.data<T>();
    return std::vector<T>(p, p + t.numel());
}

Tensor f32(std::vector<float> v, Shape s) { return Tensor::from_vector<float>(v, std::move(s)); }
Tensor i64(std::vector<int64_t> v, Shape s) { return Tensor::from_vector<int64_t>(v, std::move(s)); }
Tensor i64v(std::vector<int64_t> v) {
    int64_t n = int64_t(v.size());
    return Tensor::from_vector<int64_t>(v, {n});
}
// 0, 1, 2, ... as float in `shape`.
Tensor iota_f(Shape s) {
    Tensor t(DType::F32, std::move(s));
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = float(i);
    return t;
}

TEST(TensorOps, ConcatMiddleAxisAndEmptyInput) {
    auto y = run_op("Concat", {iota_f({2, 1, 2}), f32({}, {2, 0, 2}), f32({10, 11, 12, 13, 14, 15, 16, 17}, {2, 2, 2})},
                    {{"axis", attr_int(-2)}});
    EXPECT_EQ(y[0].shape(), (Shape{2, 3, 2}));
    EXPECT_EQ(values<float>(y[0]), (std::vector<float>{0, 1, 10, 11, 12, 13, 2, 3, 14, 15, 16, 17}));
}

TEST(TensorOps, ConcatInt64AndMismatch) {
    auto y = run_op("Concat", {i64v({1, 2}), i64v({3})}, {{"axis", attr_int(0)}});
    EXPECT_EQ(values<int64_t>(y[0]), (std::vector<int64_t>{1, 2, 3}));
    EXPECT_THROW(run_op("Concat", {iota_f({2, 2}), iota_f({3, 3})}, {{"axis", attr_int(0)}}), Error);
    EXPECT_THROW(run_op("Concat", {iota_f({2, 2}), i64({1, 2}, {1, 2})}, {{"axis", attr_int(0)}}), Error);
}

TEST(TensorOps, SplitEqualAttrAndInput) {
    auto y = run_op("Split", {iota_f({2, 6})}, {{"axis", attr_int(1)}}, 3);
    ASSERT_EQ(y.size(), 3u);
    EXPECT_EQ(y[1].shape(), (Shape{2, 2}));
    EXPECT_EQ(values<float>(y[1]), (std::vector<float>{2, 3, 8, 9}));
    // Opset 11: 'split' attribute; opset 13: input.
    auto a = run_op("Split", {iota_f({5})}, {{"split", attr_ints({2, 3})}}, 2, 11);
    EXPECT_EQ(values<float>(a[1]), (std::vector<float>{2, 3, 4}));
    auto b = run_op("Split", {iota_f({5}), i64v({1, 0, 4})}, {}, 3, 13);
    EXPECT_EQ(b[1].shape(), (Shape{0}));
    EXPECT_EQ(values<float>(b[2]), (std::vector<float>{1, 2, 3, 4}));
    EXPECT_THROW(run_op("Split", {iota_f({5})}, {}, 2, 13), Error);  // not divisible
    // Opset 18 num_outputs: chunks of ceil(5/3)=2, last is 1.
    auto c = run_op("Split", {iota_f({5})}, {{"num_outputs", attr_int(3)}}, 3, 18);
    EXPECT_EQ(values<float>(c[2]), (std::vector<float>{4}));
}

TEST(TensorOps, SliceInputsNegativeStepsAndSentinels) {
    const int64_t kMax = std::numeric_limits<int64_t>::max(), kMin = std::numeric_limits<int64_t>::min();
    Tensor x = iota_f({3, 4});
    // rows 2..0 backwards (end = INT64_MIN), columns 1.. with step 2.
    auto y = run_op("Slice", {x, i64v({-1, 1}), i64v({kMin, kMax}), i64v({0, 1}), i64v({-1, 2})});
    EXPECT_EQ(y[0].shape(), (Shape{3, 2}));
    EXPECT_EQ(values<float>(y[0]), (std::vector<float>{9, 11, 5, 7, 1, 3}));
    // Negative axis, default steps, start beyond the end -> empty.
    auto e = run_op("Slice", {x, i64v({10}), i64v({20}), i64v({-1})});
    EXPECT_EQ(e[0].shape(), (Shape{3, 0}));
    // Opset 1 attributes.
    auto a = run_op("Slice", {x}, {{"starts", attr_ints({1})}, {"ends", attr_ints({-1})}, {"axes", attr_ints({1})}},
                    1, 9);
    EXPECT_EQ(values<float>(a[0]), (std::vector<float>{1, 2, 5, 6, 9, 10}));
    EXPECT_THROW(run_op("Slice", {x, i64v({0}), i64v({1}), i64v({0}), i64v({0})}), Error);  // step 0
}

TEST(TensorOps, ReshapeZeroMinusOneAllowzero) {
    Tensor x = iota_f({2, 3, 4});
    auto y = run_op("Reshape", {x, i64v({0, -1})});
    EXPECT_EQ(y[0].shape(), (Shape{2, 12}));
    EXPECT_EQ(values<float>(y[0])[13], 13.f);
    EXPECT_THROW(run_op("Reshape", {x, i64v({5, -1})}), Error);
    EXPECT_THROW(run_op("Reshape", {x, i64v({-1, -1})}), Error);
    // allowzero=1: 0 is a real zero dim.
    auto z = run_op("Reshape", {f32({}, {0, 3}), i64v({3, 0})}, {{"allowzero", attr_int(1)}}, 1, 14);
    EXPECT_EQ(z[0].shape(), (Shape{3, 0}));
}

TEST(TensorOps, FlattenSqueezeUnsqueeze) {
    EXPECT_EQ(run_op("Flatten", {iota_f({2, 3, 4})}, {{"axis", attr_int(0)}})[0].shape(), (Shape{1, 24}));
    EXPECT_EQ(run_op("Flatten", {iota_f({2, 3, 4})}, {{"axis", attr_int(-1)}})[0].shape(), (Shape{6, 4}));
    EXPECT_EQ(run_op("Squeeze", {iota_f({1, 3, 1, 2})})[0].shape(), (Shape{3, 2}));
    EXPECT_EQ(run_op("Squeeze", {iota_f({1, 3, 1, 2}), i64v({-2})}, {}, 1, 13)[0].shape(), (Shape{1, 3, 2}));
    EXPECT_EQ(run_op("Squeeze", {iota_f({1, 3, 1})}, {{"axes", attr_ints({0})}}, 1, 11)[0].shape(), (Shape{3, 1}));
    EXPECT_THROW(run_op("Squeeze", {iota_f({2, 3}), i64v({0})}, {}, 1, 13), Error);
    auto u = run_op("Unsqueeze", {iota_f({3, 2}), i64v({3, 0})}, {}, 1, 13);
    EXPECT_EQ(u[0].shape(), (Shape{1, 3, 2, 1}));
    EXPECT_EQ(values<float>(u[0]), (std::vector<float>{0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(run_op("Unsqueeze", {iota_f({3})}, {{"axes", attr_ints({-1})}}, 1, 11)[0].shape(), (Shape{3, 1}));
}

TEST(TensorOps, TransposeDefaultAndPerm) {
    auto y = run_op("Transpose", {iota_f({2, 3})});
    EXPECT_EQ(y[0].shape(), (Shape{3, 2}));
    EXPECT_EQ(values<float>(y[0]), (std::vector<float>{0, 3, 1, 4, 2, 5}));
    // [2,3,2] perm (1,0,2): inner pairs stay contiguous.
    auto z = run_op("Transpose", {iota_f({2, 3, 2})}, {{"perm", attr_ints({1, 0, 2})}});
    EXPECT_EQ(values<float>(z[0]), (std::vector<float>{0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11}));
    EXPECT_THROW(run_op("Transpose", {iota_f({2, 3})}, {{"perm", attr_ints({0, 0})}}), Error);
}

// uint8 NCHW -> NHWC with 1..4 channels takes the interleave path; 5 channels the
// generic one: both against the index formula, on sizes past one 8192-pixel chunk.
TEST(TensorOps, TransposeU8ToNhwcInterleave) {
    for (int64_t c : {1, 3, 4, 5}) {
        const Shape shape{2, c, 67, 129};
        Tensor x(DType::U8, shape);
        for (int64_t i = 0; i < x.numel(); ++i) x.data<uint8_t>()[i] = uint8_t((i * 37 + i / 7) % 251);
        auto y = run_op("Transpose", {x}, {{"perm", attr_ints({0, 2, 3, 1})}});
        ASSERT_EQ(y[0].shape(), (Shape{2, 67, 129, c}));
        int differ = 0;
        for (int64_t b = 0; b < 2; ++b)
            for (int64_t ch = 0; ch < c; ++ch)
                for (int64_t p = 0; p < 67 * 129; ++p)
                    differ += y[0].data<uint8_t>()[(b * 67 * 129 + p) * c + ch] !=
                              x.data<uint8_t>()[(b * c + ch) * 67 * 129 + p];
        EXPECT_EQ(differ, 0) << c;
    }
    // Empty tensors (no channels, no pixels) give empty outputs.
    for (const Shape& shape : {Shape{1, 0, 4, 5}, Shape{2, 3, 0, 5}}) {
        Tensor x(DType::U8, shape);
        auto y = run_op("Transpose", {x}, {{"perm", attr_ints({0, 2, 3, 1})}});
        EXPECT_EQ(y[0].numel(), 0);
        Tensor xf(DType::F32, shape);
        EXPECT_EQ(run_op("Transpose", {xf}, {{"perm", attr_ints({0, 2, 3, 1})}})[0].numel(), 0);
    }
}

TEST(TensorOps, GatherAxesAndNegativeIndices) {
    Tensor x = iota_f({3, 4});
    auto y = run_op("Gather", {x, i64({-1, 0, 2, 2}, {2, 2})}, {{"axis", attr_int(1)}});
    EXPECT_EQ(y[0].shape(), (Shape{3, 2, 2}));
    EXPECT_EQ(values<float>(y[0]), (std::vector<float>{3, 0, 2, 2, 7, 4, 6, 6, 11, 8, 10, 10}));
    // Scalar int32 index on axis 0 drops the axis.
    auto s = run_op("Gather", {x, Tensor::scalar<int32_t>(1)});
    EXPECT_EQ(s[0].shape(), (Shape{4}));
    EXPECT_EQ(values<float>(s[0]), (std::vector<float>{4, 5, 6, 7}));
    EXPECT_THROW(run_op("Gather", {x, i64v({3})}), Error);
}

TEST(TensorOps, GatherElements) {
    auto y = run_op("GatherElements", {f32({1, 2, 3, 4}, {2, 2}), i64({0, 0, -1, 0}, {2, 2})}, {{"axis", attr_int(1)}});
    EXPECT_EQ(values<float>(y[0]), (std::vector<float>{1, 1, 4, 3}));
}

TEST(TensorOps, ShapeSizeWithStartEnd) {
    Tensor x = iota_f({2, 3, 4});
    EXPECT_EQ(values<int64_t>(run_op("Shape", {x})[0]), (std::vector<int64_t>{2, 3, 4}));
    EXPECT_EQ(values<int64_t>(run_op("Shape", {x}, {{"start", attr_int(-2)}, {"end", attr_int(10)}})[0]),
              (std::vector<int64_t>{3, 4}));
    EXPECT_EQ(run_op("Shape", {x}, {{"start", attr_int(2)}, {"end", attr_int(1)}})[0].shape(), (Shape{0}));
    EXPECT_EQ(values<int64_t>(run_op("Size", {x})[0]), (std::vector<int64_t>{24}));
}

TEST(TensorOps, ConstantForms) {
    auto t = std::make_shared<Tensor>(i64({7, 8}, {2, 1}));
    Attribute a;
    a.kind = Attribute::Kind::Tensor;
    a.t = t;
    auto y = run_op("Constant", {}, {{"value", a}});
    EXPECT_EQ(y[0].shape(), (Shape{2, 1}));
    EXPECT_EQ(values<int64_t>(y[0]), (std::vector<int64_t>{7, 8}));
    EXPECT_EQ(values<float>(run_op("Constant", {}, {{"value_float", attr_float(2.5f)}})[0]), (std::vector<float>{2.5f}));
    EXPECT_EQ(run_op("Constant", {}, {{"value_ints", attr_ints({1, 2, 3})}})[0].shape(), (Shape{3}));
    EXPECT_THROW(run_op("Constant", {}, {{"value_string", attr_string("x")}}), Error);
    EXPECT_THROW(run_op("Constant", {}, {}), Error);
}

TEST(TensorOps, ConstantOfShape) {
    auto y = run_op("ConstantOfShape", {i64v({2, 3})});
    EXPECT_EQ(y[0].dtype(), DType::F32);
    EXPECT_EQ(values<float>(y[0]), std::vector<float>(6, 0.f));
    Attribute a;
    a.kind = Attribute::Kind::Tensor;
    a.t = std::make_shared<Tensor>(i64({5}, {1}));
    auto z = run_op("ConstantOfShape", {i64v({2})}, {{"value", a}});
    EXPECT_EQ(values<int64_t>(z[0]), (std::vector<int64_t>{5, 5}));
    EXPECT_EQ(run_op("ConstantOfShape", {i64v({})})[0].shape(), (Shape{}));  // scalar
}

TEST(TensorOps, IdentityAndDropout) {
    Tensor b = Tensor::from_vector<bool>({true, false, true}, {3});
    EXPECT_EQ(values<bool>(run_op("Identity", {b})[0]), (std::vector<bool>{true, false, true}));
    auto d = run_op("Dropout", {f32({1, -2}, {2}), Tensor::scalar<float>(0.3f)}, {{"seed", attr_int(1)}}, 2, 13);
    EXPECT_EQ(values<float>(d[0]), (std::vector<float>{1, -2}));
    EXPECT_EQ(d[1].dtype(), DType::Bool);
    EXPECT_EQ(values<bool>(d[1]), (std::vector<bool>{true, true}));
    auto old = run_op("Dropout", {f32({3}, {1})}, {{"ratio", attr_float(0.2f)}}, 1, 7);
    EXPECT_EQ(values<float>(old[0]), (std::vector<float>{3}));
    try {
        run_op("Dropout", {f32({1}, {1}), Tensor::scalar<float>(0.5f), Tensor::scalar<bool>(true)}, {}, 1, 13);
        ADD_FAILURE() << "training mode should be rejected";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    }
}

TEST(TensorOps, ExpandBidirectional) {
    auto y = run_op("Expand", {f32({1, 2, 3}, {3, 1}), i64v({2, 1, 2})});
    EXPECT_EQ(y[0].shape(), (Shape{2, 3, 2}));
    EXPECT_EQ(values<float>(y[0]), (std::vector<float>{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}));
    EXPECT_THROW(run_op("Expand", {f32({1, 2, 3}, {3}), i64v({2})}), Error);
}

TEST(TensorOps, Tile) {
    auto y = run_op("Tile", {i64({1, 2, 3, 4}, {2, 2}), i64v({2, 1})});
    EXPECT_EQ(y[0].shape(), (Shape{4, 2}));
    EXPECT_EQ(values<int64_t>(y[0]), (std::vector<int64_t>{1, 2, 3, 4, 1, 2, 3, 4}));
    auto z = run_op("Tile", {f32({1, 2}, {2}), i64v({3})});
    EXPECT_EQ(values<float>(z[0]), (std::vector<float>{1, 2, 1, 2, 1, 2}));
}

TEST(TensorOps, Range) {
    auto y = run_op("Range", {Tensor::scalar<float>(1), Tensor::scalar<float>(5), Tensor::scalar<float>(1.5f)});
    EXPECT_EQ(values<float>(y[0]), (std::vector<float>{1, 2.5f, 4}));
    auto z = run_op("Range", {Tensor::scalar<int32_t>(10), Tensor::scalar<int32_t>(4), Tensor::scalar<int32_t>(-3)});
    EXPECT_EQ(values<int32_t>(z[0]), (std::vector<int32_t>{10, 7}));
    EXPECT_EQ(run_op("Range", {Tensor::scalar<int64_t>(0), Tensor::scalar<int64_t>(-1), Tensor::scalar<int64_t>(1)})[0]
                  .shape(),
              (Shape{0}));
}

TEST(TensorOps, DepthToSpaceModesAndSpaceToDepthRoundTrip) {
    // 1x4x1x1, blocksize 2: DCR puts channels 0..3 at (0,0),(0,1),(1,0),(1,1).
    Tensor x = iota_f({1, 4, 1, 1});
    auto dcr = run_op("DepthToSpace", {x}, {{"blocksize", attr_int(2)}});
    EXPECT_EQ(dcr[0].shape(), (Shape{1, 1, 2, 2}));
    EXPECT_EQ(values<float>(dcr[0]), (std::vector<float>{0, 1, 2, 3}));
    // 1x8x1x1: DCR output channel c takes input channels c + 2*k; CRD takes c*4 + k.
    Tensor x8 = iota_f({1, 8, 1, 1});
    auto d8 = run_op("DepthToSpace", {x8}, {{"blocksize", attr_int(2)}, {"mode", attr_string("DCR")}});
    EXPECT_EQ(values<float>(d8[0]), (std::vector<float>{0, 2, 4, 6, 1, 3, 5, 7}));
    auto c8 = run_op("DepthToSpace", {x8}, {{"blocksize", attr_int(2)}, {"mode", attr_string("CRD")}});
    EXPECT_EQ(values<float>(c8[0]), (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7}));
    // SpaceToDepth inverts DCR DepthToSpace on an odd-sized input.
    Tensor big = iota_f({2, 12, 3, 5});
    auto s = run_op("DepthToSpace", {big}, {{"blocksize", attr_int(2)}});
    auto back = run_op("SpaceToDepth", {s[0]}, {{"blocksize", attr_int(2)}});
    EXPECT_EQ(back[0].shape(), big.shape());
    EXPECT_EQ(values<float>(back[0]), values<float>(big));
}

TEST(TensorOps, PadModes) {
    Tensor x = f32({1, 2, 3}, {1, 3});
    auto c = run_op("Pad", {x, i64v({0, 2, 0, 1}), Tensor::scalar<float>(9)}, {}, 1, 13);
    EXPECT_EQ(c[0].shape(), (Shape{1, 6}));
    EXPECT_EQ(values<float>(c[0]), (std::vector<float>{9, 9, 1, 2, 3, 9}));
    auto r = run_op("Pad", {x, i64v({0, 2, 0, 2})}, {{"mode", attr_string("reflect")}}, 1, 13);
    EXPECT_EQ(values<float>(r[0]), (std::vector<float>{3, 2, 1, 2, 3, 2, 1}));
    auto e = run_op("Pad", {x, i64v({1, 1, 0, 0})}, {{"mode", attr_string("edge")}}, 1, 13);
    EXPECT_EQ(e[0].shape(), (Shape{2, 4}));
    EXPECT_EQ(values<float>(e[0]), (std::vector<float>{1, 1, 2, 3, 1, 1, 2, 3}));
    // Negative pads crop; opset-2 attributes with a fill value.
    auto n = run_op("Pad", {x}, {{"pads", attr_ints({0, -1, 1, 1})}, {"value", attr_float(-1)}}, 1, 2);
    EXPECT_EQ(n[0].shape(), (Shape{2, 3}));
    EXPECT_EQ(values<float>(n[0]), (std::vector<float>{2, 3, -1, -1, -1, -1}));
    // Opset 18 axes with an int64 tensor.
    auto a = run_op("Pad", {i64({1, 2}, {2, 1}), i64v({1, 0}), Tensor(), i64v({-2})}, {}, 1, 18);
    EXPECT_EQ(values<int64_t>(a[0]), (std::vector<int64_t>{0, 1, 2}));
    EXPECT_THROW(run_op("Pad", {x, i64v({0, -4, 0, 0})}, {}, 1, 13), Error);
}

TEST(TensorOps, NonZero) {
    auto y = run_op("NonZero", {f32({0, 1, 2, 0}, {2, 2})});
    EXPECT_EQ(y[0].shape(), (Shape{2, 2}));
    EXPECT_EQ(values<int64_t>(y[0]), (std::vector<int64_t>{0, 1, 1, 0}));
}

TEST(TensorOps, ShapeValuesNeededForInference) {
    // infer() must say "not yet" rather than guess when a shape input's value is unknown.
    Node node;
    node.op_type = "Reshape";
    node.inputs = {0, 1};
    node.outputs = {2};
    OpAttrs oa(node, 17);
    auto k = OpRegistry::instance().find("Reshape")->factory(oa);
    std::vector<ValueInfo> in(2), out(1);
    in[0].dtype = DType::F32;
    in[0].shape = {2, 3};
    in[1].dtype = DType::I64;
    in[1].shape = {1};
    EXPECT_FALSE(k->infer(in, out));
}

}  // namespace
}  // namespace edgecnn

namespace edgecnn {
namespace {

TEST(TensorOps, SliceExtremeStepsTakeOneElement) {
    const int64_t kMax = std::numeric_limits<int64_t>::max(), kMin = std::numeric_limits<int64_t>::min();
    Tensor x = Tensor::from_vector<float>({0, 1, 2, 3}, {4});
    auto b = test::run_op("Slice", {x, Tensor::from_vector<int64_t>({kMax}, {1}), Tensor::from_vector<int64_t>({kMin}, {1}),
                                    Tensor::from_vector<int64_t>({0}, {1}), Tensor::from_vector<int64_t>({kMin}, {1})});
    ASSERT_EQ(b[0].shape(), (Shape{1}));
    EXPECT_EQ(b[0].data<float>()[0], 3.f);
    auto f = test::run_op("Slice", {x, Tensor::from_vector<int64_t>({1}, {1}), Tensor::from_vector<int64_t>({kMax}, {1}),
                                    Tensor::from_vector<int64_t>({0}, {1}), Tensor::from_vector<int64_t>({kMax}, {1})});
    ASSERT_EQ(f[0].shape(), (Shape{1}));
    EXPECT_EQ(f[0].data<float>()[0], 1.f);
}

TEST(TensorOps, PadOverflowIsAnError) {
    const int64_t kMax = std::numeric_limits<int64_t>::max();
    EXPECT_THROW(test::run_op("Pad", {Tensor::from_vector<float>({1}, {1}), Tensor::from_vector<int64_t>({kMax, kMax}, {2})},
                              {}, 1, 13),
                 Error);
}

}  // namespace
}  // namespace edgecnn
