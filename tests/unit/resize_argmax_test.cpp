// edgecnn.ResizeArgMax (Resize then ArgMax over axis 1, fused so the resized score map is
// never written) against the two ops it replaces:
//  - in a plan (fast kernel) vs the fast Resize on the same ISA followed by a plain argmax:
//    the fused kernel makes every value with the same operations, so labels are identical;
//  - outside a plan (reference resize + argmax) vs the reference Resize + argmax: identical;
//  - fast vs reference: a label may differ only where the two classes' reference scores
//    are equal up to float rounding.
// Nearest and bilinear, up- and down-scaling, K = 1..21 classes, batch 2, ties and NaNs,
// threads 1/2/3, every ISA level the machine has. Then the graph pass: a Resize read only
// by ArgMax(axis=1) in a session becomes the fused node, and what blocks the fusion does.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "base/cpu_features.hpp"
#include "base/thread_pool.hpp"
#include "isa_test_util.hpp"
#include "op_test_util.hpp"
#include "ops/op.hpp"
#include "runtime/session.hpp"

namespace edgecnn {
namespace {

using test::attr_int;
using test::attr_string;

// `kind`: 0 random floats, 1 small integers (many ties), 2 random with some NaNs.
Tensor scores(Shape s, int kind, std::mt19937& rng) {
    Tensor t(DType::F32, s);
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    std::uniform_int_distribution<int> small(0, 2), pick(0, 40);
    float* p = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) {
        p[i] = kind == 1 ? float(small(rng)) : d(rng);
        if (kind == 2 && pick(rng) == 0) p[i] = std::numeric_limits<float>::quiet_NaN();
    }
    return t;
}

// One op (Resize-13 inputs X, roi omitted, scales or sizes) run on its own.
Tensor run_op(const std::string& op, const Tensor& x, const Tensor* scales, const Tensor* sizes,
              std::map<std::string, Attribute> attrs, bool for_plan, ThreadPool* pool, std::string* kernel = nullptr) {
    const std::vector<Tensor> in{x, Tensor(), scales ? *scales : Tensor(), sizes ? *sizes : Tensor()};
    return test::run_op(op, in, std::move(attrs), 1, 13, {pool, for_plan, kernel})[0];
}

// ArgMax over axis 1 as the ONNX op does it (first index on ties, a NaN never wins).
std::vector<int64_t> argmax1(const Tensor& y) {
    const int64_t n = y.dim(0), k = y.dim(1), inner = y.numel() / (n * k);
    std::vector<int64_t> out(size_t(n * inner));
    const float* p = y.data<float>();
    for (int64_t o = 0; o < n; ++o)
        for (int64_t i = 0; i < inner; ++i) {
            float best = p[o * k * inner + i];
            int64_t arg = 0;
            for (int64_t c = 1; c < k; ++c)
                if (p[(o * k + c) * inner + i] > best) {
                    best = p[(o * k + c) * inner + i];
                    arg = c;
                }
            out[size_t(o * inner + i)] = arg;
        }
    return out;
}

std::vector<int64_t> labels_of(const Tensor& t) { return std::vector<int64_t>(t.data<int64_t>(), t.data<int64_t>() + t.numel()); }

void check(const Shape& xs, const Tensor* scales, const Tensor* sizes, const std::map<std::string, Attribute>& attrs,
           int kind, std::mt19937& rng) {
    const Tensor x = scores(xs, kind, rng);
    auto fused_attrs = attrs;
    fused_attrs["keepdims"] = attr_int(xs[0] % 2);  // both output forms
    const std::string what = shape_str(xs) + " mode " + attrs.at("mode").s + " coord " +
                             attrs.at("coordinate_transformation_mode").s + " data kind " + std::to_string(kind);
    // Outside a plan: the reference resize, then the argmax.
    const Tensor ref_scores = run_op("Resize", x, scales, sizes, attrs, false, nullptr);
    const std::vector<int64_t> ref = argmax1(ref_scores);
    const Tensor ref_fused = run_op("edgecnn.ResizeArgMax", x, scales, sizes, fused_attrs, false, nullptr);
    ASSERT_EQ(ref_fused.dtype(), DType::I64);
    ASSERT_EQ(ref_fused.numel(), int64_t(ref.size()));
    EXPECT_EQ(labels_of(ref_fused), ref) << what;
    const int64_t k = xs[1], inner = int64_t(ref.size()) / xs[0];
    const float* rs = ref_scores.data<float>();
    for (Isa isa : isas()) {
        IsaGuard guard(isa);
        for (int threads : {1, 2, 3}) {
            ThreadPool pool(threads);
            std::string name;
            const Tensor fast = run_op("edgecnn.ResizeArgMax", x, scales, sizes, fused_attrs, true, &pool, &name);
            EXPECT_NE(name.find("+argmax"), std::string::npos) << name;
            const std::vector<int64_t> got = labels_of(fast);
            // Same ISA, unfused: identical labels.
            const std::vector<int64_t> unfused = argmax1(run_op("Resize", x, scales, sizes, attrs, true, &pool));
            ASSERT_EQ(got, unfused) << what << " isa " << isa_name(isa) << " threads " << threads;
            // Against the reference: differences only between classes tied up to rounding.
            for (size_t i = 0; i < got.size(); ++i) {
                if (got[i] == ref[i]) continue;
                const int64_t o = int64_t(i) / inner, j = int64_t(i) % inner;
                const float a = rs[(o * k + got[i]) * inner + j], b = rs[(o * k + ref[i]) * inner + j];
                ASSERT_LE(std::fabs(a - b), 1e-5f * (1.f + std::fabs(b)))
                    << what << " isa " << isa_name(isa) << " at " << i << ": class " << got[i] << " vs " << ref[i];
            }
        }
    }
}

const char* kCoords[] = {"half_pixel", "pytorch_half_pixel", "asymmetric", "align_corners"};

TEST(ResizeArgMax, FusedMatchesResizeThenArgMaxRandomized) {
    std::mt19937 rng(23);
    const float factors[] = {8.f, 2.f, 0.5f, 1.7f, 1.f, 3.f};
    const int64_t classes[] = {1, 2, 3, 21, 5};
    int iter = 0;
    for (const char* mode : {"linear", "nearest"})
        for (const char* coord : kCoords)
            for (int kind = 0; kind < 3; ++kind, ++iter) {
                const float fh = factors[(iter * 5) % 6], fw = factors[(iter * 7 + 1) % 6];
                const Shape xs{1 + iter % 2, classes[iter % 5], 1 + (iter * 7) % 11, 2 + (iter * 5) % 13};
                if (std::floor(float(xs[2]) * fh) < 1 || std::floor(float(xs[3]) * fw) < 1) continue;
                const Tensor sc = Tensor::from_vector<float>({1.f, 1.f, fh, fw}, {4});
                check(xs, &sc, nullptr, {{"mode", attr_string(mode)}, {"coordinate_transformation_mode", attr_string(coord)}}, kind, rng);
            }
}

TEST(ResizeArgMax, SegmentationHeadSizes) {
    std::mt19937 rng(29);
    // LR-ASPP / DeepLab: 21 classes, 1/8 resolution to the input size (not a multiple).
    const Tensor sizes = Tensor::from_vector<int64_t>({1, 21, 131, 97}, {4});
    check({1, 21, 17, 13}, nullptr, &sizes, {{"mode", attr_string("linear")}, {"coordinate_transformation_mode", attr_string("half_pixel")}},
          0, rng);
    check({1, 21, 17, 13}, nullptr, &sizes, {{"mode", attr_string("linear")}, {"coordinate_transformation_mode", attr_string("half_pixel")}},
          1, rng);
}

// A session over X -> Resize(sizes) -> ArgMax(axis, keepdims) -> labels; `extra_reader`
// makes the scores a graph output too.
std::shared_ptr<Graph> head_graph(int64_t axis, bool extra_reader) {
    auto g = std::make_shared<Graph>();
    g->opset = 17;
    Value x;
    x.name = "x";
    x.dtype = DType::F32;
    x.shape = std::vector<Dim>{{1, ""}, {5, ""}, {6, ""}, {7, ""}};
    const ValueId xi = g->add_value(x);
    g->inputs.push_back(xi);
    Value sz;
    sz.name = "sizes";
    sz.constant = std::make_shared<Tensor>(Tensor::from_vector<int64_t>({1, 5, 48, 56}, {4}));
    const ValueId si = g->add_value(sz);
    Value s;
    s.name = "scores";
    const ValueId sv = g->add_value(s);
    Value l;
    l.name = "labels";
    const ValueId lv = g->add_value(l);
    Node rs;
    rs.name = "resize";
    rs.op_type = "Resize";
    rs.inputs = {xi, kNoValue, kNoValue, si};
    rs.outputs = {sv};
    rs.attrs["mode"] = attr_string("linear");
    Node am;
    am.name = "argmax";
    am.op_type = "ArgMax";
    am.inputs = {sv};
    am.outputs = {lv};
    am.attrs["axis"] = attr_int(axis);
    am.attrs["keepdims"] = attr_int(1);
    g->nodes = {rs, am};
    g->outputs = {lv};
    if (extra_reader) g->outputs.push_back(sv);
    return g;
}

TEST(ResizeArgMax, SessionFusesResizeReadOnlyByArgMax) {
    std::mt19937 rng(31);
    const Tensor x = scores({1, 5, 6, 7}, 0, rng);
    for (bool extra : {false, true}) {
        auto g = head_graph(1, extra);
        SessionOptions o0;
        o0.optimization_level = 0;
        Session ref(g, o0), fast(g);
        const Tensor a = ref.run({{"x", x}})[0].second, b = fast.run({{"x", x}})[0].second;
        ASSERT_EQ(b.shape(), (Shape{1, 1, 48, 56}));
        ASSERT_EQ(a.shape(), b.shape());
        // Bilinear values of random scores: no ties within rounding here.
        EXPECT_EQ(labels_of(a), labels_of(b));
        ASSERT_NE(fast.plan(), nullptr);
        bool fused = false;
        for (const auto& step : fast.plan()->graph().nodes) fused |= step.op_type == "ResizeArgMax";
        EXPECT_EQ(fused, !extra) << (extra ? "scores are also an output: no fusion" : "expected the fused node");
    }
    // Another axis is not a class argmax: left alone.
    auto g = head_graph(2, false);
    Session s(g);
    (void)s.run({{"x", x}});
    ASSERT_NE(s.plan(), nullptr);
    for (const auto& step : s.plan()->graph().nodes) EXPECT_NE(step.op_type, "ResizeArgMax");
}

}  // namespace
}  // namespace edgecnn
