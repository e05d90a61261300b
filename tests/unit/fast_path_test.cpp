// The compiled fast path (passes, NHWC layout, fast kernels, arena) against the reference
// interpreter on the same graph: randomized convolutions and pools with awkward shapes,
// on every ISA level this CPU has.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sys/resource.h>
#include <chrono>
#include <thread>

#include "base/cpu_features.hpp"
#include "runtime/session.hpp"

using namespace edgecnn;

namespace {

Attribute ints(std::vector<int64_t> v) {
    Attribute a;
    a.kind = Attribute::Kind::Ints;
    a.ints = std::move(v);
    return a;
}
Attribute integer(int64_t v) {
    Attribute a;
    a.kind = Attribute::Kind::Int;
    a.i = v;
    return a;
}

Tensor random_tensor(Shape s, std::mt19937& rng, float scale = 1.f) {
    Tensor t(DType::F32, std::move(s));
    std::uniform_real_distribution<float> u(-scale, scale);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
    return t;
}

struct Builder {
    std::shared_ptr<Graph> g = std::make_shared<Graph>();
    Builder() { g->opset = 17; }
    ValueId input(const std::string& name, Shape s) {
        Value v;
        v.name = name;
        v.dtype = DType::F32;
        std::vector<Dim> dims;
        for (int64_t d : s) dims.push_back(Dim{d, ""});
        v.shape = dims;
        ValueId id = g->add_value(v);
        g->inputs.push_back(id);
        return id;
    }
    ValueId constant(const std::string& name, Tensor t) {
        Value v;
        v.name = name;
        v.dtype = t.dtype();
        v.constant = std::make_shared<const Tensor>(std::move(t));
        return g->add_value(v);
    }
    ValueId node(const std::string& op, std::vector<ValueId> in, std::map<std::string, Attribute> attrs = {}) {
        Value v;
        v.name = op + std::to_string(g->nodes.size());
        ValueId out = g->add_value(v);
        Node n;
        n.name = "n" + std::to_string(g->nodes.size()) + "_" + op;
        n.op_type = op;
        n.inputs = std::move(in);
        n.outputs = {out};
        n.attrs = std::move(attrs);
        g->nodes.push_back(n);
        return out;
    }
    std::shared_ptr<Graph> finish(std::vector<ValueId> outputs) {
        g->outputs = std::move(outputs);
        verify_and_sort(*g);
        return g;
    }
};

// Runs the graph with the reference interpreter and with the fast path on every ISA level;
// returns the largest difference relative to max(1, max|ref|).
double compare_fast_to_reference(const std::shared_ptr<Graph>& g, const NamedTensors& inputs, int threads,
                                 const Plan** plan_out = nullptr, std::shared_ptr<Session>* keep = nullptr) {
    SessionOptions ref_opts;
    ref_opts.optimization_level = 0;
    Session ref(g, ref_opts);
    NamedTensors expected = ref.run(inputs);
    double worst = 0;
    for (Isa isa : supported_isas()) {
        set_isa_override(isa);
        SessionOptions opts;
        opts.num_threads = threads;
        auto fast = std::make_shared<Session>(g, opts);
        NamedTensors got = fast->run(inputs);
        set_isa_override(std::nullopt);
        EXPECT_EQ(got.size(), expected.size());
        for (size_t k = 0; k < got.size(); ++k) {
            const Tensor& a = got[k].second;
            const Tensor& b = expected[k].second;
            EXPECT_EQ(a.shape(), b.shape()) << isa_name(isa);
            if (a.shape() != b.shape()) return 1e9;
            double ref_max = 1;
            for (int64_t i = 0; i < b.numel(); ++i) ref_max = std::max(ref_max, double(std::fabs(b.data<float>()[i])));
            for (int64_t i = 0; i < a.numel(); ++i)
                worst = std::max(worst, std::fabs(double(a.data<float>()[i]) - double(b.data<float>()[i])) / ref_max);
        }
        if (plan_out && keep) {
            *plan_out = fast->plan();
            *keep = fast;
        }
    }
    return worst;
}

}  // namespace

