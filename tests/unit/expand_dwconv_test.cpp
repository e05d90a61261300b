// edgecnn.ExpandDwNhwc (a 1x1 expand conv and the depthwise conv reading it, run in row
// bands) against the two ConvNhwc ops it replaces, made the same way a plan makes them:
// the outputs must be bit-identical (same per-element arithmetic). Random shapes: 3x3 and
// 5x5, stride 1 and 2, dilation 1 and 2, symmetric and asymmetric pads, odd sizes, Cexp
// not a multiple of 16, activations None/Relu/Clip/HardSwish, with and without biases,
// bands of 1..5 rows and the default, no pool and pools of 2 and 3 threads, every ISA level.
// Then the pass (passes/fuse_expand_dwconv.cpp) in a session: it fuses what it should,
// not what it must not, and the session's outputs do not change.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.hpp"
#include "isa_test_util.hpp"
#include "op_test_util.hpp"
#include "ops/op.hpp"
#include "runtime/session.hpp"
#include "synthetic_models.hpp"

namespace edgecnn {
namespace {

using test::attr_float;
using test::attr_int;
using test::attr_ints;
using test::attr_string;

struct Case {
    int64_t n, h, w, cin, cexp, k, stride, dil;
    int64_t pads[4];
    int act1, act2;  // index into kActs
    bool bias1, bias2;
};

const char* const kActs[] = {"none", "relu", "clip", "hardswish"};

void set_act(Node& n, int act, const std::string& prefix) {
    n.attrs[prefix + "activation"] = attr_string(kActs[act]);
    if (std::string(kActs[act]) == "clip") {
        n.attrs[prefix + "activation_alpha"] = attr_float(0.f);
        n.attrs[prefix + "activation_beta"] = attr_float(0.75f);
    }
}

Tensor random_tensor(Shape s, std::mt19937& rng, float scale = 1.f) {
    Tensor t(DType::F32, s);
    std::uniform_real_distribution<float> u(-scale, scale);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
    return t;
}

ValueId add_const(Graph& g, const std::string& name, const Tensor& t) {
    Value v;
    v.name = name;
    v.constant = std::make_shared<const Tensor>(t);
    return g.add_value(v);
}

// Makes the node's kernel as a plan does, infers, gives it a workspace and runs it.
Tensor run_node(const Graph& g, const Node& n, const std::vector<const Tensor*>& inputs, ThreadPool* pool,
                std::string* kernel_name = nullptr) {
    OpAttrs attrs(n, 17, &g, pool, true);
    auto kernel = OpRegistry::instance().find_for(n, 17)->factory(attrs);
    EXPECT_TRUE(attrs.unread().empty()) << n.op_type << " left attribute " << attrs.unread()[0];
    std::vector<ValueInfo> in(inputs.size()), out(1);
    for (size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i]) {
            in[i].present = false;
            continue;
        }
        in[i].dtype = DType::F32, in[i].shape = inputs[i]->shape(), in[i].data = i ? inputs[i] : nullptr;
    }
    EXPECT_TRUE(kernel->infer(in, out));
    std::vector<float> ws(size_t(kernel->workspace_bytes() / 4 + 16));
    kernel->set_workspace(ws.data());
    Tensor y(DType::F32, out[0].shape);
    kernel->run(inputs, {&y});
    if (kernel_name) *kernel_name = kernel->kernel_name();
    return y;
}

