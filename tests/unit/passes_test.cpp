// Graph passes, one at a time and as a pipeline: each test builds a small graph, checks
// the pattern was rewritten (node counts, op types) and that the optimized graph computes
// the same outputs as the original with the reference Session.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "passes/pipeline.hpp"
#include "passes_test_util.hpp"

using namespace edgecnn;
using namespace edgecnn::test;

namespace {

// Conv with random weights (and bias unless `bias` is false).
ValueId conv(GraphBuilder& b, ValueId x, int64_t cin, int64_t cout, int64_t k, std::mt19937& rng, bool bias = true,
             std::map<std::string, Attribute> attrs = {}, int64_t group = 1) {
    const std::string name = "conv" + std::to_string(b.g.nodes.size());
    std::vector<ValueId> in = {x, b.random_constant(name + "_W", {cout, cin / group, k, k}, rng)};
    if (bias) in.push_back(b.random_constant(name + "_B", {cout}, rng));
    if (!attrs.count("pads")) attrs["pads"] = a_ints({k / 2, k / 2, k / 2, k / 2});
    if (group != 1) attrs["group"] = a_int(group);
    return b.node("Conv", in, attrs, name);
}

ValueId batchnorm(GraphBuilder& b, ValueId x, int64_t c, std::mt19937& rng) {
    const std::string name = "bn" + std::to_string(b.g.nodes.size());
    return b.node("BatchNormalization",
                  {x, b.random_constant(name + "_s", {c}, rng, 0.5f, 1.5f), b.random_constant(name + "_b", {c}, rng),
                   b.random_constant(name + "_m", {c}, rng), b.random_constant(name + "_v", {c}, rng, 0.1f, 2.f)},
                  {{"epsilon", a_float(1e-3f)}}, name);
}

const Node* find_op(const Graph& g, const std::string& op) {
    for (const Node& n : g.nodes)
        if (n.op_type == op) return &n;
    return nullptr;
}

std::string activation_of(const Node& n) {
    const Attribute* a = n.attr("activation");
    return a ? a->s : "";
}

}  // namespace

// ---------------------------------------------------------------- eliminate_identity

TEST(PassesEliminateIdentity, RemovesNoOpsAndKeepsOutputName) {
    std::mt19937 rng(1);
    GraphBuilder b;
    ValueId x = b.input("x", {2, 3, 5, 5});
    ValueId y = conv(b, x, 3, 4, 3, rng);
    y = b.node("Identity", {y});
    y = b.node("Dropout", {y}, {}, "drop", 2);  // mask output nobody reads
    y = b.node("Reshape", {y, b.constant("shape", Tensor::from_vector<int64_t>({2, 4, 5, 5}, {4}))});
    y = b.node("Cast", {y}, {{"to", a_int(int64_t(DType::F32))}});
    y = b.node("Unsqueeze", {y, b.constant("axes", Tensor::from_vector<int64_t>({0}, {1}))});
    y = b.node("Squeeze", {y, b.constant("axes0", Tensor::from_vector<int64_t>({0}, {1}))});
    y = b.node("Relu", {y});
    y = b.node("Identity", {y}, {}, "last");
    b.output(y);
    Graph o = optimize_and_compare(b.g, only(&OptimizeOptions::eliminate_identity));
    EXPECT_EQ(o.nodes.size(), 4u);  // Conv, Unsqueeze, Squeeze, Relu (shapes differ around Unsqueeze)
    EXPECT_EQ(count_ops(o, "Identity"), 0);
    EXPECT_EQ(count_ops(o, "Dropout"), 0);
    EXPECT_EQ(count_ops(o, "Reshape"), 0);
    EXPECT_EQ(count_ops(o, "Cast"), 0);
    EXPECT_EQ(o.value(o.outputs[0]).name, "last_out0");
}

