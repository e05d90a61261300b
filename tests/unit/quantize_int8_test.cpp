// INT8 end to end: the int8 ops against the scalar reference (every path, every ISA),
// QDQ models run op by op (reference interpreter) vs the fused int8 plan, the ONNX writer
// round trip, and the accuracy guard on a model with one fragile layer.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "base/thread_pool.hpp"
#include "isa_test_util.hpp"
#include "kernels/int8/dwconv_u8s8.hpp"
#include "kernels/int8/qadd_u8.hpp"
#include "kernels/int8/quantize_u8.hpp"
#include "kernels/int8/requant.hpp"
#include "kernels/reference/qconv_ref.hpp"
#include "onnx/exporter.hpp"
#include "onnx/importer.hpp"
#include "passes/graph_util.hpp"
#include "passes_test_util.hpp"
#include "quant/quantize.hpp"
#include "runtime/plan.hpp"
#include "runtime/session.hpp"

using namespace edgecnn;
using namespace edgecnn::test;

namespace {

struct ConvCase {
    int64_t n, h, w, c, oc, kh, kw, group, stride, pad, dil;
};

// Runs edgecnn.QConvNhwc (made through the registry, as a plan makes it) and compares
// with qconv_nhwc_ref bit for bit.
void check_qconv(const ConvCase& k, std::mt19937& rng) {
    std::uniform_int_distribution<int> u8(0, 255), s8(-127, 127), zp(1, 254), bias(-3000, 3000);
    Graph g;
    g.opset = 17;
    Tensor w(DType::I8, {k.oc, k.c / k.group, k.kh, k.kw});
    for (int64_t i = 0; i < w.numel(); ++i) w.data<int8_t>()[i] = int8_t(s8(rng));
    Tensor b(DType::I32, {k.oc});
    for (int64_t i = 0; i < b.numel(); ++i) b.data<int32_t>()[i] = bias(rng);
    Value vx;
    vx.name = "x";
    ValueId x = g.add_value(vx);
    Value vw;
    vw.name = "w";
    vw.constant = std::make_shared<const Tensor>(w);
    ValueId wid = g.add_value(vw);
    Value vb;
    vb.name = "b";
    vb.constant = std::make_shared<const Tensor>(b);
    ValueId bid = g.add_value(vb);
    Node n;
    n.name = "q";
    n.domain = "edgecnn";
    n.op_type = "QConvNhwc";
    n.inputs = {x, wid, bid};
    const float x_scale = 0.02f, y_scale = 0.05f;
    const int32_t x_zero = zp(rng), y_zero = zp(rng);
    std::vector<float> w_scales(size_t(k.oc));
    std::uniform_real_distribution<float> ws(0.001f, 0.01f);
    for (auto& s : w_scales) s = ws(rng) / float(k.kh * k.kw * (k.c / k.group));
    n.attrs["strides"] = a_ints({k.stride, k.stride});
    n.attrs["dilations"] = a_ints({k.dil, k.dil});
    n.attrs["pads"] = a_ints({k.pad, k.pad, k.pad, k.pad});
    n.attrs["group"] = a_int(k.group);
    n.attrs["x_scale"] = a_float(x_scale);
    n.attrs["y_scale"] = a_float(y_scale);
    n.attrs["x_zero_point"] = a_int(x_zero);
    n.attrs["y_zero_point"] = a_int(y_zero);
    Attribute f;
    f.kind = Attribute::Kind::Floats;
    f.floats = w_scales;
    n.attrs["w_scales"] = f;
    n.attrs["act_lo"] = a_int(y_zero);  // a fused Relu
    n.attrs["act_hi"] = a_int(255);
    ThreadPool pool(2);
    OpAttrs attrs(n, 17, &g, &pool, true);
    auto kernel = OpRegistry::instance().find_for(n, 17)->factory(attrs);
    std::vector<ValueInfo> in(3), out(1);
    in[0].dtype = DType::U8;
    in[0].shape = {k.n, k.h, k.w, k.c};
    in[1].dtype = DType::I8, in[1].shape = w.shape(), in[1].data = &w;
    in[2].dtype = DType::I32, in[2].shape = b.shape(), in[2].data = &b;
    ASSERT_TRUE(kernel->infer(in, out));
    Tensor xt(DType::U8, in[0].shape);
    for (int64_t i = 0; i < xt.numel(); ++i) xt.data<uint8_t>()[i] = uint8_t(u8(rng));
    Tensor got(DType::U8, out[0].shape), want(DType::U8, out[0].shape);
    std::vector<uint8_t> ws_buf(size_t(std::max<int64_t>(1, kernel->workspace_bytes())));
    kernel->set_workspace(ws_buf.data());
    kernel->run({&xt, &w, &b}, {&got});
    std::vector<float> mult(size_t(k.oc));
    for (int64_t c = 0; c < k.oc; ++c) mult[size_t(c)] = x_scale * w_scales[size_t(c)] / y_scale;
    QRequant rq;
    rq.mult = mult.data(), rq.zero = y_zero, rq.lo = y_zero, rq.hi = 255;
    QConvShape s;
    s.n = k.n, s.h = k.h, s.w = k.w, s.c = k.c, s.out_c = k.oc, s.kh = k.kh, s.kw = k.kw, s.group = k.group;
    s.stride_h = s.stride_w = k.stride, s.dil_h = s.dil_w = k.dil;
    s.pad_t = s.pad_l = s.pad_b = s.pad_r = k.pad;
    qconv_nhwc_ref(s, xt.data<uint8_t>(), x_zero, w.data<int8_t>(), b.data<int32_t>(), rq, want.data<uint8_t>());
    int differ = 0, distinct = 0;
    for (int64_t i = 0; i < got.numel(); ++i) {
        differ += got.data<uint8_t>()[i] != want.data<uint8_t>()[i];
        distinct += want.data<uint8_t>()[i] != want.data<uint8_t>()[0];
    }
    EXPECT_EQ(differ, 0) << kernel->kernel_name() << " c=" << k.c << " oc=" << k.oc << " k=" << k.kh << " g=" << k.group
                         << " s=" << k.stride << " p=" << k.pad;
    EXPECT_GT(distinct, 0);
}

}  // namespace