TEST(FastPath, RandomConvolutionsMatchReference) {
    std::mt19937 rng(7);
    struct Case {
        int64_t n, cin, cout, h, w, k, stride, pad, dil, group;
        const char* act;
        bool residual;
    };
    const Case cases[] = {
        {1, 3, 16, 17, 19, 3, 2, 1, 1, 1, "relu", false},   // stem-like, odd sizes
        {2, 16, 33, 9, 7, 1, 1, 0, 1, 1, "none", true},     // pointwise + residual, batch 2
        {1, 17, 17, 13, 11, 3, 1, 1, 1, 17, "clip", false},  // depthwise 3x3
        {1, 33, 33, 15, 15, 5, 2, 2, 1, 33, "hardswish", false},  // depthwise 5x5 s2
        {1, 7, 7, 12, 12, 3, 1, 2, 2, 7, "none", true},      // dilated depthwise + residual
        {1, 64, 64, 9, 9, 3, 1, 1, 1, 1, "relu", true},      // resnet-like 3x3 + residual
        {1, 16, 24, 8, 8, 3, 1, 1, 1, 4, "sigmoid", false},  // grouped, not depthwise
        {1, 8, 16, 5, 5, 3, 1, 12, 12, 1, "none", false},    // dilation far beyond the map
        {1, 32, 16, 10, 10, 1, 2, 0, 1, 1, "leakyrelu", false},  // strided 1x1
        {2, 1, 8, 6, 9, 3, 1, 1, 1, 1, "tanh", false},       // one input channel
        {2, 16, 24, 9, 11, 3, 1, 6, 6, 1, "relu", true},     // zoned taps (dilation ~ map size) + residual
        {1, 12, 20, 7, 7, 3, 1, 5, 5, 1, "hardswish", false},  // zoned taps, partial-width zones
    };
    for (const Case& c : cases) {
        for (int threads : {1, 2}) {
            Builder b;
            ValueId x = b.input("x", {c.n, c.cin, c.h, c.w});
            ValueId w = b.constant("w", random_tensor({c.cout, c.cin / c.group, c.k, c.k}, rng, 0.5f));
            ValueId bias = b.constant("b", random_tensor({c.cout}, rng));
            ValueId y = b.node("Conv", {x, w, bias},
                               {{"strides", ints({c.stride, c.stride})},
                                {"pads", ints({c.pad, c.pad, c.pad, c.pad})},
                                {"dilations", ints({c.dil, c.dil})},
                                {"group", integer(c.group)}});
            std::string act = c.act;
            if (c.residual) {
                // The residual has the conv output's shape: use a second conv of the input.
                ValueId w2 = b.constant("w2", random_tensor({c.cout, c.cin / c.group, c.k, c.k}, rng, 0.5f));
                ValueId r = b.node("Conv", {x, w2},
                                   {{"strides", ints({c.stride, c.stride})},
                                    {"pads", ints({c.pad, c.pad, c.pad, c.pad})},
                                    {"dilations", ints({c.dil, c.dil})},
                                    {"group", integer(c.group)}});
                y = b.node("Add", {y, r});
            }
            if (act == "relu") y = b.node("Relu", {y});
            if (act == "clip") y = b.node("Clip", {y, b.constant("lo", Tensor::scalar(0.f)), b.constant("hi", Tensor::scalar(6.f))});
            if (act == "hardswish") y = b.node("HardSwish", {y});
            if (act == "sigmoid") y = b.node("Sigmoid", {y});
            if (act == "tanh") y = b.node("Tanh", {y});
            if (act == "leakyrelu") {
                Attribute alpha;
                alpha.kind = Attribute::Kind::Float;
                alpha.f = 0.1f;
                y = b.node("LeakyRelu", {y}, {{"alpha", alpha}});
            }
            auto g = b.finish({y});
            NamedTensors in = {{"x", random_tensor({c.n, c.cin, c.h, c.w}, rng)}};
            double err = compare_fast_to_reference(g, in, threads);
            EXPECT_LT(err, 1e-5) << "cin " << c.cin << " cout " << c.cout << " k " << c.k << " group " << c.group
                                 << " act " << c.act << " threads " << threads;
        }
    }
}