TEST(PassesEliminateIdentity, KeepsNodesThatMatter) {
    std::mt19937 rng(2);
    GraphBuilder b;
    ValueId x = b.input("x", {1, 2, 4, 4});
    ValueId id = b.node("Identity", {x}, {}, "in_to_out");  // graph input straight to an output: kept
    b.output(id);
    ValueId d = b.node("Dropout", {x}, {}, "drop_mask", 2);  // mask is a graph output: kept
    b.output(b.g.nodes.back().outputs[1]);
    b.output(d);
    ValueId r = b.node("Reshape", {x, b.constant("shape", Tensor::from_vector<int64_t>({1, 2, 16}, {3}))});
    b.output(r);  // changes the shape: kept
    Graph g = b.g;
    specialize(g);
    EXPECT_EQ(eliminate_identity(g), 0);
    EXPECT_EQ(g.nodes.size(), 3u);
}

TEST(PassesEliminateIdentity, ChainOfIdentitiesToOutput) {
    std::mt19937 rng(3);
    GraphBuilder b;
    ValueId x = b.input("x", {1, 2, 4, 4});
    ValueId y = b.node("Relu", {x});
    y = b.node("Identity", {y});
    y = b.node("Flatten", {y}, {{"axis", a_int(1)}});  // [1,32]: not an identity
    y = b.node("Identity", {y});
    y = b.node("Identity", {y}, {}, "out");
    b.output(y);
    Graph o = optimize_and_compare(b.g, only(&OptimizeOptions::eliminate_identity));
    EXPECT_EQ(o.nodes.size(), 2u);
    EXPECT_EQ(o.value(o.outputs[0]).name, "out_out0");
}

// ---------------------------------------------------------------- fold_constants

TEST(PassesFoldConstants, FoldsShapeChainsAndConstantMath) {
    std::mt19937 rng(4);
    GraphBuilder b;
    ValueId x = b.input("x", {2, 3, 4, 4});
    ValueId shape = b.node("Shape", {x});
    ValueId n = b.node("Gather", {shape, b.constant("i0", Tensor::scalar<int64_t>(0))}, {{"axis", a_int(0)}});
    ValueId n1 = b.node("Unsqueeze", {n, b.constant("ax", Tensor::from_vector<int64_t>({0}, {1}))});
    ValueId target = b.node("Concat", {n1, b.constant("rest", Tensor::from_vector<int64_t>({-1}, {1}))},
                            {{"axis", a_int(0)}});
    ValueId flat = b.node("Reshape", {x, target});
    ValueId c = b.node("Add", {b.random_constant("c1", {48}, rng), b.random_constant("c2", {48}, rng)});
    ValueId y = b.node("Mul", {flat, c});
    b.output(y);
    Graph g = b.g;
    verify_and_sort(g);
    infer_shapes(g);
    Graph o = g;
    EXPECT_EQ(fold_constants(o), 5);  // Shape, Gather, Unsqueeze, Concat, Add
    EXPECT_EQ(o.nodes.size(), 2u);
    EXPECT_EQ(count_ops(o, "Reshape"), 1);
    EXPECT_EQ(count_ops(o, "Mul"), 1);
    std::mt19937 r2(5);
    NamedTensors in = random_inputs(g, r2);
    expect_close(run_graph(o, in), run_graph(g, in));
}

TEST(PassesFoldConstants, ConstantGraphOutput) {
    GraphBuilder b;
    ValueId x = b.input("x", {2, 2});
    ValueId c = b.node("Neg", {b.constant("c", Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2}))}, {}, "neg");
    b.output(c);
    b.output(b.node("Add", {x, c}));
    Graph o = optimize_and_compare(b.g, only(&OptimizeOptions::fold_constants));
    EXPECT_EQ(o.nodes.size(), 1u);
    EXPECT_EQ(o.value(o.outputs[0]).name, "neg_out0");
    ASSERT_TRUE(o.value(o.outputs[0]).constant);
}

// ---------------------------------------------------------------- fold_batchnorm

TEST(PassesFoldBatchNorm, ConvWithAndWithoutBias) {
    for (bool bias : {true, false})
        for (int64_t group : {1, 2}) {
            std::mt19937 rng(6);
            GraphBuilder b;
            ValueId x = b.input("x", {2, 4, 7, 6});
            ValueId y = batchnorm(b, conv(b, x, 4, 6, 3, rng, bias, {}, group), 6, rng);
            b.output(b.node("Relu", {y}));
            Graph o = optimize_and_compare(b.g, only(&OptimizeOptions::fold_batchnorm));
            EXPECT_EQ(count_ops(o, "BatchNormalization"), 0) << "bias " << bias << " group " << group;
            ASSERT_EQ(count_ops(o, "Conv"), 1);
            EXPECT_EQ(find_op(o, "Conv")->inputs.size(), 3u);
        }
}

