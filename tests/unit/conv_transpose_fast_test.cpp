// ConvTranspose in a compiled plan (kernels/deconv through the op's fast kernel) vs the
// reference kernel the same op makes outside a plan: randomized awkward shapes, strides,
// pads, output padding, dilation, batch 2, threads 1/2/3, on every ISA level the machine has.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "base/cpu_features.hpp"
#include "isa_test_util.hpp"
#include "base/thread_pool.hpp"
#include "ops/op.hpp"

namespace edgecnn {
namespace {

Attribute ints(std::vector<int64_t> v) {
    Attribute a;
    a.kind = Attribute::Kind::Ints;
    a.ints = std::move(v);
    return a;
}

Tensor random_tensor(Shape s, std::mt19937& rng) {
    Tensor t(DType::F32, s);
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    float* p = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = d(rng);
    return t;
}

// Runs the node with inputs[0] as a runtime input and the others as graph constants.
Tensor run_conv_transpose(const std::vector<Tensor>& inputs, const std::map<std::string, Attribute>& attrs,
                          bool for_plan, ThreadPool* pool, std::string* kernel_name = nullptr) {
    Graph g;
    Node node;
    node.name = "deconv";
    node.op_type = "ConvTranspose";
    node.attrs = attrs;
    for (size_t i = 0; i < inputs.size(); ++i) {
        Value v;
        v.name = "in" + std::to_string(i);
        v.dtype = DType::F32;
        if (i > 0) v.constant = std::make_shared<Tensor>(inputs[i]);
        node.inputs.push_back(g.add_value(v));
    }
    Value y;
    y.name = "y";
    node.outputs.push_back(g.add_value(y));
    OpAttrs oa(node, 17, &g, pool, for_plan);
    auto kernel = OpRegistry::instance().find("ConvTranspose")->factory(oa);
    std::vector<ValueInfo> in(inputs.size()), out(1);
    std::vector<const Tensor*> ptrs;
    for (size_t i = 0; i < inputs.size(); ++i) {
        in[i].dtype = DType::F32;
        in[i].shape = inputs[i].shape();
        in[i].data = &inputs[i];
        ptrs.push_back(&inputs[i]);
    }
    EXPECT_TRUE(kernel->infer(in, out));
    Tensor result(out[0].dtype, out[0].shape);
    // Garbage in the output: the kernel must overwrite every element.
    float* r = result.data<float>();
    for (int64_t i = 0; i < result.numel(); ++i) r[i] = 1e30f;
    kernel->run(ptrs, {&result});
    if (kernel_name) *kernel_name = kernel->kernel_name();
    return result;
}

struct Case {
    int64_t n, cin, cout, ih, iw, kh, kw, sh, sw, dh, dw;
    std::vector<int64_t> pads, output_padding;
    bool bias;
};

void check_case(const Case& c, std::mt19937& rng) {
    const Tensor x = random_tensor({c.n, c.cin, c.ih, c.iw}, rng);
    const Tensor w = random_tensor({c.cin, c.cout, c.kh, c.kw}, rng);
    std::vector<Tensor> inputs{x, w};
    if (c.bias) inputs.push_back(random_tensor({c.cout}, rng));
    std::map<std::string, Attribute> attrs{{"strides", ints({c.sh, c.sw})}, {"dilations", ints({c.dh, c.dw})}};
    if (!c.pads.empty()) attrs["pads"] = ints(c.pads);
    if (!c.output_padding.empty()) attrs["output_padding"] = ints(c.output_padding);
    const Tensor ref = run_conv_transpose(inputs, attrs, false, nullptr);
    for (Isa isa : isas()) {
        IsaGuard guard(isa);
        for (int threads : {1, 2, 3}) {
            ThreadPool pool(threads);
            std::string name;
            const Tensor got = run_conv_transpose(inputs, attrs, true, &pool, &name);
            ASSERT_EQ(got.shape(), ref.shape());
            EXPECT_NE(name, "reference");
            const float* a = got.data<float>();
            const float* b = ref.data<float>();
            int64_t bad = 0;
            for (int64_t i = 0; i < ref.numel(); ++i)
                if (!(std::fabs(a[i] - b[i]) <= 1e-5f * (1.f + std::fabs(b[i])) * float(c.cin))) {
                    if (bad++ < 3)
                        ADD_FAILURE() << "isa " << isa_name(isa) << " threads " << threads << " kernel " << name
                                      << " shape " << shape_str(ref.shape()) << " k " << c.kh << "x" << c.kw << " s "
                                      << c.sh << "x" << c.sw << " d " << c.dh << "x" << c.dw << " at " << i << ": "
                                      << a[i] << " vs " << b[i];
                }
            ASSERT_EQ(bad, 0);
        }
    }
}

TEST(ConvTransposeFast, Upsample2x2Stride2) {
    std::mt19937 rng(1);
    for (int64_t cin : {1, 3, 17, 24})
        for (int64_t cout : {1, 3, 17, 24})
            for (int64_t iw : {1, 7, 16, 37, 40})
                check_case({cin == 17 ? 2 : 1, cin, cout, 5, iw, 2, 2, 2, 2, 1, 1, {}, {}, (cout % 2) == 1}, rng);
}

TEST(ConvTransposeFast, Randomized) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> pick(0, 1 << 20);
    const int64_t chans[] = {1, 3, 7, 17};
    for (int iter = 0; iter < 60; ++iter) {
        Case c;
        c.n = 1 + pick(rng) % 2;
        c.cin = chans[pick(rng) % 4];
        c.cout = chans[pick(rng) % 4];
        c.ih = 1 + pick(rng) % 9;
        c.iw = 1 + pick(rng) % 23;
        c.kh = 1 + pick(rng) % 4;
        c.kw = 1 + pick(rng) % 4;
        c.sh = 1 + pick(rng) % 3;
        c.sw = 1 + pick(rng) % 3;
        c.dh = 1 + pick(rng) % 2;
        c.dw = 1 + pick(rng) % 2;
        c.bias = pick(rng) % 2;
        const int64_t eh = (c.kh - 1) * c.dh + 1, ew = (c.kw - 1) * c.dw + 1;
        if (pick(rng) % 2)
            c.pads = {pick(rng) % eh, pick(rng) % ew, pick(rng) % eh, pick(rng) % ew};
        if (pick(rng) % 3 == 0)
            c.output_padding = {pick(rng) % std::max(c.sh, c.dh), pick(rng) % std::max(c.sw, c.dw)};
        // Skip configurations whose output would be empty.
        const int64_t oh = c.sh * (c.ih - 1) + eh + (c.output_padding.empty() ? 0 : c.output_padding[0]) -
                           (c.pads.empty() ? 0 : c.pads[0] + c.pads[2]);
        const int64_t ow = c.sw * (c.iw - 1) + ew + (c.output_padding.empty() ? 0 : c.output_padding[1]) -
                           (c.pads.empty() ? 0 : c.pads[1] + c.pads[3]);
        if (oh < 1 || ow < 1) continue;
        check_case(c, rng);
    }
}

TEST(ConvTransposeFast, StrideEqualsKernelAndLargerStrides) {
    std::mt19937 rng(3);
    check_case({2, 5, 4, 6, 19, 3, 3, 3, 3, 1, 1, {}, {}, true}, rng);
    check_case({1, 8, 3, 4, 9, 2, 2, 3, 3, 1, 1, {}, {1, 2}, true}, rng);
    check_case({1, 4, 6, 7, 11, 4, 4, 2, 2, 1, 1, {1, 1, 1, 1}, {}, true}, rng);  // 4x4 s2 p1 (GAN/decoder)
    check_case({1, 3, 2, 5, 5, 2, 2, 2, 2, 1, 1, {0, 0, 0, 0}, {1, 1}, false}, rng); // 2x2 s2 + output padding
}

TEST(ConvTransposeFast, GroupsAndOtherRanksKeepReference) {
    std::mt19937 rng(5);
    const Tensor x = random_tensor({1, 4, 3, 3}, rng);
    const Tensor w = random_tensor({4, 1, 2, 2}, rng);
    std::string name;
    ThreadPool pool(2);
    run_conv_transpose({x, w}, {{"group", [] { Attribute a; a.kind = Attribute::Kind::Int; a.i = 4; return a; }()}},
                       true, &pool, &name);
    EXPECT_EQ(name, "reference");
}

}  // namespace
}  // namespace edgecnn