TEST(FastPath, PoolsMatchReference) {
    std::mt19937 rng(9);
    for (int ceil : {0, 1}) {
        Builder b;
        ValueId x = b.input("x", {2, 7, 11, 10});
        ValueId m = b.node("MaxPool", {x}, {{"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})},
                                            {"pads", ints({1, 1, 1, 1})}, {"ceil_mode", integer(ceil)}});
        ValueId a = b.node("AveragePool", {x}, {{"kernel_shape", ints({3, 2})}, {"strides", ints({2, 2})},
                                                {"pads", ints({1, 0, 1, 1})}, {"ceil_mode", integer(ceil)},
                                                {"count_include_pad", integer(ceil)}});
        ValueId gap = b.node("GlobalAveragePool", {x});
        ValueId gmp = b.node("GlobalMaxPool", {x});
        auto g = b.finish({m, a, gap, gmp});
        NamedTensors in = {{"x", random_tensor({2, 7, 11, 10}, rng)}};
        EXPECT_LT(compare_fast_to_reference(g, in, 2), 1e-6) << "ceil_mode " << ceil;
    }
}

// A channel Concat large enough to be copied by several threads (SqueezeNet's fire
// modules), with inputs of unequal widths, odd sizes and batch 2, at 1, 2 and 3 threads.
TEST(FastPath, LargeChannelConcatMatchesReferenceOnEveryThreadCount) {
    std::mt19937 rng(21);
    Builder b;
    ValueId x = b.input("x", {2, 5, 57, 53});
    ValueId w1 = b.constant("w1", random_tensor({17, 5, 1, 1}, rng, 0.3f));
    ValueId w3 = b.constant("w3", random_tensor({33, 5, 3, 3}, rng, 0.3f));
    ValueId e1 = b.node("Relu", {b.node("Conv", {x, w1})});
    ValueId e3 = b.node("Relu", {b.node("Conv", {x, w3}, {{"pads", ints({1, 1, 1, 1})}})});
    ValueId cat = b.node("Concat", {e1, x, e3}, {{"axis", integer(1)}});
    auto g = b.finish({cat});
    NamedTensors in = {{"x", random_tensor({2, 5, 57, 53}, rng)}};
    for (int threads : {1, 2, 3}) EXPECT_LT(compare_fast_to_reference(g, in, threads), 1e-5) << threads << " threads";
}

// Transposes between NHWC layers cancel: a chain of convolutions, activations and a
// residual add keeps only the two conversions at the model's edges.
TEST(FastPath, LayoutConversionOnlyAtTheEdges) {
    std::mt19937 rng(3);
    Builder b;
    // 12 input channels: with at most 8 the first conv would read NCHW and the input
    // conversion would go too (StemReadsNchwInputWithoutTranspose).
    ValueId x = b.input("x", {1, 12, 12, 12});
    ValueId w1 = b.constant("w1", random_tensor({16, 12, 3, 3}, rng, 0.3f));
    ValueId w2 = b.constant("w2", random_tensor({16, 1, 3, 3}, rng, 0.3f));
    ValueId w3 = b.constant("w3", random_tensor({16, 16, 1, 1}, rng, 0.3f));
    ValueId y1 = b.node("Relu", {b.node("Conv", {x, w1}, {{"pads", ints({1, 1, 1, 1})}})});
    ValueId y2 = b.node("Conv", {y1, w2}, {{"pads", ints({1, 1, 1, 1})}, {"group", integer(16)}});
    ValueId y3 = b.node("Conv", {y2, w3});
    ValueId sum = b.node("Add", {y3, y1});
    ValueId scaled = b.node("Mul", {sum, b.constant("s", random_tensor({16, 1, 1}, rng))});
    ValueId pooled = b.node("MaxPool", {scaled}, {{"kernel_shape", ints({2, 2})}, {"strides", ints({2, 2})}});
    auto g = b.finish({pooled});
    NamedTensors in = {{"x", random_tensor({1, 12, 12, 12}, rng)}};
    const Plan* plan = nullptr;
    std::shared_ptr<Session> keep;
    EXPECT_LT(compare_fast_to_reference(g, in, 1, &plan, &keep), 1e-5);
    ASSERT_NE(plan, nullptr);
    int transposes = 0, nhwc = 0;
    for (const Node& n : plan->graph().nodes) {
        transposes += n.op_type == "Transpose";
        nhwc += n.domain == "edgecnn";
    }
    EXPECT_EQ(transposes, 2) << "only the input and output conversions should remain";
    EXPECT_GE(nhwc, 4);
}

// A network's stem (few input channels, group 1) reads the model's NCHW input itself: the
// layout pass drops the NCHW→NHWC Transpose in front of it, unless another node still
// reads the transposed tensor (then the Transpose stays for that one). Batch 2, odd
// sizes, a fused activation and a fused residual; every ISA level, 1 and 2 threads.
TEST(FastPath, StemReadsNchwInputWithoutTranspose) {
    std::mt19937 rng(11);
    for (int64_t cin : {1, 3, 8, 9}) {
        for (bool shared : {false, true}) {
            Builder b;
            ValueId x = b.input("x", {2, cin, 23, 19});
            ValueId w = b.constant("w", random_tensor({16, cin, 3, 3}, rng, 0.5f));
            ValueId bias = b.constant("b", random_tensor({16}, rng));
            ValueId y = b.node("Conv", {x, w, bias}, {{"strides", ints({2, 2})}, {"pads", ints({1, 1, 1, 1})}});
            y = b.node("HardSwish", {y});
            ValueId w2 = b.constant("w2", random_tensor({16, cin, 3, 3}, rng, 0.5f));
            ValueId r = b.node("Conv", {x, w2}, {{"strides", ints({2, 2})}, {"pads", ints({1, 1, 1, 1})}});
            y = b.node("Relu", {b.node("Add", {y, r})});  // the second stem conv fuses in as the residual
            std::vector<ValueId> outs = {y};
            if (shared) {
                // A pooling of the input also wants it NHWC: its transpose stays.
                outs.push_back(b.node("MaxPool", {x}, {{"kernel_shape", ints({2, 2})}, {"strides", ints({2, 2})}}));
            }
            auto g = b.finish(outs);
            NamedTensors in = {{"x", random_tensor({2, cin, 23, 19}, rng)}};
            for (int threads : {1, 2}) {
                const Plan* plan = nullptr;
                std::shared_ptr<Session> keep;
                EXPECT_LT(compare_fast_to_reference(g, in, threads, &plan, &keep), 1e-5)
                    << "cin " << cin << (shared ? " shared input" : "") << " threads " << threads;
                ASSERT_NE(plan, nullptr);
                int input_transposes = 0, nchw_convs = 0, convs = 0;
                for (const Node& n : plan->graph().nodes) {
                    if (n.op_type == "Transpose" && n.inputs[0] == plan->graph().inputs[0]) ++input_transposes;
                    if (n.op_type == "ConvNhwc") {
                        ++convs;
                        const Attribute* a = n.attr("input_nchw");
                        nchw_convs += a && a->i == 1;
                    }
                }
                EXPECT_GE(convs, 1);
                if (cin == 1) {  // both layouts are the same bytes: the transposes became reshapes
                    EXPECT_EQ(input_transposes, 0);
                    continue;
                }
                const bool small = cin <= 8;
                EXPECT_EQ(nchw_convs, small ? convs : 0) << "cin " << cin;
                if (small) EXPECT_EQ(input_transposes, shared ? 1 : 0) << "cin " << cin << (shared ? " shared input" : "");
                else EXPECT_GE(input_transposes, 1) << "cin " << cin;
            }
        }
    }
}

// Shapes change between runs: the plan is recompiled for each binding and stays correct.
TEST(FastPath, RebindsDynamicShapes) {
    std::mt19937 rng(5);
    auto g = std::make_shared<Graph>();
    g->opset = 17;
    Value xv;
    xv.name = "x";
    xv.dtype = DType::F32;
    xv.shape = std::vector<Dim>{Dim{-1, "batch"}, Dim{4, ""}, Dim{-1, "h"}, Dim{-1, "w"}};
    ValueId x = g->add_value(xv);
    g->inputs.push_back(x);
    Value wv;
    wv.name = "w";
    wv.dtype = DType::F32;
    wv.constant = std::make_shared<const Tensor>(random_tensor({6, 4, 3, 3}, rng));
    ValueId w = g->add_value(wv);
    Value yv;
    yv.name = "y";
    ValueId y = g->add_value(yv);
    Node conv;
    conv.name = "conv";
    conv.op_type = "Conv";
    conv.inputs = {x, w};
    conv.outputs = {y};
    conv.attrs["pads"] = ints({1, 1, 1, 1});
    g->nodes.push_back(conv);
    g->outputs = {y};
    verify_and_sort(*g);
    SessionOptions ref_opts;
    ref_opts.optimization_level = 0;
    Session ref(g, ref_opts), fast(g);
    for (Shape s : {Shape{1, 4, 8, 8}, Shape{2, 4, 5, 9}, Shape{1, 4, 8, 8}}) {
        NamedTensors in = {{"x", random_tensor(s, rng)}};
        Tensor a = fast.run(in)[0].second, e = ref.run(in)[0].second;
        ASSERT_EQ(a.shape(), e.shape());
        for (int64_t i = 0; i < a.numel(); ++i) ASSERT_NEAR(a.data<float>()[i], e.data<float>()[i], 1e-4);
    }
}

// Float32 elementwise ops take the vectorized kernels for every broadcast pattern that
// folds into three loop levels, and the reference kernel for the others.
TEST(FastPath, ElementwiseBroadcastsMatchReference) {
    std::mt19937 rng(11);
    const std::pair<Shape, Shape> patterns[] = {
        {{2, 5, 7, 3}, {2, 5, 7, 3}},  // same shape
        {{2, 5, 7, 3}, {}},            // scalar
        {{2, 5, 7, 3}, {3}},           // per-channel, NHWC
        {{2, 5, 7, 3}, {2, 1, 1, 3}},  // squeeze-excitation scale, NHWC
        {{2, 3, 5, 7}, {3, 1, 1}},     // per-channel, NCHW
        {{2, 1, 1, 3}, {2, 5, 7, 3}},  // broadcast operand first
        {{2, 3, 5, 1}, {1, 3, 1, 7}},  // both broadcast (four runs: reference path)
        {{1, 17}, {33, 1}},            // outer product
    };
    for (const auto& [sa, sb] : patterns) {
        Builder b;
        ValueId x = b.input("x", sa);
        ValueId k = b.constant("k", random_tensor(sb, rng));
        ValueId y = b.node("Add", {x, k});
        y = b.node("Mul", {y, k});
        y = b.node("Sub", {k, y});
        y = b.node("Div", {y, b.constant("two", Tensor::scalar(2.f))});
        y = b.node("HardSwish", {y});
        y = b.node("Sigmoid", {y});
        auto g = b.finish({y});
        NamedTensors in = {{"x", random_tensor(sa, rng)}};
        EXPECT_LT(compare_fast_to_reference(g, in, 2), 1e-5) << shape_str(sa) << " with " << shape_str(sb);
    }
}

// 3x3 stride-1 convolutions with >= 32 channels take Winograd F(4,3): partial tiles at
// odd sizes, both paddings, residual and activation, batch 2, channels off the vector width.
TEST(FastPath, WinogradMatchesReference) {
    std::mt19937 rng(13);
    struct Case {
        int64_t n, cin, cout, h, w, pad;
        bool residual;
    };
    const Case cases[] = {{1, 32, 32, 8, 8, 1, false}, {2, 33, 47, 9, 13, 1, true}, {1, 64, 40, 13, 11, 0, false},
                          {1, 48, 33, 9, 17, 1, true}};
    for (const Case& c : cases) {
        Builder b;
        ValueId x = b.input("x", {c.n, c.cin, c.h, c.w});
        ValueId w = b.constant("w", random_tensor({c.cout, c.cin, 3, 3}, rng, 0.2f));
        ValueId bias = b.constant("b", random_tensor({c.cout}, rng));
        std::map<std::string, Attribute> attrs = {{"pads", ints({c.pad, c.pad, c.pad, c.pad})}};
        ValueId y = b.node("Conv", {x, w, bias}, attrs);
        if (c.residual) {
            ValueId w2 = b.constant("w2", random_tensor({c.cout, c.cin, 3, 3}, rng, 0.2f));
            y = b.node("Add", {y, b.node("Conv", {x, w2}, attrs)});
        }
        y = b.node("Relu", {y});
        auto g = b.finish({y});
        NamedTensors in = {{"x", random_tensor({c.n, c.cin, c.h, c.w}, rng)}};
        const Plan* plan = nullptr;
        std::shared_ptr<Session> keep;
        EXPECT_LT(compare_fast_to_reference(g, in, 2, &plan, &keep), 2e-5) << "cin " << c.cin << " cout " << c.cout;
        ASSERT_NE(plan, nullptr);
        bool used = false;
        for (const auto& k : plan->kernels()) used = used || k->kernel_name().rfind("winograd", 0) == 0;
        EXPECT_TRUE(used) << "cin " << c.cin << " cout " << c.cout;
    }
}

// BlazeFace pads channels with Pad or with Concat(x, zeros): both let the layout
// conversions through, so they still cancel between NHWC layers.
TEST(FastPath, TransposesSinkThroughPadAndConstantConcat) {
    std::mt19937 rng(17);
    Builder b;
    ValueId x = b.input("x", {1, 12, 6, 6});  // > 8 channels: the input keeps its transpose
    ValueId w1 = b.constant("w1", random_tensor({8, 12, 1, 1}, rng, 0.3f));
    ValueId y = b.node("Conv", {x, w1});
    ValueId padded = b.node("Pad", {y, b.constant("pads", Tensor::from_vector<int64_t>({0, 0, 0, 0, 0, 4, 0, 0}, {8}))});
    ValueId zeros = b.constant("zeros", Tensor(DType::F32, {1, 4, 6, 6}));
    ValueId cat = b.node("Concat", {padded, zeros}, {{"axis", integer(1)}});
    ValueId w2 = b.constant("w2", random_tensor({6, 16, 3, 3}, rng, 0.3f));
    ValueId out = b.node("Conv", {cat, w2}, {{"pads", ints({1, 1, 1, 1})}});
    auto g = b.finish({out});
    NamedTensors in = {{"x", random_tensor({1, 12, 6, 6}, rng)}};
    const Plan* plan = nullptr;
    std::shared_ptr<Session> keep;
    EXPECT_LT(compare_fast_to_reference(g, in, 1, &plan, &keep), 1e-5);
    ASSERT_NE(plan, nullptr);
    int transposes = 0;
    for (const Node& n : plan->graph().nodes) transposes += n.op_type == "Transpose";
    EXPECT_EQ(transposes, 2);
}

// Output buffers are reused only once the caller has dropped them: an output kept from
// one run is never overwritten by the next.
TEST(FastPath, KeptOutputsSurviveTheNextRun) {
    std::mt19937 rng(19);
    Builder b;
    ValueId x = b.input("x", {1, 4, 5, 5});
    ValueId y = b.node("Relu", {b.node("Conv", {x, b.constant("w", random_tensor({3, 4, 3, 3}, rng))})});
    Session s(b.finish({y}));
    Tensor first = s.run({{"x", random_tensor({1, 4, 5, 5}, rng)}})[0].second;
    Tensor copy = first.clone();
    Tensor second = s.run({{"x", random_tensor({1, 4, 5, 5}, rng)}})[0].second;
    EXPECT_NE(first.raw(), second.raw());
    for (int64_t i = 0; i < first.numel(); ++i) ASSERT_EQ(first.data<float>()[i], copy.data<float>()[i]);
    const void* reused = second.raw();
    second = Tensor();  // released: the next run may write there again
    Tensor third = s.run({{"x", random_tensor({1, 4, 5, 5}, rng)}})[0].second;
    EXPECT_EQ(third.raw(), reused);
}

// An idle 2-thread session burns no CPU: under 5% of one core over one second after a run.
TEST(FastPath, IdleSessionUsesAlmostNoCpu) {
    std::mt19937 rng(23);
    Builder b;
    ValueId x = b.input("x", {1, 16, 32, 32});
    ValueId y = b.node("Relu", {b.node("Conv", {x, b.constant("w", random_tensor({32, 16, 3, 3}, rng))},
                                       {{"pads", ints({1, 1, 1, 1})}})});
    SessionOptions opts;
    opts.num_threads = 2;
    Session s(b.finish({y}), opts);
    NamedTensors in = {{"x", random_tensor({1, 16, 32, 32}, rng)}};
    for (int i = 0; i < 20; ++i) s.run(in);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    rusage before{}, after{};
    getrusage(RUSAGE_SELF, &before);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    getrusage(RUSAGE_SELF, &after);
    auto us = [](const timeval& t) { return double(t.tv_sec) * 1e6 + double(t.tv_usec); };
    double cpu_us = us(after.ru_utime) - us(before.ru_utime) + us(after.ru_stime) - us(before.ru_stime);
    EXPECT_LT(cpu_us, 0.05e6) << "idle session used " << cpu_us / 1e4 << "% of a core";
}