TEST(PassesFoldBatchNorm, ConvTransposeAndGemm) {
    std::mt19937 rng(7);
    GraphBuilder b;
    ValueId x = b.input("x", {2, 4, 5, 5});
    ValueId w = b.random_constant("wt", {4, 3, 3, 3}, rng);  // group 2: C_out = 6
    ValueId t = b.node("ConvTranspose", {x, w}, {{"group", a_int(2)}, {"strides", a_ints({2, 2})}});
    b.output(batchnorm(b, t, 6, rng));
    ValueId v = b.input("v", {3, 5});
    for (int trans_b : {0, 1}) {
        ValueId wb = b.random_constant("gw" + std::to_string(trans_b), trans_b ? Shape{8, 5} : Shape{5, 8}, rng);
        ValueId cb = b.random_constant("gc" + std::to_string(trans_b), trans_b ? Shape{8} : Shape{1, 8}, rng);
        ValueId gm = b.node("Gemm", {v, wb, cb}, {{"transB", a_int(trans_b)}, {"alpha", a_float(0.7f)}, {"beta", a_float(1.3f)}});
        b.output(batchnorm(b, gm, 8, rng));
    }
    ValueId gm = b.node("Gemm", {v, b.random_constant("gw_nob", {5, 8}, rng)});
    b.output(batchnorm(b, gm, 8, rng));
    Graph o = optimize_and_compare(b.g, only(&OptimizeOptions::fold_batchnorm));
    EXPECT_EQ(count_ops(o, "BatchNormalization"), 0);
    EXPECT_EQ(o.nodes.size(), 4u);
}

TEST(PassesFoldBatchNorm, KeepsBatchNormWhenConvOutputIsShared) {
    std::mt19937 rng(8);
    GraphBuilder b;
    ValueId x = b.input("x", {1, 3, 6, 6});
    ValueId c = conv(b, x, 3, 4, 3, rng);
    b.output(batchnorm(b, c, 4, rng));
    b.output(b.node("Relu", {c}));
    ValueId bn2 = batchnorm(b, x, 3, rng);  // after a graph input
    b.output(bn2);
    Graph o = optimize_and_compare(b.g, only(&OptimizeOptions::fold_batchnorm));
    EXPECT_EQ(count_ops(o, "BatchNormalization"), 2);
}

// ---------------------------------------------------------------- fuse_conv_bias_add

TEST(PassesFuseConvBiasAdd, MulAddSubDivChain) {
    for (bool bias : {true, false}) {
        std::mt19937 rng(9);
        GraphBuilder b;
        ValueId x = b.input("x", {2, 3, 6, 5});
        ValueId y = conv(b, x, 3, 5, 3, rng, bias);
        y = b.node("Mul", {y, b.random_constant("m", {5, 1, 1}, rng)});
        y = b.node("Add", {b.random_constant("a", {1, 5, 1, 1}, rng), y});
        y = b.node("Sub", {y, b.constant("s", Tensor::scalar<float>(0.25f))});
        y = b.node("Div", {y, b.random_constant("d", {5, 1, 1}, rng, 0.5f, 2.f)});
        b.output(b.node("Relu", {y}));
        Graph o = optimize_and_compare(b.g, only(&OptimizeOptions::fuse_conv_bias_add));
        EXPECT_EQ(o.nodes.size(), 2u) << "bias " << bias;
        EXPECT_EQ(count_ops(o, "Conv"), 1);
    }
}

