// Resize in a compiled plan (kernels/resize through the op's fast path) vs the reference
// kernel the same op makes outside a plan: nearest and bilinear, every common coordinate
// and nearest mode, up- and down-scaling, non-integer scales, sizes input, batch 2,
// channels 1/3/17, threads 1/2/3, on every ISA level the machine has.
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

Attribute str(std::string v) {
    Attribute a;
    a.kind = Attribute::Kind::String;
    a.s = std::move(v);
    return a;
}

Tensor random_tensor(Shape s, std::mt19937& rng) {
    Tensor t(DType::F32, s);
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    float* p = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = d(rng);
    return t;
}

// Resize-13 with inputs X, roi (omitted), scales or sizes (graph constants).
Tensor run_resize(const Tensor& x, const Tensor* scales, const Tensor* sizes,
                  const std::map<std::string, Attribute>& attrs, bool for_plan, ThreadPool* pool,
                  std::string* kernel_name = nullptr) {
    Graph g;
    Node node;
    node.name = "resize";
    node.op_type = "Resize";
    node.attrs = attrs;
    std::vector<const Tensor*> vals{&x, nullptr, scales, sizes};
    for (size_t i = 0; i < vals.size(); ++i) {
        if (!vals[i]) {
            node.inputs.push_back(kNoValue);
            continue;
        }
        Value v;
        v.name = "in" + std::to_string(i);
        v.dtype = vals[i]->dtype();
        if (i > 0) v.constant = std::make_shared<Tensor>(*vals[i]);
        node.inputs.push_back(g.add_value(v));
    }
    Value y;
    y.name = "y";
    node.outputs.push_back(g.add_value(y));
    OpAttrs oa(node, 13, &g, pool, for_plan);
    auto kernel = OpRegistry::instance().find("Resize")->factory(oa);
    std::vector<ValueInfo> in(vals.size()), out(1);
    for (size_t i = 0; i < vals.size(); ++i) {
        if (!vals[i]) {
            in[i].present = false;
            continue;
        }
        in[i].dtype = vals[i]->dtype();
        in[i].shape = vals[i]->shape();
        in[i].data = vals[i];
    }
    EXPECT_TRUE(kernel->infer(in, out));
    Tensor result(out[0].dtype, out[0].shape);
    float* r = result.data<float>();
    for (int64_t i = 0; i < result.numel(); ++i) r[i] = 1e30f;
    kernel->run(vals, {&result});
    if (kernel_name) *kernel_name = kernel->kernel_name();
    return result;
}

void check(const Shape& xs, const Tensor* scales, const Tensor* sizes, const std::map<std::string, Attribute>& attrs,
           std::mt19937& rng) {
    const Tensor x = random_tensor(xs, rng);
    const Tensor ref = run_resize(x, scales, sizes, attrs, false, nullptr);
    for (Isa isa : isas()) {
        IsaGuard guard(isa);
        for (int threads : {1, 2, 3}) {
            ThreadPool pool(threads);
            std::string name;
            const Tensor got = run_resize(x, scales, sizes, attrs, true, &pool, &name);
            ASSERT_EQ(got.shape(), ref.shape());
            EXPECT_NE(name, "reference");
            const float* a = got.data<float>();
            const float* b = ref.data<float>();
            int64_t bad = 0;
            for (int64_t i = 0; i < ref.numel(); ++i)
                if (!(std::fabs(a[i] - b[i]) <= 1e-5f * (1.f + std::fabs(b[i])))) {
                    if (bad++ < 3)
                        ADD_FAILURE() << "isa " << isa_name(isa) << " threads " << threads << " " << name << " "
                                      << shape_str(xs) << " -> " << shape_str(ref.shape()) << " mode "
                                      << attrs.at("mode").s << " coord "
                                      << attrs.at("coordinate_transformation_mode").s << " at " << i << ": " << a[i]
                                      << " vs " << b[i];
                }
            ASSERT_EQ(bad, 0);
        }
    }
}

