// Determinism (docs/THREADING.md): FP32 outputs are bit-identical whatever the thread count,
// on the committed fixtures and on synthetic conv nets at awkward shapes. Kernels split work
// by output region only (never a reduction across threads), so every output element is
// computed by the same instruction sequence whichever thread computes it.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "base/thread_pool.hpp"
#include "cli_test_util.hpp"
#include "onnx/importer.hpp"
#include "onnx/tensor_proto.hpp"
#include "runtime/session.hpp"
#include "synthetic_models.hpp"

using namespace edgecnn;

namespace {

// Runs `inputs` at 1 thread, then at each of `thread_counts`, and expects every output to
// be identical bit for bit.
void expect_thread_count_invariant(const std::shared_ptr<const Graph>& g, const NamedTensors& inputs,
                                   const std::string& what) {
    NamedTensors ref = Session(g).run(inputs);
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