TEST(PassesFuseConvBiasAdd, KeepsNonPerChannelOps) {
    std::mt19937 rng(10);
    GraphBuilder b;
    ValueId x = b.input("x", {1, 3, 4, 4});
    ValueId y = conv(b, x, 3, 2, 3, rng);
    y = b.node("Add", {y, b.random_constant("spatial", {1, 1, 4, 4}, rng)});  // varies over H, W
    ValueId z = conv(b, x, 3, 2, 3, rng);
    z = b.node("Sub", {b.random_constant("c", {2, 1, 1}, rng), z});  // c - z
    ValueId u = conv(b, x, 3, 2, 3, rng);
    u = b.node("Mul", {u, b.input("runtime", {1, 2, 1, 1})});  // not a constant
    b.output(y);
    b.output(z);
    b.output(u);
    Graph o = optimize_and_compare(b.g, only(&OptimizeOptions::fuse_conv_bias_add));
    EXPECT_EQ(o.nodes.size(), 6u);
}

// ---------------------------------------------------------------- fuse_conv_activation

TEST(PassesFuseConvActivation, EveryActivation) {
    struct Case {
        const char* op;
        std::map<std::string, Attribute> attrs;
        const char* expect;
        int64_t opset = 17;
    };
    std::vector<Case> cases = {
        {"Relu", {}, "relu"},
        {"Sigmoid", {}, "sigmoid"},
        {"Tanh", {}, "tanh"},
        {"HardSwish", {}, "hardswish"},
        {"HardSigmoid", {}, "hardsigmoid"},
        {"HardSigmoid", {{"alpha", a_float(1.f / 6.f)}, {"beta", a_float(0.5f)}}, "hardsigmoid"},
        {"LeakyRelu", {{"alpha", a_float(0.1f)}}, "leakyrelu"},
        {"LeakyRelu", {}, "leakyrelu"},
        {"Clip", {}, "clip"},  // opset 17: bounds as inputs (added below)
        {"Clip", {{"min", a_float(-0.5f)}, {"max", a_float(0.5f)}}, "clip", 9},
    };
    for (const Case& c : cases) {
        std::mt19937 rng(11);
        GraphBuilder b(c.opset);
        ValueId x = b.input("x", {2, 3, 5, 5});
        ValueId y = conv(b, x, 3, 4, 3, rng);
        std::vector<ValueId> in = {y};
        if (std::string(c.op) == "Clip" && c.opset >= 11) {
            in.push_back(b.constant("lo", Tensor::scalar<float>(0.f)));
            in.push_back(b.constant("hi", Tensor::scalar<float>(0.3f)));
        }
        b.output(b.node(c.op, in, c.attrs, "act"));
        Graph o = optimize_and_compare(b.g, only(&OptimizeOptions::fuse_conv_activation));
        ASSERT_EQ(o.nodes.size(), 1u) << c.op;
        EXPECT_EQ(o.nodes[0].op_type, "FusedConv");
        EXPECT_EQ(o.nodes[0].domain, "edgecnn");
        EXPECT_EQ(activation_of(o.nodes[0]), c.expect) << c.op;
        EXPECT_EQ(o.value(o.outputs[0]).name, "act_out0");
    }
}

TEST(PassesFuseConvActivation, ClipWithOneBound) {
    std::mt19937 rng(12);
    GraphBuilder b;
    ValueId x = b.input("x", {1, 3, 5, 5});
    ValueId y = conv(b, x, 3, 4, 3, rng);
    b.output(b.node("Clip", {y, kNoValue, b.constant("hi", Tensor::scalar<float>(0.2f))}));
    ValueId z = conv(b, x, 3, 4, 1, rng);
    b.output(b.node("Clip", {z, b.constant("lo", Tensor::scalar<float>(-0.1f))}));
    Graph o = optimize_and_compare(b.g, only(&OptimizeOptions::fuse_conv_activation));
    EXPECT_EQ(count_ops(o, "FusedConv"), 2);
    EXPECT_EQ(o.nodes.size(), 2u);
}