TEST(QConvNhwc, EveryPathBitExactWithReferenceOnEveryIsa) {
    const ConvCase cases[] = {
        {2, 7, 9, 19, 37, 1, 1, 1, 1, 0, 1},   // 1x1: one GEMM in place
        {1, 11, 10, 5, 33, 3, 3, 1, 1, 1, 1},  // 3x3 pad 1: im2col, zero point padding
        {1, 12, 13, 16, 20, 3, 3, 1, 2, 1, 1},  // stride 2
        {1, 9, 9, 6, 9, 5, 3, 3, 1, 2, 1},      // grouped, non-square kernel
        {1, 10, 11, 8, 8, 3, 3, 1, 1, 2, 2},    // dilated
        {2, 9, 8, 21, 21, 3, 3, 21, 1, 1, 1},   // depthwise
        {1, 10, 10, 35, 35, 3, 3, 35, 2, 1, 1},  // depthwise stride 2
        {1, 6, 7, 144, 144, 3, 3, 144, 1, 1, 1},  // depthwise, 64-channel blocks + a tail of 16
        {1, 5, 5, 113, 113, 5, 5, 113, 2, 2, 1},  // depthwise 5x5, tail of 49
        {1, 9, 8, 70, 70, 3, 3, 70, 1, 2, 2},     // depthwise dilated, tail of 6
        {1, 8, 9, 24, 24, 7, 7, 24, 2, 3, 1},     // depthwise 7x7 (49 taps: 13 groups of 4)
        {2, 4, 4, 3, 3, 1, 1, 3, 1, 0, 1},        // depthwise 1x1 (taps padded to 4)
        {1, 3, 3, 64, 130, 1, 1, 1, 2, 0, 1},   // 1x1 stride 2 (im2col; indirect with VNNI)
        {2, 7, 6, 12, 45, 3, 3, 1, 1, 1, 1},    // 3x3, C a multiple of 4: indirect with VNNI
        {1, 9, 10, 20, 33, 5, 3, 1, 2, 2, 1},   // indirect, stride 2, pads wider than needed
        {1, 9, 9, 8, 17, 3, 3, 1, 1, 2, 3},     // indirect, dilated
        {1, 40, 40, 4, 9, 7, 7, 1, 1, 3, 1},    // indirect in two row chunks (1600 rows, 49 taps)
        {2, 15, 13, 3, 32, 3, 3, 1, 2, 1, 1},   // the stem: im2col of 3 channels, stride 2, odd sizes
        {1, 7, 9, 5, 6, 3, 2, 1, 3, 2, 1},      // im2col, stride 3, pads past the first columns
    };
    for (Isa isa : isas()) {
        IsaGuard guard(isa);
        std::mt19937 rng(7);
        for (const auto& c : cases) check_qconv(c, rng);
    }
}