void check(const Case& c, std::mt19937& rng, ThreadPool* pool, const std::string& what) {
    Graph g;
    g.opset = 17;
    const Tensor w1 = random_tensor({c.cexp, c.cin, 1, 1}, rng, 0.5f), b1 = random_tensor({c.cexp}, rng);
    const Tensor w2 = random_tensor({c.cexp, 1, c.k, c.k}, rng, 0.5f), b2 = random_tensor({c.cexp}, rng);
    Value vx;
    vx.name = "x";
    const ValueId x = g.add_value(vx);
    const ValueId w1v = add_const(g, "w1", w1), b1v = add_const(g, "b1", b1);
    const ValueId w2v = add_const(g, "w2", w2), b2v = add_const(g, "b2", b2);
    Node e;
    e.name = "expand";
    e.domain = "edgecnn";
    e.op_type = "ConvNhwc";
    e.inputs = {x, w1v, c.bias1 ? b1v : kNoValue};
    e.attrs["strides"] = attr_ints({1, 1});
    e.attrs["dilations"] = attr_ints({1, 1});
    e.attrs["pads"] = attr_ints({0, 0, 0, 0});
    e.attrs["group"] = attr_int(1);
    set_act(e, c.act1, "");
    Node d;
    d.name = "dw";
    d.domain = "edgecnn";
    d.op_type = "ConvNhwc";
    d.inputs = {x, w2v, c.bias2 ? b2v : kNoValue};
    d.attrs["strides"] = attr_ints({c.stride, c.stride});
    d.attrs["dilations"] = attr_ints({c.dil, c.dil});
    d.attrs["pads"] = attr_ints({c.pads[0], c.pads[1], c.pads[2], c.pads[3]});
    d.attrs["group"] = attr_int(c.cexp);
    set_act(d, c.act2, "");
    Node f;
    f.name = "fused";
    f.domain = "edgecnn";
    f.op_type = "ExpandDwNhwc";
    f.inputs = {x, w1v, c.bias1 ? b1v : kNoValue, w2v, c.bias2 ? b2v : kNoValue};
    f.attrs["strides"] = d.attrs["strides"];
    f.attrs["dilations"] = d.attrs["dilations"];
    f.attrs["pads"] = d.attrs["pads"];
    set_act(f, c.act1, "expand_");
    set_act(f, c.act2, "");

    const Tensor xt = random_tensor({c.n, c.h, c.w, c.cin}, rng);
    const Tensor mid = run_node(g, e, {&xt, &w1, c.bias1 ? &b1 : nullptr}, pool);
    const Tensor want = run_node(g, d, {&mid, &w2, c.bias2 ? &b2 : nullptr}, pool);
    std::string kernel;
    const Tensor got = run_node(g, f, {&xt, &w1, c.bias1 ? &b1 : nullptr, &w2, c.bias2 ? &b2 : nullptr}, pool, &kernel);
    ASSERT_EQ(got.shape(), want.shape()) << what;
    int64_t differ = 0, first = -1;
    for (int64_t i = 0; i < got.numel(); ++i)
        if (std::memcmp(got.data<float>() + i, want.data<float>() + i, 4) != 0) {
            if (first < 0) first = i;
            ++differ;
        }
    EXPECT_EQ(differ, 0) << what << " " << kernel << ": first at " << first << " got "
                         << (first >= 0 ? got.data<float>()[first] : 0.f) << " want "
                         << (first >= 0 ? want.data<float>()[first] : 0.f);
}

// Every output row reads an image row (what the pass requires).
bool rows_read_image(const Case& c) {
    const int64_t oh = (c.h + c.pads[0] + c.pads[2] - c.dil * (c.k - 1) - 1) / c.stride + 1;
    const int64_t ow = (c.w + c.pads[1] + c.pads[3] - c.dil * (c.k - 1) - 1) / c.stride + 1;
    if (oh <= 0 || ow <= 0) return false;
    for (int64_t o = 0; o < oh; ++o) {
        bool any = false;
        for (int64_t t = 0; t < c.k; ++t) any |= o * c.stride - c.pads[0] + t * c.dil >= 0 && o * c.stride - c.pads[0] + t * c.dil < c.h;
        if (!any) return false;
    }
    return true;
}

struct BandEnv {
    explicit BandEnv(int rows) {
        if (rows > 0) setenv("EDGECNN_EXPAND_DW_BAND", std::to_string(rows).c_str(), 1);
        else unsetenv("EDGECNN_EXPAND_DW_BAND");
    }
    ~BandEnv() { unsetenv("EDGECNN_EXPAND_DW_BAND"); }
};

TEST(ExpandDwNhwc, BitIdenticalToTheTwoConvsOnEveryIsaAndPool) {
    std::mt19937 rng(20261128);
    ThreadPool pool2(2), pool3(3);
    ThreadPool* pools[] = {nullptr, &pool2, &pool3};
    std::uniform_int_distribution<int> hw(1, 23), cin(9, 40), cexp(2, 70), act(0, 3), coin(0, 1), band(0, 5), pick(0, 2);
    int cases = 0;
    for (Isa isa : isas()) {
        IsaGuard guard(isa);
        for (int t = 0; t < 40; ++t) {
            Case c{};
            c.n = 1 + (t % 5 == 0);
            c.h = hw(rng), c.w = hw(rng), c.cin = cin(rng), c.cexp = cexp(rng);
            if (t % 7 == 0) c.cexp = 64;  // a full vector multiple too
            c.k = coin(rng) ? 3 : 5;
            c.stride = 1 + coin(rng);
            c.dil = t % 6 == 5 ? 2 : 1;
            std::uniform_int_distribution<int64_t> pad(0, c.k - 1);
            const bool symmetric = coin(rng);
            for (int64_t& p : c.pads) p = symmetric ? c.k / 2 : pad(rng);
            c.act1 = act(rng), c.act2 = act(rng);
            c.bias1 = t % 4 != 1, c.bias2 = t % 4 != 2;
            if (!rows_read_image(c)) continue;
            const int rows = band(rng);
            BandEnv env(rows);
            const int pi = pick(rng);
            const std::string what = std::string(isa_name(isa)) + " case " + std::to_string(t) + ": n" + std::to_string(c.n) + " " +
                                     std::to_string(c.h) + "x" + std::to_string(c.w) + " cin " + std::to_string(c.cin) +
                                     " cexp " + std::to_string(c.cexp) + " k" + std::to_string(c.k) + " s" + std::to_string(c.stride) +
                                     " d" + std::to_string(c.dil) + " pads " + std::to_string(c.pads[0]) + "," +
                                     std::to_string(c.pads[1]) + "," + std::to_string(c.pads[2]) + "," + std::to_string(c.pads[3]) +
                                     " acts " + kActs[c.act1] + "/" + kActs[c.act2] + " band " + std::to_string(rows) +
                                     " threads " + std::to_string(pools[pi] ? pools[pi]->size() : 0);
            check(c, rng, pools[pi], what);
            ++cases;
        }
    }
    EXPECT_GT(cases, 20 * int(isas().size()));
}