TEST(PassesFuseConvActivation, SiluAndHardSwishAsMul) {
    for (int order : {0, 1}) {
        std::mt19937 rng(13);
        GraphBuilder b(13);
        ValueId x = b.input("x", {2, 3, 6, 6});
        ValueId y = conv(b, x, 3, 4, 3, rng);
        ValueId s = b.node("Sigmoid", {y});
        b.output(order ? b.node("Mul", {s, y}) : b.node("Mul", {y, s}));
        ValueId z = conv(b, x, 3, 4, 3, rng);
        ValueId h = b.node("HardSigmoid", {z}, {{"alpha", a_float(1.f / 6.f)}, {"beta", a_float(0.5f)}});
        b.output(order ? b.node("Mul", {h, z}) : b.node("Mul", {z, h}));
        ValueId u = conv(b, x, 3, 4, 3, rng);
        ValueId h2 = b.node("HardSigmoid", {u});  // alpha 0.2: not a HardSwish
        b.output(b.node("Mul", {u, h2}));
        Graph o = optimize_and_compare(b.g, only(&OptimizeOptions::fuse_conv_activation));
        EXPECT_EQ(count_ops(o, "FusedConv"), 2) << order;
        EXPECT_EQ(count_ops(o, "Conv"), 1);
        EXPECT_EQ(o.nodes.size(), 5u);
        std::vector<std::string> acts;
        for (const Node& n : o.nodes)
            if (n.op_type == "FusedConv") acts.push_back(activation_of(n));
        std::sort(acts.begin(), acts.end());
        EXPECT_EQ(acts, (std::vector<std::string>{"hardswish", "silu"}));
    }
}

TEST(PassesFuseConvActivation, KeepsSharedOrOutputIntermediates) {
    std::mt19937 rng(14);
    GraphBuilder b;
    ValueId x = b.input("x", {1, 3, 5, 5});
    ValueId y = conv(b, x, 3, 4, 3, rng);
    b.output(y);  // the conv output is a graph output
    b.output(b.node("Relu", {y}));
    ValueId z = conv(b, x, 3, 4, 3, rng);
    b.output(b.node("Relu", {z}));
    b.output(b.node("Sigmoid", {z}));  // two readers
    Graph o = optimize_and_compare(b.g, only(&OptimizeOptions::fuse_conv_activation));
    EXPECT_EQ(count_ops(o, "FusedConv"), 0);
    EXPECT_EQ(o.nodes.size(), 5u);
}

TEST(PassesFuseConvActivation, HardSwishWrittenOut) {
    for (int tail : {0, 1}) {  // Div by 6, or Mul by 1/6
        for (int64_t opset : {9, 13}) {
            std::mt19937 rng(23);
            GraphBuilder b(opset);
            ValueId x = b.input("x", {1, 3, 6, 6});
            ValueId y = conv(b, x, 3, 4, 3, rng);
            ValueId a = b.node("Add", {y, b.constant("three", Tensor::scalar<float>(3.f))});
            ValueId c = opset < 11 ? b.node("Clip", {a}, {{"min", a_float(0.f)}, {"max", a_float(6.f)}})
                                   : b.node("Clip", {a, b.constant("z", Tensor::scalar<float>(0.f)),
                                                     b.constant("six", Tensor::scalar<float>(6.f))});
            ValueId m = b.node("Mul", {y, c});
            ValueId d = tail ? b.node("Mul", {m, b.constant("sixth", Tensor::scalar<float>(1.f / 6.f))})
                             : b.node("Div", {m, b.constant("six_d", Tensor::scalar<float>(6.f))});
            b.output(d);
            Graph o = optimize_and_compare(b.g, only(&OptimizeOptions::fuse_conv_activation));
            ASSERT_EQ(o.nodes.size(), 1u) << tail << " " << opset;
            EXPECT_EQ(activation_of(o.nodes[0]), "hardswish");
        }
    }
}

// ---------------------------------------------------------------- fold_affine_into_conv

