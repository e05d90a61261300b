// Determinism (docs/THREADING.md): FP32 and INT8 outputs are bit-identical whatever the
// thread count, on the committed fixtures and on synthetic conv nets at awkward shapes. Kernels split work
// by output region only (never a reduction across threads), so every output element is
// computed by the same instruction sequence whichever thread computes it.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "base/thread_pool.hpp"
#include "cli_test_util.hpp"
#include "isa_test_util.hpp"
#include "onnx/importer.hpp"
#include "onnx/tensor_proto.hpp"
#include "quant/calibration.hpp"
#include "quant/quantize.hpp"
#include "runtime/plan.hpp"
#include "runtime/session.hpp"
#include "synthetic_models.hpp"

using namespace edgecnn;

namespace {

// Runs `inputs` at 1 thread, then at each of `thread_counts`, and expects every output to
// be identical bit for bit.
void expect_thread_count_invariant(const std::shared_ptr<const Graph>& g, const NamedTensors& inputs,
                                   const std::string& what) {
    SessionOptions one;
    one.num_threads = 1;
    NamedTensors ref = Session(g, one).run(inputs);
    for (int threads : {2, 3, 4}) {
        SessionOptions o;
        o.num_threads = threads;
        // The adaptive fallback may run a job inline; results must not depend on it either,
        // but switch it off so every job really is split across the threads.
        o.thread_pool = std::make_shared<ThreadPool>(threads, ThreadPool::Tuning{.adaptive = false});
        NamedTensors got = Session(g, o).run(inputs);
        ASSERT_EQ(got.size(), ref.size()) << what;
        for (size_t k = 0; k < ref.size(); ++k) {
            ASSERT_EQ(got[k].second.shape(), ref[k].second.shape()) << what;
            size_t n = ref[k].second.nbytes();
            EXPECT_EQ(std::memcmp(got[k].second.raw(), ref[k].second.raw(), n), 0)
                << what << ": output '" << ref[k].first << "' differs at " << threads << " threads";
        }
    }
}

Tensor random_input(const Shape& shape, uint32_t seed) {
    Tensor t(DType::F32, shape);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
    return t;
}

}  // namespace

TEST(Determinism, CommittedFixturesAtOneTwoThreeFourThreads) {
    for (const char* fixture : {"models/fixtures/fashion_mnist_cnn", "models/fixtures/blazeface_front_128"}) {
        std::string dir = test::source_path(fixture);
        auto g = import_onnx_file(dir + "/model.onnx");
        std::string name;
        Tensor x = read_tensor_pb(dir + "/test_data_set_0/input_0.pb", &name);
        if (name.empty()) name = g->value(g->inputs[0]).name;
        expect_thread_count_invariant(g, {{name, x}}, fixture);
    }
}

TEST(Determinism, SyntheticConvNetsAtAwkwardShapes) {
    uint32_t seed = 7;
    for (int variant : {0, 1}) {
        auto g = test::import_model(test::synthetic_conv_net(variant), "synthetic");
        for (const Shape& s : {Shape{1, 3, 7, 9}, Shape{1, 3, 33, 31}, Shape{3, 3, 20, 20}, Shape{1, 3, 64, 48}})
            expect_thread_count_invariant(g, {{"x", random_input(s, seed++)}},
                                          std::string("synthetic") + std::to_string(variant) + " " + shape_str(s));
    }
}

namespace {

// Nodes of `op` in the plan the session compiled (after a run).
int plan_op_count(const Session& s, const std::string& op) {
    int n = 0;
    if (s.plan())
        for (const Node& node : s.plan()->graph().nodes) n += node.op_type == op;
    return n;
}

// Quantizes `g` with every layer int8 (no guard), checks that the plan really runs int8
// convolutions, and expects its outputs bit-identical at 1, 2, 3 and 4 threads for each input.
// With `across_isas`, also at every ISA level the CPU has (for models whose plan has no
// float compute after the last int8 op: float ops keep FP32's ISA dependence).
void expect_int8_thread_count_invariant(const Graph& g, CalibrationSource& calib, const std::vector<NamedTensors>& inputs,
                                        const std::string& what, bool across_isas) {
    QuantizeOptions opt;
    opt.max_error = 0;  // every layer int8
    QuantizeResult r = quantize_model(g, calib, opt);
    Session probe(r.graph);
    probe.run(inputs.at(0));
    ASSERT_GT(plan_op_count(probe, "QConvNhwc"), 0) << what << ": the plan runs no int8 convolution";
    for (size_t i = 0; i < inputs.size(); ++i)
        expect_thread_count_invariant(r.graph, inputs[i], what + " int8, input " + std::to_string(i));
    // Across ISA levels (AVX-512 VNNI, AVX2, portable...) the int8 ops give the same bits
    // too: integer accumulation is exact in any order and every level requantizes alike.
    if (!across_isas) return;
    SessionOptions one;
    one.num_threads = 1;
    NamedTensors ref = Session(r.graph, one).run(inputs.back());
    for (Isa isa : isas()) {
        IsaGuard guard(isa);
        NamedTensors got = Session(r.graph, one).run(inputs.back());
        ASSERT_EQ(got.size(), ref.size());
        for (size_t k = 0; k < ref.size(); ++k)
            EXPECT_EQ(std::memcmp(got[k].second.raw(), ref[k].second.raw(), ref[k].second.nbytes()), 0)
                << what << " int8: output '" << ref[k].first << "' differs at ISA level " << isa_name(isa);
    }
}

}  // namespace

// INT8 has no rounding-order freedom at all (integer accumulation, one requantization per
// output element), so the promise is unconditional: bit-identical at any thread count.
TEST(Determinism, Int8FashionMnistAtOneTwoThreeFourThreads) {
    auto g = import_onnx_file(test::source_path("models/fashion_mnist/fashion_mnist_cnn.onnx"));
    auto calib = open_calibration_source(*g, "random:8", {}, 0);
    const std::string name = g->value(g->inputs[0]).name;
    std::vector<NamedTensors> inputs;
    for (int64_t i = 0; i < 3; ++i) inputs.push_back(calib->get(20 + i));
    // A committed real input too (the random ones are uniform noise).
    std::string dir = test::source_path("models/fixtures/fashion_mnist_cnn");
    inputs.push_back({{name, read_tensor_pb(dir + "/test_data_set_0/input_0.pb")}});
    expect_int8_thread_count_invariant(*g, *calib, inputs, "fashion_mnist", true);
}

TEST(Determinism, Int8SyntheticConvNetsAtAwkwardShapes) {
    // variant 0: depthwise, 1x1, residual add, pools, Gemm head; variant 1: strided 5x5,
    // grouped conv, average pool. Calibrated at one shape, run at several (odd sizes, batch 3).
    uint32_t seed = 41;
    for (int variant : {0, 1}) {
        auto g = test::import_model(test::synthetic_conv_net(variant), "synthetic");
        auto calib = open_calibration_source(*g, "random:8", {}, 0, {{"x", Shape{1, 3, 20, 20}}});
        std::vector<NamedTensors> inputs;
        for (const Shape& s : {Shape{1, 3, 7, 9}, Shape{1, 3, 33, 31}, Shape{3, 3, 20, 20}, Shape{1, 3, 64, 48}})
            inputs.push_back({{"x", random_input(s, seed++)}});
        // Variant 1 ends in DequantizeLinear → Sigmoid (float): its output differs between ISA
        // levels in the last bits, as FP32 ops do (vectorised vs scalar exp), so it is
        // compared across thread counts only.
        expect_int8_thread_count_invariant(*g, *calib, inputs, "synthetic" + std::to_string(variant), variant == 0);
    }
}