// Output rows whose window reads only padding (large pads): the kernel runs the map as one
// band then, still bit-identical.
TEST(ExpandDwNhwc, PaddingOnlyRowsBitIdentical) {
    std::mt19937 rng(11);
    ThreadPool pool2(2);
    for (Isa isa : isas()) {
        IsaGuard guard(isa);
        for (int rows : {0, 1, 3}) {
            BandEnv env(rows);
            Case c{1, 8, 9, 12, 20, 3, 1, 1, {4, 1, 4, 2}, 1, 2, true, true};
            check(c, rng, &pool2, std::string(isa_name(isa)) + " pads 4,1,4,2 band " + std::to_string(rows));
            Case d{2, 5, 6, 16, 33, 5, 2, 1, {5, 2, 6, 0}, 3, 0, false, true};
            check(d, rng, nullptr, std::string(isa_name(isa)) + " k5 s2 pads 5,2,6,0 band " + std::to_string(rows));
        }
    }
}

// A node that does not hold together is refused with a message, at kernel creation or
// shape inference (an .ecnn file may carry any attributes).
TEST(ExpandDwNhwc, RejectsWeightsAndAttributesThatDoNotFit) {
    std::mt19937 rng(5);
    auto attempt = [&](Shape w1s, Shape b1s, Shape w2s, std::vector<int64_t> strides, std::vector<int64_t> pads) {
        Graph g;
        g.opset = 17;
        Value vx;
        vx.name = "x";
        const ValueId x = g.add_value(vx);
        Node f;
        f.name = "fused";
        f.domain = "edgecnn";
        f.op_type = "ExpandDwNhwc";
        f.inputs = {x, add_const(g, "w1", random_tensor(w1s, rng)), add_const(g, "b1", random_tensor(b1s, rng)),
                    add_const(g, "w2", random_tensor(w2s, rng)), kNoValue};
        f.attrs["strides"] = attr_ints(strides);
        f.attrs["pads"] = attr_ints(pads);
        OpAttrs attrs(f, 17, &g, nullptr, true);
        auto kernel = OpRegistry::instance().find_for(f, 17)->factory(attrs);
        std::vector<ValueInfo> in(5), out(1);
        in[0].dtype = DType::F32, in[0].shape = {1, 8, 8, 16};
        for (int i = 1; i < 5; ++i) in[size_t(i)].present = i != 4;
        kernel->infer(in, out);
    };
    EXPECT_NO_THROW(attempt({32, 16, 1, 1}, {32}, {32, 1, 3, 3}, {2, 2}, {1, 1, 1, 1}));
    EXPECT_THROW(attempt({32, 16, 3, 3}, {32}, {32, 1, 3, 3}, {1, 1}, {1, 1, 1, 1}), Error);  // expand not 1x1
    EXPECT_THROW(attempt({32, 16, 1, 1}, {31}, {32, 1, 3, 3}, {1, 1}, {1, 1, 1, 1}), Error);  // bias size
    EXPECT_THROW(attempt({32, 16, 1, 1}, {32}, {24, 1, 3, 3}, {1, 1}, {1, 1, 1, 1}), Error);  // channel counts
    EXPECT_THROW(attempt({32, 12, 1, 1}, {32}, {32, 1, 3, 3}, {1, 1}, {1, 1, 1, 1}), Error);  // Cin vs input
    EXPECT_THROW(attempt({32, 16, 1, 1}, {32}, {32, 1, 3, 3}, {0, 1}, {1, 1, 1, 1}), Error);  // stride 0
    EXPECT_THROW(attempt({32, 16, 1, 1}, {32}, {32, 1, 3, 3}, {1, 1}, {-1, 1, 1, 1}), Error);  // negative pad
    // Rows reading only padding are computed (they are inside a band that reads image
    // rows); a conv whose every tap reads padding is refused.
    EXPECT_NO_THROW(attempt({32, 16, 1, 1}, {32}, {32, 1, 3, 3}, {1, 1}, {4, 1, 4, 1}));
    EXPECT_THROW(attempt({32, 16, 1, 1}, {32}, {32, 1, 3, 3}, {20, 1}, {5, 1, 5, 1}), Error);
}

