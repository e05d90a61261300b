// The plan's memory accounting: weights a kernel copies into packed form are counted once
// (in packed_bytes), not again as constants the plan holds (OpKernel::packs_constant_input);
// a constant a kernel reads while running is counted.
#include <gtest/gtest.h>

#include <string>

#include "runtime/plan.hpp"
#include "runtime/session.hpp"
#include "synthetic_models.hpp"

namespace edgecnn {
namespace {

// x[1,64,4,4] -> Conv 1x1 64->64 (packed) -> Add(constant [1,64,4,4]: read at run)
// -> GlobalAveragePool -> Flatten -> Gemm 64->10 (packed).
onnx::ModelProto accounting_net() {
    test::SyntheticNet s;
    s.model.set_ir_version(8);
    s.model.add_opset_import()->set_version(13);
    auto* g = s.model.mutable_graph();
    g->set_name("accounting");
    test::add_value_info(g->add_input(), "x", {"1", "64", "4", "4"});
    std::string a = s.conv("x", "pw", 64, 64, 1, 1, 1, false);
    s.weight("addend", {1, 64, 4, 4});
    s.node("Add", {a, "addend"}, "sum");
    s.node("GlobalAveragePool", {"sum"}, "gap");
    auto* fl = s.node("Flatten", {"gap"}, "flat");
    test::SyntheticNet::int1(fl, "axis", 1);
    s.weight("fc_w", {10, 64});
    s.weight("fc_b", {10});
    auto* fc = s.node("Gemm", {"flat", "fc_w", "fc_b"}, "y");
    test::SyntheticNet::int1(fc, "transB", 1);
    test::add_value_info(g->add_output(), "y", {"1", "10"});
    return s.model;
}

TEST(PlanMemory, PackedWeightsCountOnceConstantsReadAtRunCount) {
    Session s(test::import_model(accounting_net(), "accounting"));
    s.compile({{1, 64, 4, 4}});
    const Plan* p = s.plan();
    ASSERT_NE(p, nullptr);
    // Held as constants: the Add's addend (64x4x4 floats, read by the conv it became the
    // residual of) and the 4 int64 of the NHWC Reshape's target shape; not the conv's and
    // the Gemm's weights and biases, which are in packed form.
    EXPECT_EQ(p->constant_bytes(), 64 * 4 * 4 * 4 + 4 * 8);
    // The addend's NCHW -> NHWC Transpose was folded at compile time, not left to every run.
    for (const Node& n : p->graph().nodes) {
        if (n.op_type != "Transpose") continue;
        for (ValueId v : n.inputs) {
            EXPECT_FALSE(v != kNoValue && p->graph().value(v).constant) << n.name;
        }
    }
    EXPECT_GE(p->packed_bytes(), (64 * 64 + 64 + 10 * 64 + 10) * 4);
}

}  // namespace
}  // namespace edgecnn
