// SessionOptions::fpmath = Bf16 end to end: which layers take the BF16 GEMM (pointwise
// convolutions with >= 64 channels in and out, on CPUs with AVX512-BF16), that their
// outputs stay within bf16's error of FP32 but are not FP32's, that everything else is
// unchanged, and the C API's option (including callers built before the field existed).
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "edgecnn/edgecnn.h"
#include "format/ecnn.hpp"
#include "isa_test_util.hpp"
#include "kernels/gemm/gemm_bf16.hpp"
#include "runtime/plan.hpp"
#include "runtime/session.hpp"
#include "synthetic_models.hpp"

namespace edgecnn {
namespace {

// x[1,16,9,11] -> 1x1 16->64 (narrow: FP32) -> 1x1 64->96 (BF16) -> 1x1 96->8 (narrow: FP32).
onnx::ModelProto pointwise_net() {
    test::SyntheticNet s;
    s.model.set_ir_version(8);
    s.model.add_opset_import()->set_version(13);
    auto* g = s.model.mutable_graph();
    g->set_name("pointwise");
    test::add_value_info(g->add_input(), "x", {"1", "16", "9", "11"});
    std::string a = s.conv("x", "narrow_in", 16, 64, 1);
    std::string b = s.conv(a, "wide", 64, 96, 1);
    s.conv(b, "narrow_out", 96, 8, 1, 1, 1, false);
    test::add_value_info(g->add_output(), "narrow_out", {"1", "8", "9", "11"});
    return s.model;
}

Tensor random_input(std::mt19937& rng, Shape shape = {1, 16, 9, 11}) {
    Tensor t(DType::F32, shape);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
    return t;
}

// Kernel name of the first plan step of type `op` whose node name starts with `name` (the
// passes rename nodes with suffixes such as "/nhwc", so by prefix).
std::string kernel_of(const Session& s, const std::string& name, const std::string& op = "ConvNhwc") {
    const Plan* p = s.plan();
    for (size_t i = 0; i < p->graph().nodes.size(); ++i)
        if (p->graph().nodes[i].name.rfind(name, 0) == 0 && p->graph().nodes[i].op_type == op)
            return p->kernels()[i]->kernel_name();
    return "";
}

// max |a - b| and max |a| over two outputs of the same shape.
std::pair<double, double> max_diff_and_abs(const Tensor& a, const Tensor& b) {
    double diff = 0, mag = 0;
    for (int64_t i = 0; i < a.numel(); ++i) {
        diff = std::max(diff, double(std::fabs(a.data<float>()[i] - b.data<float>()[i])));
        mag = std::max(mag, double(std::fabs(a.data<float>()[i])));
    }
    return {diff, mag};
}

TEST(FpMathBf16, WideConvsTakeBf16NarrowOnesStayF32) {
    auto graph = test::import_model(pointwise_net(), "pointwise");
    std::mt19937 rng(5);
    const Tensor x = random_input(rng);
    Session f32(graph);
    SessionOptions o;
    o.fpmath = FpMath::Bf16;
    Session bf16(graph, o);
    const Tensor yf = f32.run({{"x", x}})[0].second;
    const Tensor yb = bf16.run({{"x", x}})[0].second;
    EXPECT_EQ(kernel_of(f32, "wide").find("gemm_f32"), 0u) << kernel_of(f32, "wide");
    EXPECT_EQ(kernel_of(bf16, "narrow_in").find("gemm_f32"), 0u) << kernel_of(bf16, "narrow_in");
    EXPECT_EQ(kernel_of(bf16, "narrow_out").find("gemm_f32"), 0u) << kernel_of(bf16, "narrow_out");
    ASSERT_EQ(yf.shape(), yb.shape());
    const auto [max_diff, max_abs] = max_diff_and_abs(yf, yb);
    if (!bf16_gemm_available()) {
        // No AVX512-BF16: the option changes nothing.
        EXPECT_EQ(kernel_of(bf16, "wide").find("gemm_f32"), 0u) << kernel_of(bf16, "wide");
        EXPECT_EQ(max_diff, 0.0);
        return;
    }
    EXPECT_EQ(kernel_of(bf16, "wide"), "gemm_bf16_avx512bf16 (1x1)");
    // bf16 operands (2^-9 relative each) over K = 64 terms, one layer deep: ~1e-2 of the
    // output's scale at most; and not zero (the layer did run in bf16).
    EXPECT_GT(max_diff, 0.0);
    EXPECT_LT(max_diff, 1e-2 * max_abs) << "max |bf16 - f32| " << max_diff << " of max |y| " << max_abs;
}

// x[1,64,9,11] -> 3x3 stride-2 conv 64->64 (im2col, K = 576) -> GlobalAveragePool -> Flatten
// -> Gemm 64->64: the two other GEMM users with a bf16 path.
onnx::ModelProto im2col_gemm_net() {
    test::SyntheticNet s;
    s.model.set_ir_version(8);
    s.model.add_opset_import()->set_version(13);
    auto* g = s.model.mutable_graph();
    g->set_name("im2col_gemm");
    test::add_value_info(g->add_input(), "x", {"1", "64", "9", "11"});
    std::string a = s.conv("x", "strided", 64, 64, 3, 2);
    s.node("GlobalAveragePool", {a}, "gap");
    auto* fl = s.node("Flatten", {"gap"}, "flat");
    test::SyntheticNet::int1(fl, "axis", 1);
    s.weight("fc_w", {64, 64});
    s.weight("fc_b", {64});
    auto* fc = s.node("Gemm", {"flat", "fc_w", "fc_b"}, "y");
    test::SyntheticNet::int1(fc, "transB", 1);
    test::add_value_info(g->add_output(), "y", {"1", "64"});
    return s.model;
}

TEST(FpMathBf16, Im2colConvAndGemmTakeBf16) {
    auto graph = test::import_model(im2col_gemm_net(), "im2col_gemm");
    std::mt19937 rng(7);
    const Tensor x = random_input(rng, {1, 64, 9, 11});
    Session f32(graph);
    SessionOptions o;
    o.fpmath = FpMath::Bf16;
    Session bf16(graph, o);
    const Tensor yf = f32.run({{"x", x}})[0].second;
    const Tensor yb = bf16.run({{"x", x}})[0].second;
    EXPECT_EQ(kernel_of(f32, "", "ConvNhwc").find("im2col+gemm_f32"), 0u) << kernel_of(f32, "", "ConvNhwc");
    EXPECT_EQ(kernel_of(f32, "", "Gemm").find("gemm_f32"), 0u) << kernel_of(f32, "", "Gemm");
    ASSERT_EQ(yf.shape(), yb.shape());
    const auto [max_diff, max_abs] = max_diff_and_abs(yf, yb);
    if (!bf16_gemm_available()) {
        EXPECT_EQ(max_diff, 0.0);
        return;
    }
    EXPECT_EQ(kernel_of(bf16, "", "ConvNhwc"), "im2col+gemm_bf16_avx512bf16");
    EXPECT_EQ(kernel_of(bf16, "", "Gemm"), "gemm_bf16_avx512bf16");
    EXPECT_GT(max_diff, 0.0);
    EXPECT_LT(max_diff, 1e-2 * max_abs) << "max |bf16 - f32| " << max_diff << " of max |y| " << max_abs;
}

TEST(FpMathBf16, LowerIsaLevelKeepsF32) {
    IsaGuard g(Isa::Avx2);
    auto graph = test::import_model(pointwise_net(), "pointwise");
    SessionOptions o;
    o.fpmath = FpMath::Bf16;
    Session bf16(graph, o);
    std::mt19937 rng(6);
    (void)bf16.run({{"x", random_input(rng)}});
    EXPECT_EQ(kernel_of(bf16, "wide").find("gemm_f32"), 0u) << kernel_of(bf16, "wide");
}

TEST(FpMathBf16, CApiOption) {
    const std::vector<uint8_t> bytes = serialize_ecnn(*test::import_model(pointwise_net(), "pointwise"), EcnnWriteOptions{});
    ecnn_model* model = nullptr;
    ASSERT_EQ(ecnn_model_load_memory(bytes.data(), bytes.size(), nullptr, &model), ECNN_OK) << ecnn_last_error();
    ecnn_session_options o;
    ecnn_session_options_init(&o);
    EXPECT_EQ(o.fpmath, ECNN_FPMATH_F32);
    o.fpmath = ECNN_FPMATH_BF16;
    ecnn_session* s = nullptr;
    ASSERT_EQ(ecnn_session_create(model, &o, &s), ECNN_OK) << ecnn_last_error();
    ecnn_session_free(s);
    o.fpmath = 7;
    EXPECT_NE(ecnn_session_create(model, &o, &s), ECNN_OK);
    EXPECT_NE(std::string(ecnn_last_error()).find("fpmath"), std::string::npos) << ecnn_last_error();
    // A caller built before `fpmath` existed passes the shorter struct: accepted, F32.
    o.struct_size = uint32_t(offsetof(ecnn_session_options, fpmath));
    ASSERT_EQ(ecnn_session_create(model, &o, &s), ECNN_OK) << ecnn_last_error();
    ecnn_session_free(s);
    o.struct_size = 4;
    EXPECT_NE(ecnn_session_create(model, &o, &s), ECNN_OK);
    ecnn_model_free(model);
}

}  // namespace
}  // namespace edgecnn