TEST(PassesFoldAffineIntoConv, MulAndAddBeforeConv) {
    for (int64_t group : {1, 3}) {
        std::mt19937 rng(24);
        GraphBuilder b;
        ValueId x = b.input("x", {2, 6, 5, 7});
        ValueId v = b.node("Mul", {x, b.random_constant("s", {1, 6, 1, 1}, rng)});
        v = b.node("Add", {b.random_constant("t", {6, 1, 1}, rng), v});
        // 1x1 conv without padding: both fold.
        b.output(conv(b, v, 6, 9, 1, rng, group == 1, {{"pads", a_ints({0, 0, 0, 0})}}, group));
        // Padded 3x3 conv: only the Mul folds.
        ValueId u = b.node("Mul", {b.node("Relu", {x}), b.constant("k", Tensor::scalar<float>(0.5f))});
        u = b.node("Add", {u, b.constant("t2", Tensor::scalar<float>(0.25f))});
        ValueId u2 = b.node("Mul", {b.node("Sigmoid", {u}), b.random_constant("s2", {6, 1, 1}, rng)});
        b.output(conv(b, u2, 6, 6, 3, rng, true, {}, group));
        Graph o = optimize_and_compare(b.g, only(&OptimizeOptions::fold_affine_into_conv));
        EXPECT_EQ(count_ops(o, "Conv"), 2);
        EXPECT_EQ(count_ops(o, "Mul"), 1) << group;  // the Mul before Add (not read by a conv)
        EXPECT_EQ(count_ops(o, "Add"), 1) << group;
        EXPECT_EQ(o.nodes.size(), 6u) << group;
    }
}

TEST(PassesFoldAffineIntoConv, KeepsAddBeforePaddedConvAndSharedValues) {
    std::mt19937 rng(25);
    GraphBuilder b;
    ValueId x = b.input("x", {1, 3, 5, 5});
    ValueId v = b.node("Add", {x, b.random_constant("t", {3, 1, 1}, rng)});
    b.output(conv(b, v, 3, 4, 3, rng));  // pads 1: an Add cannot fold
    ValueId w = b.node("Mul", {x, b.random_constant("s", {3, 1, 1}, rng)});
    b.output(conv(b, w, 3, 4, 1, rng));
    b.output(w);  // the scaled value is a graph output: kept
    ValueId z = b.node("Mul", {x, b.random_constant("sp", {1, 1, 5, 5}, rng)});
    b.output(conv(b, z, 3, 4, 1, rng));  // varies over space
    Graph o = optimize_and_compare(b.g, only(&OptimizeOptions::fold_affine_into_conv));
    EXPECT_EQ(o.nodes.size(), 6u);
}

TEST(PassesFoldConstants, ShapeChainsBehindDataDependentReshape) {
    // The second Reshape's target comes from the shape of a value that is only known once
    // the first Reshape's target has been folded.
    GraphBuilder b;
    ValueId x = b.input("x", {2, 3, 4});
    ValueId t1 = b.node("Concat", {b.node("Shape", {x}, {{"end", a_int(1)}}), b.constant("m1", Tensor::from_vector<int64_t>({-1}, {1}))}, {{"axis", a_int(0)}});
    ValueId r1 = b.node("Reshape", {x, t1});  // [2,12]
    ValueId e = b.node("Relu", {r1});
    ValueId t2 = b.node("Concat", {b.node("Shape", {e}), b.constant("one", Tensor::from_vector<int64_t>({1}, {1}))}, {{"axis", a_int(0)}});
    b.output(b.node("Reshape", {e, t2}));  // [2,12,1]
    Graph g = b.g;
    verify_and_sort(g);
    fold_constants(g);
    EXPECT_EQ(g.nodes.size(), 3u);  // Reshape, Relu, Reshape
    EXPECT_EQ(infer_shapes(g), 0);
    std::mt19937 rng(26);
    NamedTensors in = random_inputs(g, rng);
    expect_close(run_graph(g, in), run_graph(b.g, in));
}

// ---------------------------------------------------------------- fuse_conv_residual