// MobileNet-like block: 1x1 conv 16 → `cin` channels, expand `cin` → `cexp` (Relu), depthwise 3x3 (stride `s`, Relu), project 1x1.
std::shared_ptr<Graph> block_model(int64_t hw, int64_t cexp, int64_t s, bool mid_is_output, bool mid_twice,
                                   int64_t cin = 16) {
    test::SyntheticNet net;
    net.model.set_ir_version(8);
    net.model.add_opset_import()->set_version(13);
    auto* g = net.model.mutable_graph();
    auto* in = g->add_input();
    in->set_name("x");
    auto* tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(1);
    for (int64_t d : {int64_t(1), int64_t(16), hw, hw}) tt->mutable_shape()->add_dim()->set_dim_value(d);
    std::string a = net.conv("x", "pre", 16, cin, 1);
    std::string e = net.conv(a, "expand", cin, cexp, 1);
    std::string d = net.conv(e, "dw", cexp, cexp, 3, s, cexp);
    std::string p = net.conv(d, "project", cexp, 16, 1, 1, 1, false);
    test::add_value_info(g->add_output(), p, {"1", "16", "a", "b"});
    if (mid_is_output) test::add_value_info(g->add_output(), e, {"1", std::to_string(cexp), "c", "d"});
    if (mid_twice) test::add_value_info(g->add_output(), net.conv(e, "other", cexp, 8, 1, 1, 1, false), {"1", "8", "e", "f"});
    return test::import_model(net.model, "block");
}

int count_ops(const Session& s, const std::string& op) {
    int n = 0;
    for (const Node& node : s.plan()->graph().nodes) n += node.op_type == op;
    return n;
}

struct NoFuseEnv {
    NoFuseEnv() { setenv("EDGECNN_NO_EXPAND_DW", "1", 1); }
    ~NoFuseEnv() { unsetenv("EDGECNN_NO_EXPAND_DW"); }
};

// Runs the model with and without the fusion; returns how many ExpandDwNhwc the fused plan
// has and expects identical outputs.
int fused_and_identical(const std::shared_ptr<Graph>& g, int64_t hw, int threads) {
    std::mt19937 rng(7);
    const Tensor x = random_tensor({1, 16, hw, hw}, rng);
    SessionOptions opt;
    opt.num_threads = threads;
    Session fused(g, opt);
    NamedTensors a = fused.run({{"x", x}});
    NamedTensors b;
    {
        NoFuseEnv off;
        Session plain(g, opt);
        b = plain.run({{"x", x}});
        EXPECT_EQ(count_ops(plain, "ExpandDwNhwc"), 0);
    }
    EXPECT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
        EXPECT_EQ(a[i].second.shape(), b[i].second.shape());
        if (a[i].second.nbytes() != b[i].second.nbytes()) continue;
        EXPECT_EQ(std::memcmp(a[i].second.raw(), b[i].second.raw(), a[i].second.nbytes()), 0) << "output " << i;
    }
    return count_ops(fused, "ExpandDwNhwc");
}

TEST(FuseExpandDwconv, FusesLargeSingleReaderMapsOnly) {
    // 64 x 72 x 72 floats = 1.3 MB: fused, at stride 1 and 2, 1 and 2 threads.
    for (int64_t s : {1, 2})
        for (int threads : {1, 2}) EXPECT_EQ(fused_and_identical(block_model(72, 64, s, false, false), 72, threads), 1);
    // Small map (64 x 24 x 24 = 147 KB): left to the two ops.
    EXPECT_EQ(fused_and_identical(block_model(24, 64, 2, false, false), 24, 1), 0);
    // The expanded map is a graph output, or has a second reader: not fused.
    EXPECT_EQ(fused_and_identical(block_model(72, 64, 2, true, false), 72, 1), 0);
    EXPECT_EQ(fused_and_identical(block_model(72, 64, 2, false, true), 72, 1), 0);
    // A compute-bound expansion (24 input channels) and one the direct small-Cin kernel
    // runs (8): not fused either.
    EXPECT_EQ(fused_and_identical(block_model(72, 64, 2, false, false, 24), 72, 1), 0);
    EXPECT_EQ(fused_and_identical(block_model(72, 64, 2, false, false, 8), 72, 1), 0);
}

}  // namespace
}  // namespace edgecnn
