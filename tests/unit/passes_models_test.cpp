// The optimization pipeline over whole models: the Fashion-MNIST CNN (committed) and the
// torchvision exports in .cache/models/torchvision when present. Each model is
// specialized for its test input's shape, optimized, and must still agree with the
// reference: the unoptimized graph (Fashion-MNIST) or ONNX Runtime's outputs stored with
// the export (torchvision), at `edgecnn check`'s default tolerance.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "cli_test_util.hpp"
#include "onnx/importer.hpp"
#include "onnx/tensor_proto.hpp"
#include "passes_test_util.hpp"

using namespace edgecnn;
using namespace edgecnn::test;
namespace fs = std::filesystem;

TEST(PassesModels, FashionMnist) {
    auto graph = import_onnx_file(source_path("models/fashion_mnist/fashion_mnist_cnn.onnx"));
    Graph g = *graph;
    const int convs = count_ops(g, "Conv");
    const int bns = count_ops(g, "BatchNormalization");
    EXPECT_EQ(convs, 3);
    EXPECT_EQ(bns, 3);
    bind_input_shapes(g, {{3, 1, 28, 28}});
    specialize(g);
    Graph o = g;
    OptimizeStats st = optimize_graph(o);
    EXPECT_EQ(count_ops(o, "BatchNormalization"), 0);
    EXPECT_EQ(count_ops(o, "Conv"), 0);
    EXPECT_EQ(count_ops(o, "Relu"), 1);  // the one after the first Gemm
    EXPECT_EQ(count_ops(o, "FusedConv"), 3);
    EXPECT_EQ(st.batchnorms_folded, 3);
    EXPECT_EQ(st.activations_fused, 3);
    for (size_t k = 0; k < g.outputs.size(); ++k) EXPECT_EQ(o.value(o.outputs[k]).name, g.value(g.outputs[k]).name);
    EXPECT_EQ(o.nodes.size(), 10u);  // 3 FusedConv, 3 MaxPool, Flatten, Gemm, Relu, Gemm
    std::printf("fashion_mnist: %zu nodes -> %zu\n", g.nodes.size(), o.nodes.size());
    std::mt19937 rng(1);
    NamedTensors in = random_inputs(g, rng);
    expect_close(run_graph(o, in), run_graph(g, in), 1e-4);
}

namespace {

// Optimizes the model in `m` (model.onnx) specialized for test_data_set_0/input_k.pb and
// compares its outputs with output_k.pb at `edgecnn check`'s default tolerance.
void check_model(const fs::path& m, const std::string& name) {
    SCOPED_TRACE(name);
    auto graph = import_onnx_file((m / "model.onnx").string());
    Graph g = *graph;
    const fs::path data = m / "test_data_set_0";
    std::vector<Tensor> inputs;
    for (size_t k = 0; k < g.inputs.size(); ++k)
        inputs.push_back(read_tensor_pb((data / ("input_" + std::to_string(k) + ".pb")).string()));
    std::vector<Shape> shapes;
    for (const Tensor& t : inputs) shapes.push_back(t.shape());
    bind_input_shapes(g, shapes);
    specialize(g);
    const int convs = count_ops(g, "Conv"), nodes_before = int(g.nodes.size());
    const int bns = count_ops(g, "BatchNormalization");
    auto t0 = std::chrono::steady_clock::now();
    OptimizeStats st = optimize_graph(g);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    int with_residual = 0;
    for (const Node& n : g.nodes)
        if (n.op_type == "FusedConv" && n.inputs.size() > 3 && n.inputs[3] != kNoValue) ++with_residual;
    std::printf("%-36s Conv %3d: fused %3d (residual %2d), plain %3d | nodes %4d -> %4zu | bn %d/%d bias-ops %d "
                "identities %d act %d input-affine %d | %.1f ms\n",
                name.c_str(), convs, count_ops(g, "FusedConv"), with_residual, count_ops(g, "Conv"), nodes_before,
                g.nodes.size(), st.batchnorms_folded, bns, st.bias_ops_folded, st.identities_removed,
                st.activations_fused, st.input_affine_folded, ms);
    EXPECT_EQ(count_ops(g, "FusedConv") + count_ops(g, "Conv"), convs);
    EXPECT_GT(count_ops(g, "FusedConv"), 0);
    NamedTensors in;
    for (size_t k = 0; k < g.inputs.size(); ++k) in.emplace_back(g.value(g.inputs[k]).name, inputs[k]);
    NamedTensors out = run_graph(g, in), want;
    for (size_t k = 0; k < out.size(); ++k)
        want.emplace_back(out[k].first, read_tensor_pb((data / ("output_" + std::to_string(k) + ".pb")).string()));
    expect_close(out, want, 1e-4);
}

// Every model folder under `dir` with model.onnx and test_data_set_0;
// EDGECNN_PASSES_MODELS=substring limits them (e.g. "_op17").
void check_models_in(const fs::path& dir) {
    if (!fs::is_directory(dir)) GTEST_SKIP() << dir << " missing (see models/README.md)";
    const char* filter = std::getenv("EDGECNN_PASSES_MODELS");
    std::vector<fs::path> models;
    for (const auto& e : fs::directory_iterator(dir))
        if (fs::exists(e.path() / "model.onnx") && fs::exists(e.path() / "test_data_set_0" / "input_0.pb") &&
            (!filter || e.path().filename().string().find(filter) != std::string::npos))
            models.push_back(e.path());
    std::sort(models.begin(), models.end());
    if (models.empty()) GTEST_SKIP() << "no model in " << dir;
    for (const fs::path& m : models) check_model(m, m.filename().string());
}

}  // namespace

TEST(PassesModels, BlazeFaceFixture) {
    check_model(source_path("models/fixtures/blazeface_front_128"), "blazeface_front_128 (fixture)");
}

TEST(PassesModels, Torchvision) { check_models_in(source_path(".cache/models/torchvision")); }

TEST(PassesModels, NpmModels) { check_models_in(source_path(".cache/models/npm")); }