TEST(PassesFuseConvResidual, ResNetBasicBlock) {
    std::mt19937 rng(15);
    GraphBuilder b;
    ValueId x = b.input("x", {2, 8, 6, 6});
    ValueId h = b.node("Relu", {conv(b, x, 8, 8, 3, rng)});
    ValueId y = b.node("Add", {conv(b, h, 8, 8, 3, rng), x});
    y = b.node("Relu", {y}, {}, "block_out");
    // Downsampling block: both Add inputs are convs.
    ValueId m = b.node("Relu", {conv(b, y, 8, 16, 3, rng, true, {{"strides", a_ints({2, 2})}})});
    ValueId main = conv(b, m, 16, 16, 3, rng);
    ValueId sc = conv(b, y, 8, 16, 1, rng, false, {{"strides", a_ints({2, 2})}});
    ValueId z = b.node("Relu", {b.node("Add", {main, sc})}, {}, "out");
    b.output(z);
    OptimizeOptions opt;
    Graph o = optimize_and_compare(b.g, opt);
    EXPECT_EQ(count_ops(o, "Add"), 0);
    EXPECT_EQ(count_ops(o, "Relu"), 0);
    EXPECT_EQ(count_ops(o, "FusedConv"), 4);
    EXPECT_EQ(count_ops(o, "Conv"), 1);  // the shortcut conv, read as a residual
    int with_r = 0;
    for (const Node& n : o.nodes)
        if (n.op_type == "FusedConv" && n.inputs.size() == 4 && n.inputs[3] != kNoValue) {
            ++with_r;
            EXPECT_EQ(activation_of(n), "relu");
        }
    EXPECT_EQ(with_r, 2);
    EXPECT_EQ(o.value(o.outputs[0]).name, "out_out0");
}

TEST(PassesFuseConvResidual, OnlyExactShapes) {
    std::mt19937 rng(16);
    GraphBuilder b;
    ValueId x = b.input("x", {1, 4, 5, 5});
    ValueId y = conv(b, x, 4, 4, 3, rng);
    b.output(b.node("Add", {y, b.input("bcast", {1, 4, 1, 1})}));  // broadcasts: not a residual
    ValueId z = conv(b, x, 4, 4, 3, rng);
    b.output(b.node("Add", {b.input("r", {1, 4, 5, 5}), z}));  // residual on the left
    Graph o = optimize_and_compare(b.g, only(&OptimizeOptions::fuse_conv_residual));
    EXPECT_EQ(count_ops(o, "FusedConv"), 1);
    EXPECT_EQ(count_ops(o, "Add"), 1);
}

// ---------------------------------------------------------------- pipeline

TEST(PassesPipeline, LevelZeroAndFlagsChangeNothing) {
    std::mt19937 rng(17);
    GraphBuilder b;
    ValueId x = b.input("x", {1, 3, 5, 5});
    b.output(b.node("Relu", {batchnorm(b, conv(b, x, 3, 4, 3, rng), 4, rng)}));
    Graph g = b.g;
    specialize(g);
    OptimizeOptions off;
    off.level = 0;
    Graph o = g;
    optimize_graph(o, off);
    EXPECT_EQ(o.nodes.size(), 3u);
    OptimizeOptions no_bn;
    no_bn.fold_batchnorm = false;
    o = g;
    optimize_graph(o, no_bn);
    EXPECT_EQ(count_ops(o, "BatchNormalization"), 1);
    o = optimize_and_compare(b.g);
    EXPECT_EQ(o.nodes.size(), 1u);
    EXPECT_EQ(activation_of(o.nodes[0]), "relu");
}

TEST(PassesPipeline, DeadCodeAndUnusedConstantsReleased) {
    std::mt19937 rng(18);
    GraphBuilder b;
    ValueId x = b.input("x", {1, 3, 5, 5});
    ValueId y = batchnorm(b, conv(b, x, 3, 4, 3, rng), 4, rng);
    b.node("Sigmoid", {y});  // nobody reads it
    b.output(b.node("Relu", {y}));
    Graph o = optimize_and_compare(b.g);
    EXPECT_EQ(o.nodes.size(), 1u);
    // The original weights and BN parameters are no longer held.
    int64_t held = 0;
    for (const Value& v : o.values)
        if (v.constant) held += v.constant->numel();
    EXPECT_EQ(held, 4 * 3 * 3 * 3 + 4);
}

// ---------------------------------------------------------------- edgecnn.FusedConv kernel