const char* kCoords[] = {"half_pixel", "pytorch_half_pixel", "asymmetric", "align_corners", "half_pixel_symmetric"};
const char* kNearest[] = {"floor", "round_prefer_floor", "round_prefer_ceil", "ceil"};

TEST(ResizeFast, ScalesRandomized) {
    std::mt19937 rng(11);
    const float factors[] = {2.f, 0.5f, 1.7f, 0.6f, 3.f, 8.f, 1.f, 0.33f};
    const int64_t chans[] = {1, 3, 17};
    int iter = 0;
    for (const char* mode : {"nearest", "linear"})
        for (const char* coord : kCoords)
            for (int k = 0; k < 4; ++k, ++iter) {
                const float fh = factors[(iter * 3 + k) % 8], fw = factors[(iter * 5 + k + 1) % 8];
                const Shape xs{1 + iter % 2, chans[iter % 3], 1 + (iter * 7) % 13, 2 + (iter * 5) % 17};
                const Tensor scales = Tensor::from_vector<float>({1.f, 1.f, fh, fw}, {4});
                std::map<std::string, Attribute> attrs{{"mode", str(mode)}, {"coordinate_transformation_mode", str(coord)},
                                                       {"nearest_mode", str(kNearest[k])}};
                // Skip scales that give an empty output.
                if (std::floor(float(xs[2]) * fh) < 1 || std::floor(float(xs[3]) * fw) < 1) continue;
                check(xs, &scales, nullptr, attrs, rng);
            }
}

TEST(ResizeFast, Sizes) {
    std::mt19937 rng(13);
    const int64_t sizes_list[][2] = {{9, 31}, {4, 3}, {1, 1}, {20, 7}, {65, 65}};
    int iter = 0;
    for (const char* mode : {"nearest", "linear"})
        for (const char* coord : kCoords)
            for (const auto& s : sizes_list) {
                const Tensor sizes = Tensor::from_vector<int64_t>({2, 3, s[0], s[1]}, {4});
                std::map<std::string, Attribute> attrs{{"mode", str(mode)}, {"coordinate_transformation_mode", str(coord)},
                                                       {"nearest_mode", str(kNearest[iter++ % 4])}};
                check({2, 3, 7, 10}, nullptr, &sizes, attrs, rng);
            }
}

TEST(ResizeFast, SegmentationHeadAndOcrUpsample) {
    std::mt19937 rng(17);
    // DeepLabV3 / LR-ASPP: 65x65 -> 520x520 bilinear half_pixel.
    const Tensor sizes = Tensor::from_vector<int64_t>({1, 21, 520, 520}, {4});
    check({1, 21, 65, 65}, nullptr, &sizes,
          {{"mode", str("linear")}, {"coordinate_transformation_mode", str("half_pixel")}}, rng);
    // PP-OCR det: nearest x2, asymmetric / floor.
    const Tensor scales = Tensor::from_vector<float>({1.f, 1.f, 2.f, 2.f}, {4});
    check({1, 24, 20, 20}, &scales, nullptr,
          {{"mode", str("nearest")}, {"coordinate_transformation_mode", str("asymmetric")},
           {"nearest_mode", str("floor")}},
          rng);
}

TEST(ResizeFast, OtherCasesKeepReference) {
    std::mt19937 rng(19);
    const Tensor x = random_tensor({1, 2, 5, 5}, rng);
    ThreadPool pool(2);
    std::string name;
    const Tensor scales = Tensor::from_vector<float>({1.f, 1.f, 2.f, 2.f}, {4});
    run_resize(x, &scales, nullptr, {{"mode", str("cubic")}, {"coordinate_transformation_mode", str("half_pixel")}},
               true, &pool, &name);
    EXPECT_EQ(name, "reference");
    const Tensor scales_c = Tensor::from_vector<float>({1.f, 2.f, 2.f, 2.f}, {4});
    run_resize(x, &scales_c, nullptr, {{"mode", str("linear")}, {"coordinate_transformation_mode", str("half_pixel")}},
               true, &pool, &name);
    EXPECT_EQ(name, "reference");
}

}  // namespace
}  // namespace edgecnn