// The depthwise kernel called directly: channel counts around every vector width and
// block (1..144), asymmetric pads, odd sizes, strides 1..3, dilations, kernel widths past
// one group of 4 taps, several images, zero points at both ends, narrowed output ranges,
// one thread and several.
TEST(DwConvU8S8, BitExactWithReferenceOnAwkwardShapesOnEveryIsa) {
    struct Case {
        int64_t n, h, w, c, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
    };
    const Case cases[] = {
        {1, 7, 9, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    {1, 9, 7, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
        {2, 5, 11, 7, 3, 3, 1, 1, 0, 2, 1, 0, 1, 1},   {1, 13, 13, 16, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1},
        {1, 8, 15, 17, 3, 3, 1, 2, 1, 0, 0, 1, 1, 1},  {1, 12, 9, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
        {1, 11, 12, 33, 3, 3, 2, 1, 2, 1, 0, 2, 1, 1}, {1, 6, 10, 64, 3, 3, 1, 1, 1, 1, 1, 1, 2, 2},
        {1, 7, 7, 96, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},   {2, 4, 5, 144, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
        {1, 9, 9, 24, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1},   {1, 10, 11, 19, 5, 6, 2, 3, 3, 1, 2, 4, 1, 1},
        {1, 5, 6, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},   {1, 6, 13, 9, 1, 9, 1, 1, 0, 4, 0, 4, 1, 1},
        {1, 12, 4, 20, 7, 2, 3, 1, 3, 0, 3, 1, 1, 2},  {1, 3, 3, 18, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1},
        // A row too wide for the converted-row kernels' scratch bound: the row kernels.
        {1, 3, 70001, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
    };
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> u8(0, 255), s8(-127, 127), bias(-20000, 20000);
    std::uniform_real_distribution<float> ms(0.0005f, 0.004f);
    ThreadPool pool(3);
    int k = 0;
    for (const Case& c : cases) {
        QConvShape s;
        s.n = c.n, s.h = c.h, s.w = c.w, s.c = s.out_c = s.group = c.c, s.kh = c.kh, s.kw = c.kw;
        s.stride_h = c.sh, s.stride_w = c.sw, s.pad_t = c.pt, s.pad_l = c.pl, s.pad_b = c.pb, s.pad_r = c.pr;
        s.dil_h = c.dh, s.dil_w = c.dw;
        std::vector<int8_t> w(size_t(c.c * c.kh * c.kw));
        for (auto& v : w) v = int8_t(s8(rng));
        std::vector<int32_t> b(size_t(c.c));
        for (auto& v : b) v = bias(rng);
        std::vector<float> mult(size_t(c.c));
        for (auto& v : mult) v = ms(rng);
        std::vector<uint8_t> x(size_t(c.n * c.h * c.w * c.c));
        for (auto& v : x) v = uint8_t(u8(rng));
        const int32_t x_zero = k % 3 == 0 ? 0 : k % 3 == 1 ? 255 : u8(rng);
        QRequant rq;
        rq.mult = mult.data(), rq.zero = u8(rng), rq.lo = k % 2 ? rq.zero : 0, rq.hi = k % 4 == 3 ? 200 : 255;
        const size_t out = size_t(c.n * s.out_h() * s.out_w() * c.c);
        std::vector<uint8_t> want(out), got(out);
        qconv_nhwc_ref(s, x.data(), x_zero, w.data(), b.data(), rq, want.data());
        EXPECT_GT(std::count_if(want.begin(), want.end(), [&](uint8_t v) { return v != want[0]; }), 0) << k;
        const PackedDwU8S8 p = pack_dwconv_u8s8(w.data(), b.data(), c.c, c.kh, c.kw);
        for (Isa isa : isas()) {
            IsaGuard guard(isa);
            for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool}) {
                std::fill(got.begin(), got.end(), uint8_t(0x5a));
                dwconv_u8s8_nhwc(s, x.data(), x_zero, p, rq, got.data(), tp);
                EXPECT_EQ(got, want) << dwconv_u8s8_kernel_name() << " case " << k << " threads "
                                     << (tp ? tp->size() : 1);
            }
        }
        ++k;
    }
}

TEST(QuantizeU8, ArrayMatchesScalarOnEveryIsa) {
    // Ties (k + 0.5 steps), huge values, infinities and NaN included.
    const float scale = 0.037f;
    std::vector<float> x;
    std::mt19937 rng(2);
    std::uniform_real_distribution<float> d(-6.f, 12.f);
    for (int k = -300; k < 300; ++k) x.push_back((float(k) + 0.5f) * scale);
    for (int i = 0; i < 1001; ++i) x.push_back(d(rng));
    for (float v : {1e30f, -1e30f, INFINITY, -INFINITY, NAN, 0.f, -0.f}) x.push_back(v);
    std::vector<uint8_t> want(x.size()), got(x.size());
    for (size_t i = 0; i < x.size(); ++i) want[i] = quantize_u8(x[i], scale, 77);
    for (Isa isa : isas()) {
        IsaGuard guard(isa);
        quantize_u8_array(int64_t(x.size()), x.data(), scale, 77, got.data());
        EXPECT_EQ(want, got) << isa_name(isa);
    }
    EXPECT_EQ(want[x.size() - 3], 77);  // NaN → zero point
    EXPECT_EQ(want[x.size() - 7], 255);
}

TEST(QAddU8, BitExactWithReferenceOnEveryIsa) {
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> u8(0, 255);
    std::uniform_real_distribution<float> m(0.05f, 3.f);
    ThreadPool pool(2);
    for (Isa isa : isas()) {
        IsaGuard guard(isa);
        for (int64_t n : {1, 15, 17, 63, 1000, 70001}) {
            std::vector<uint8_t> a(static_cast<size_t>(n)), b(static_cast<size_t>(n)), want(static_cast<size_t>(n)),
                got(static_cast<size_t>(n));
            for (auto& v : a) v = uint8_t(u8(rng));
            for (auto& v : b) v = uint8_t(u8(rng));
            QAddParams p;
            p.a_mult = m(rng), p.b_mult = m(rng), p.a_zero = u8(rng), p.b_zero = u8(rng), p.y_zero = u8(rng);
            p.lo = std::uniform_int_distribution<int>(0, 40)(rng), p.hi = std::uniform_int_distribution<int>(200, 255)(rng);
            qadd_ref(n, a.data(), p.a_mult, p.a_zero, b.data(), p.b_mult, p.b_zero, p.y_zero, p.lo, p.hi, want.data());
            qadd_u8(n, a.data(), b.data(), p, got.data(), &pool);
            EXPECT_EQ(want, got) << qadd_u8_kernel_name() << " n=" << n;
        }
    }
}

namespace {

// A small CNN: conv3x3+relu, maxpool, depthwise 3x3 + relu, residual add + relu, 1x1 conv,
// flatten, gemm+relu, gemm.
Graph small_cnn(std::mt19937& rng) {
    GraphBuilder b(13);
    ValueId x = b.input("x", {1, 3, 12, 12});
    ValueId c1 = b.node("Conv", {x, b.random_constant("w1", {8, 3, 3, 3}, rng), b.random_constant("b1", {8}, rng)},
                        {{"pads", a_ints({1, 1, 1, 1})}}, "conv1");
    ValueId r1 = b.node("Relu", {c1});
    ValueId p1 = b.node("MaxPool", {r1}, {{"kernel_shape", a_ints({2, 2})}, {"strides", a_ints({2, 2})}}, "pool1");
    ValueId d1 = b.node("Conv", {p1, b.random_constant("w2", {8, 1, 3, 3}, rng), b.random_constant("b2", {8}, rng)},
                        {{"pads", a_ints({1, 1, 1, 1})}, {"group", a_int(8)}}, "dw");
    ValueId r2 = b.node("Relu", {d1});
    ValueId s2 = b.node("Relu", {b.node("Add", {r2, p1}, {}, "residual")});
    ValueId c3 = b.node("Conv", {s2, b.random_constant("w3", {6, 8, 1, 1}, rng)}, {}, "pw");
    ValueId f = b.node("Flatten", {c3}, {{"axis", a_int(1)}});
    ValueId g1 = b.node("Gemm", {f, b.random_constant("w4", {16, 216}, rng, -0.2f, 0.2f), b.random_constant("b4", {16}, rng)},
                        {{"transB", a_int(1)}}, "fc1");
    ValueId r3 = b.node("Relu", {g1});
    ValueId g2 = b.node("Gemm", {r3, b.random_constant("w5", {16, 5}, rng), b.random_constant("b5", {5}, rng)}, {}, "fc2");
    b.output(g2);
    verify_and_sort(b.g);
    return b.g;
}

int count_plan_ops(const Session& s, const std::string& op) {
    int n = 0;
    for (const Node& node : s.plan()->graph().nodes) n += node.op_type == op;
    return n;
}

}  // namespace

TEST(QuantizeInt8, QdqModelRunsInt8AndMatchesTheReferenceInterpreter) {
    std::mt19937 rng(3);
    Graph g = small_cnn(rng);
    auto calib = open_calibration_source(g, "random:16", {}, 0);
    QuantizeOptions opt;
    opt.max_error = 0;  // every layer int8
    QuantizeResult r = quantize_model(g, *calib, opt);
    ASSERT_EQ(r.layers.size(), 5u);
    // Writer round trip: what ONNX Runtime would read.
    std::string bytes = export_onnx_bytes(*r.graph, 13);
    auto qg = import_onnx_bytes(bytes.data(), bytes.size(), "q.onnx");
    SessionOptions ref_opt;
    ref_opt.optimization_level = 0;
    Session ref(qg, ref_opt), fast(qg), fp32(std::make_shared<Graph>(g));
    double worst_vs_ref = 0, worst_vs_fp32 = 0, range = 0;
    for (int i = 0; i < 8; ++i) {
        auto in = calib->get(100 + i);
        auto a = ref.run(in), b = fast.run(in), c = fp32.run(in);
        for (int64_t e = 0; e < a[0].second.numel(); ++e) {
            const float va = a[0].second.data<float>()[e], vb = b[0].second.data<float>()[e], vc = c[0].second.data<float>()[e];
            worst_vs_ref = std::max(worst_vs_ref, double(std::fabs(va - vb)));
            worst_vs_fp32 = std::max(worst_vs_fp32, double(std::fabs(vc - vb)));
            range = std::max(range, double(std::fabs(vc)));
        }
    }
    // The int8 plan: QConvNhwc for the three convs, QGemm for fc1, int8 max pool and add; fc2's
    // output is the float graph output: a QGemm with a float epilogue (float_output).
    EXPECT_EQ(count_plan_ops(fast, "QConvNhwc"), 3);
    EXPECT_EQ(count_plan_ops(fast, "QGemm"), 2);
    EXPECT_EQ(count_plan_ops(fast, "QMaxPoolNhwc"), 1);
    EXPECT_EQ(count_plan_ops(fast, "QAdd"), 1);
    // uint8 between layers: the only transposes left are at the model's input and before
    // Flatten (NCHW order); no float conversion between the convs.
    EXPECT_EQ(count_plan_ops(fast, "DequantizeLinear"), 0);  // none: fc2 outputs float itself
    EXPECT_EQ(count_plan_ops(fast, "QuantizeLinear"), 1);    // the model's input
    // Op by op in float vs fused int8: they differ only where float accumulation rounds
    // differently next to a rounding boundary (one step of some tensor).
    EXPECT_LT(worst_vs_ref, 0.05 * range) << "range " << range;
    EXPECT_LT(worst_vs_fp32, 0.1 * range);
    std::printf("range %.3f, int8 plan vs op-by-op QDQ %.5f, vs fp32 %.5f\n", range, worst_vs_ref, worst_vs_fp32);
}

namespace {

// The plan graph with every residual that fuse_qconv_residual put into a QConvNhwc split
// out again into a separate QAdd: what the plan ran before that fusion.
Graph unfuse_qconv_residuals(const Graph& fused) {
    Graph g = fused;
    std::vector<Node> adds;
    for (Node& n : g.nodes) {
        if (n.op_type != "QConvNhwc" || n.inputs.size() < 4 || n.inputs[3] == kNoValue) continue;
        const ValueId out = n.outputs[0], r = n.inputs[3];
        Node add;
        add.name = n.name + "/add";
        add.domain = "edgecnn";
        add.op_type = "QAdd";
        for (const char* k : {"a_scale", "a_zero_point", "b_scale", "b_zero_point", "y_scale", "y_zero_point"}) {
            add.attrs[k] = n.attrs.at(std::string("add_") + k);
            n.attrs.erase(std::string("add_") + k);
        }
        add.attrs["act_lo"] = n.attrs.at("add_lo");
        add.attrs["act_hi"] = n.attrs.at("add_hi");
        n.attrs.erase("add_lo");
        n.attrs.erase("add_hi");
        const Shape shape = *passes::static_shape(g, out);
        const ValueId t = passes::add_intermediate(g, g.value(out).name + "/conv", DType::U8, shape);
        n.inputs.resize(3);
        n.outputs[0] = t;
        add.inputs = {t, r};
        add.outputs = {out};
        adds.push_back(std::move(add));
    }
    for (Node& a : adds) g.nodes.push_back(std::move(a));
    passes::recompute_producers(g);
    verify_and_sort(g);
    g.optimized = true;
    return g;
}

int count_fused_residuals(const Session& s) {
    int n = 0;
    for (const Node& node : s.plan()->graph().nodes)
        n += node.op_type == "QConvNhwc" && node.inputs.size() > 3 && node.inputs[3] != kNoValue;
    return n;
}

}  // namespace

TEST(QuantizeInt8, ResidualAddFusedIntoConvIsBitExact) {
    // Residual adds after a 1x1 conv (GEMM on the input in place), a 3x3 conv (im2col), a
    // grouped 3x3 conv and a depthwise one (not fused: no residual epilogue there); odd
    // sizes so the GEMM tails take part.
    std::mt19937 rng(11);
    GraphBuilder b(13);
    ValueId x = b.input("x", {1, 6, 9, 7});
    ValueId c0 = b.node("Relu", {b.node("Conv", {x, b.random_constant("w0", {12, 6, 1, 1}, rng)}, {}, "stem")});
    ValueId c1 = b.node("Conv", {c0, b.random_constant("w1", {12, 12, 1, 1}, rng), b.random_constant("b1", {12}, rng)}, {}, "pw");
    ValueId s1 = b.node("Relu", {b.node("Add", {c1, c0}, {}, "add1")});
    ValueId c2 = b.node("Conv", {s1, b.random_constant("w2", {12, 12, 3, 3}, rng)}, {{"pads", a_ints({1, 1, 1, 1})}}, "k3");
    ValueId s2 = b.node("Add", {s1, c2}, {}, "add2");
    ValueId c3 = b.node("Conv", {s2, b.random_constant("w3", {12, 6, 3, 3}, rng)}, {{"pads", a_ints({1, 1, 1, 1})}, {"group", a_int(2)}},
                        "grouped");
    ValueId s3 = b.node("Relu", {b.node("Add", {c3, s2}, {}, "add3")});
    ValueId c4 = b.node("Conv", {s3, b.random_constant("w4", {12, 1, 3, 3}, rng)}, {{"pads", a_ints({1, 1, 1, 1})}, {"group", a_int(12)}},
                        "dw");
    ValueId s4 = b.node("Add", {c4, s3}, {}, "add4");
    b.output(b.node("Conv", {s4, b.random_constant("w5", {4, 12, 1, 1}, rng)}, {}, "head"));
    verify_and_sort(b.g);
    auto calib = open_calibration_source(b.g, "random:8", {}, 0);
    QuantizeOptions opt;
    opt.max_error = 0;
    QuantizeResult r = quantize_model(b.g, *calib, opt);
    Session fast(r.graph);
    fast.run(calib->get(0));  // compiles the plan
    ASSERT_TRUE(fast.plan());
    EXPECT_EQ(count_fused_residuals(fast), 3);
    EXPECT_EQ(count_plan_ops(fast, "QAdd"), 1);  // after the depthwise conv
    Session unfused(std::make_shared<Graph>(unfuse_qconv_residuals(fast.plan()->graph())));
    unfused.run(calib->get(0));
    ASSERT_TRUE(unfused.plan());
    EXPECT_EQ(count_plan_ops(unfused, "QAdd"), 4);
    for (Isa isa : isas()) {
        IsaGuard guard(isa);
        Session f(r.graph), u(std::make_shared<Graph>(unfuse_qconv_residuals(fast.plan()->graph())));
        for (int i = 0; i < 3; ++i) {
            auto in = calib->get(50 + i);
            auto a = f.run(in), c = u.run(in);
            ASSERT_EQ(a[0].second.numel(), c[0].second.numel());
            int differ = 0;
            for (int64_t e = 0; e < a[0].second.numel(); ++e)
                differ += a[0].second.data<float>()[e] != c[0].second.data<float>()[e];
            EXPECT_EQ(differ, 0) << "isa " << int(isa);
        }
    }
}

TEST(QuantizeInt8, GuardKeepsTheFragileDepthwiseLayerInFp32) {
    // Channel 0 of the depthwise layer's input is 1000x the others (a float Mul before it)
    // and its weights 1/1000: per-tensor uint8 on that input leaves the other channels a
    // few levels. The 1x1 conv after it sees a normal range.
    std::mt19937 rng(5);
    GraphBuilder b(13);
    ValueId x = b.input("x", {1, 8, 10, 10});
    std::vector<float> gain(8, 1.f);
    gain[0] = 1000.f;
    ValueId m = b.node("Mul", {x, b.constant("gain", Tensor::from_vector<float>(gain, {1, 8, 1, 1}))});
    Tensor wd = random_tensor({8, 1, 3, 3}, rng, 0.2f, 1.f);
    for (int k = 0; k < 9; ++k) wd.data<float>()[k] /= 1000.f;
    ValueId d = b.node("Conv", {m, b.constant("wd", wd)}, {{"pads", a_ints({1, 1, 1, 1})}, {"group", a_int(8)}}, "fragile_dw");
    ValueId p = b.node("Conv", {d, b.random_constant("wp", {4, 8, 1, 1}, rng)}, {}, "pointwise");
    b.output(p);
    verify_and_sort(b.g);
    auto calib = open_calibration_source(b.g, "random:24", {}, 0);
    QuantizeOptions opt;
    opt.max_error = 0.02;
    QuantizeResult r = quantize_model(b.g, *calib, opt);
    ASSERT_EQ(r.layers.size(), 2u);
    EXPECT_EQ(r.layers[0].name, "fragile_dw");
    EXPECT_GT(r.error_all_int8, opt.max_error) << "the model is not fragile: the test proves nothing";
    EXPECT_GT(r.layers[0].sensitivity, r.layers[1].sensitivity);
    EXPECT_FALSE(r.layers[0].int8);
    EXPECT_TRUE(r.layers[1].int8);
    EXPECT_LE(r.final_error, opt.max_error);
    // The returned model measures as reported.
    EXPECT_NEAR(relative_output_error(b.g, *r.graph, *calib, opt.guard_samples), r.final_error, 1e-9);
    std::printf("all int8 %.4f, dw %.4f, pw %.4f, final %.4f\n", r.error_all_int8, r.layers[0].sensitivity,
                r.layers[1].sensitivity, r.final_error);
}

TEST(QuantizeInt8, PercentileClipsTheRangeMinmaxKeeps) {
    // 64 random inputs (normal): minmax takes the most extreme sample (~4.5 sigma), the
    // 99.9th percentile of |x| less; both quantized models run and stay close to FP32.
    std::mt19937 rng(3);
    Graph g = small_cnn(rng);
    auto calib = open_calibration_source(g, "random:64", {}, 0);
    auto input_scale = [](const Graph& q) {
        for (const Node& n : q.nodes)
            if (n.op_type == "QuantizeLinear" && n.inputs[0] == q.inputs[0])
                return q.value(n.inputs[1]).constant->data<float>()[0];
        return -1.f;
    };
    QuantizeOptions opt;
    opt.max_error = 0;
    QuantizeResult mm = quantize_model(g, *calib, opt);
    opt.method = "percentile";
    opt.percentile = 99.9;
    QuantizeResult pc = quantize_model(g, *calib, opt);
    const float s_mm = input_scale(*mm.graph), s_pc = input_scale(*pc.graph);
    ASSERT_GT(s_mm, 0.f);
    ASSERT_GT(s_pc, 0.f);
    EXPECT_LT(s_pc, s_mm);
    EXPECT_LT(pc.error_all_int8, 0.2);
    EXPECT_LT(mm.error_all_int8, 0.2);
    opt.method = "entropy";
    EXPECT_THROW(quantize_model(g, *calib, opt), Error);
}

TEST(QuantizeInt8, RangeMarginWidensTheScalesAndAutoComesFromLeaveOneOut) {
    // --range-margin F multiplies every observed range (about 0); auto (<= 0) takes how far
    // one calibration input reaches past the others' ranges: 1 when the inputs agree, about
    // 3 when one input is three times the others.
    std::mt19937 rng(5);
    Graph g = small_cnn(rng);
    auto input_scale = [](const Graph& q) {
        for (const Node& n : q.nodes)
            if (n.op_type == "QuantizeLinear" && n.inputs[0] == q.inputs[0])
                return q.value(n.inputs[1]).constant->data<float>()[0];
        return -1.f;
    };
    class Scaled final : public CalibrationSource {
    public:
        Scaled(const Graph& g, std::vector<float> gains) : gains_(std::move(gains)) {
            base_ = open_calibration_source(g, "random:1", {}, 0)->get(0);
        }
        int64_t size() const override { return int64_t(gains_.size()); }
        NamedTensors get(int64_t i) override {
            NamedTensors out;
            for (const auto& [name, t] : base_) {
                Tensor c(DType::F32, t.shape());
                for (int64_t e = 0; e < t.numel(); ++e) c.data<float>()[e] = t.data<float>()[e] * gains_[size_t(i)];
                out.emplace_back(name, c);
            }
            return out;
        }

    private:
        std::vector<float> gains_;
        NamedTensors base_;
    };
    QuantizeOptions opt;
    opt.max_error = 0;
    Scaled same(g, {1.f, 1.f, 1.f, 1.f}), one_big(g, {1.f, 1.f, 3.f, 1.f});
    QuantizeResult m1 = quantize_model(g, same, opt);
    opt.range_margin = 2;
    QuantizeResult m2 = quantize_model(g, same, opt);
    EXPECT_EQ(m2.range_margin, 2.0);
    EXPECT_FLOAT_EQ(input_scale(*m2.graph), 2 * input_scale(*m1.graph));
    opt.range_margin = 0;
    QuantizeResult a1 = quantize_model(g, same, opt);
    EXPECT_EQ(a1.range_margin, 1.0);
    EXPECT_FLOAT_EQ(input_scale(*a1.graph), input_scale(*m1.graph));
    QuantizeResult a3 = quantize_model(g, one_big, opt);
    EXPECT_NEAR(a3.range_margin, 3.0, 0.01);  // the input and every conv scale linearly
    EXPECT_LT(a3.error_all_int8, 0.2);
}

TEST(QuantizeInt8, ConcatStaysInt8WithRequantizedInputs) {
    // Two branches of different ranges concatenated (an Inception/FPN shape): the int8 plan
    // concatenates uint8 data, requantizing the branches whose parameters differ from the
    // output's, and matches the op-by-op QDQ interpretation.
    std::mt19937 rng(9);
    GraphBuilder b(13);
    ValueId x = b.input("x", {1, 4, 9, 9});
    ValueId c1 = b.node("Relu", {b.node("Conv", {x, b.random_constant("w1", {8, 4, 3, 3}, rng)}, {{"pads", a_ints({1, 1, 1, 1})}})});
    ValueId ca = b.node("Conv", {c1, b.random_constant("wa", {5, 8, 1, 1}, rng, -0.2f, 0.2f)}, {}, "branch_a");
    ValueId cb = b.node("Conv", {c1, b.random_constant("wb", {7, 8, 3, 3}, rng)}, {{"pads", a_ints({1, 1, 1, 1})}}, "branch_b");
    ValueId cat = b.node("Concat", {ca, cb}, {{"axis", a_int(1)}}, "cat");
    b.output(b.node("Conv", {cat, b.random_constant("wc", {3, 12, 1, 1}, rng)}, {}, "head"));
    verify_and_sort(b.g);
    auto calib = open_calibration_source(b.g, "random:16", {}, 0);
    QuantizeOptions opt;
    opt.max_error = 0;
    QuantizeResult r = quantize_model(b.g, *calib, opt);
    auto qg = std::make_shared<Graph>(*r.graph);
    SessionOptions ref_opt;
    ref_opt.optimization_level = 0;
    Session ref(qg, ref_opt), fast(qg);
    double worst = 0, range = 0;
    for (int i = 0; i < 4; ++i) {
        auto in = calib->get(50 + i);
        auto a = ref.run(in), o = fast.run(in);
        for (int64_t e = 0; e < a[0].second.numel(); ++e) {
            worst = std::max(worst, double(std::fabs(a[0].second.data<float>()[e] - o[0].second.data<float>()[e])));
            range = std::max(range, double(std::fabs(a[0].second.data<float>()[e])));
        }
    }
    int u8_concats = 0;
    for (const Node& n : fast.plan()->graph().nodes)
        if (n.op_type == "Concat" && fast.plan()->graph().value(n.outputs[0]).dtype == DType::U8) ++u8_concats;
    EXPECT_EQ(u8_concats, 1);
    EXPECT_GE(count_plan_ops(fast, "QRequant"), 1);
    EXPECT_EQ(count_plan_ops(fast, "QConvNhwc"), 3);  // the head's output is the float graph output
    EXPECT_LT(worst, 0.05 * range) << "range " << range;
}

TEST(QuantizeInt8, AveragePoolsStayInt8) {
    // AveragePool (padded, count_include_pad) and GlobalAveragePool after int8 convs run
    // as uint8 average pools with rounding and match the op-by-op QDQ interpretation.
    std::mt19937 rng(13);
    GraphBuilder b(13);
    ValueId x = b.input("x", {1, 3, 11, 11});
    ValueId c1 = b.node("Relu", {b.node("Conv", {x, b.random_constant("w1", {6, 3, 3, 3}, rng)}, {{"pads", a_ints({1, 1, 1, 1})}})});
    ValueId p1 = b.node("AveragePool", {c1},
                        {{"kernel_shape", a_ints({3, 3})}, {"strides", a_ints({2, 2})}, {"pads", a_ints({1, 1, 1, 1})},
                         {"count_include_pad", a_int(1)}});
    ValueId c2 = b.node("Relu", {b.node("Conv", {p1, b.random_constant("w2", {10, 6, 3, 3}, rng)}, {{"pads", a_ints({1, 1, 1, 1})}})});
    ValueId gp = b.node("Flatten", {b.node("GlobalAveragePool", {c2})}, {{"axis", a_int(1)}});
    b.output(b.node("Gemm", {gp, b.random_constant("wf", {10, 4}, rng)}));
    verify_and_sort(b.g);
    auto calib = open_calibration_source(b.g, "random:16", {}, 0);
    QuantizeOptions opt;
    opt.max_error = 0;
    QuantizeResult r = quantize_model(b.g, *calib, opt);
    auto qg = std::make_shared<Graph>(*r.graph);
    SessionOptions ref_opt;
    ref_opt.optimization_level = 0;
    Session ref(qg, ref_opt), fast(qg);
    double worst = 0, range = 0;
    for (int i = 0; i < 4; ++i) {
        auto in = calib->get(70 + i);
        auto a = ref.run(in), o = fast.run(in);
        for (int64_t e = 0; e < a[0].second.numel(); ++e) {
            worst = std::max(worst, double(std::fabs(a[0].second.data<float>()[e] - o[0].second.data<float>()[e])));
            range = std::max(range, double(std::fabs(a[0].second.data<float>()[e])));
        }
    }
    EXPECT_EQ(count_plan_ops(fast, "QAvgPoolNhwc"), 2);
    EXPECT_LT(worst, 0.05 * range) << "range " << range;
    std::printf("avg pools: int8 plan vs op-by-op %.5f (output range %.3f)\n", worst, range);
}