TEST(PassesFusedConvOp, MatchesConvPlusResidualPlusActivation) {
    const std::vector<std::pair<std::string, std::pair<float, float>>> acts = {
        {"none", {0, 0}},        {"relu", {0, 0}},      {"clip", {-0.2f, 0.3f}}, {"hardsigmoid", {0.2f, 0.5f}},
        {"hardswish", {0, 0}},   {"sigmoid", {0, 0}},   {"silu", {0, 0}},        {"leakyrelu", {0.1f, 0}},
        {"tanh", {0, 0}}};
    for (const auto& [act, ab] : acts)
        for (bool residual : {false, true}) {
            std::mt19937 rng(19);
            GraphBuilder b;
            ValueId x = b.input("x", {2, 4, 7, 5});
            ValueId r = b.input("r", {2, 6, 4, 3});
            ValueId w = b.random_constant("w", {6, 2, 3, 3}, rng);
            ValueId bias = b.random_constant("b", {6}, rng);
            std::map<std::string, Attribute> conv_attrs = {
                {"group", a_int(2)}, {"strides", a_ints({2, 2})}, {"pads", a_ints({1, 1, 1, 1})}};
            // Reference: Conv, Add, activation op.
            ValueId y = b.node("Conv", {x, w, bias}, conv_attrs);
            if (residual) y = b.node("Add", {y, r});
            if (act == "relu") y = b.node("Relu", {y});
            if (act == "clip")
                y = b.node("Clip", {y, b.constant("lo", Tensor::scalar(ab.first)), b.constant("hi", Tensor::scalar(ab.second))});
            if (act == "hardsigmoid") y = b.node("HardSigmoid", {y});
            if (act == "hardswish") y = b.node("HardSwish", {y});
            if (act == "sigmoid") y = b.node("Sigmoid", {y});
            if (act == "silu") y = b.node("Mul", {y, b.node("Sigmoid", {y})});
            if (act == "leakyrelu") y = b.node("LeakyRelu", {y}, {{"alpha", a_float(ab.first)}});
            if (act == "tanh") y = b.node("Tanh", {y});
            b.output(y);
            // Same with the internal op.
            auto fattrs = conv_attrs;
            fattrs["activation"] = a_string(act);
            fattrs["activation_alpha"] = a_float(ab.first);
            fattrs["activation_beta"] = a_float(ab.second);
            std::vector<ValueId> fin = {x, w, bias};
            if (residual) fin.push_back(r);
            b.node("FusedConv", fin, fattrs, "fused");
            b.g.nodes.back().domain = "edgecnn";
            b.output(b.g.nodes.back().outputs[0]);
            Graph g = b.g;
            specialize(g);
            std::mt19937 r2(20);
            NamedTensors out = run_graph(g, random_inputs(g, r2));
            ASSERT_EQ(out.size(), 2u);
            expect_close({{"", out[1].second}}, {{"", out[0].second}}, 1e-6);
        }
}

TEST(PassesFusedConvOp, Validation) {
    auto make = [](std::map<std::string, Attribute> attrs, Shape r_shape) {
        std::mt19937 rng(21);
        GraphBuilder b;
        ValueId x = b.input("x", {1, 2, 4, 4});
        std::vector<ValueId> in = {x, b.random_constant("w", {3, 2, 3, 3}, rng), kNoValue};
        if (!r_shape.empty()) in.push_back(b.input("r", r_shape));
        b.node("FusedConv", in, attrs, "f");
        b.g.nodes.back().domain = "edgecnn";
        b.output(b.g.nodes.back().outputs[0]);
        verify_and_sort(b.g);
        std::mt19937 r2(22);
        Session s(std::make_shared<Graph>(b.g));
        return s.run(random_inputs(b.g, r2));
    };
    EXPECT_NO_THROW(make({{"activation", a_string("relu")}}, {1, 3, 2, 2}));
    EXPECT_THROW(make({{"activation", a_string("gelu")}}, {}), Error);
    EXPECT_THROW(make({{"activation", a_string("clip")}, {"activation_alpha", a_float(1.f)}}, {}), Error);
    EXPECT_THROW(make({{"bogus", a_int(1)}}, {}), Error);
    EXPECT_THROW(make({{"group", a_int(0)}}, {}), Error);
    EXPECT_THROW(make({}, {1, 3, 4, 4}), Error);  // R does not match the output [1,3,2,2]
    EXPECT_THROW(make({{"pads", a_ints({1, 1})}}, {}), Error);
}
