// The project's Fashion-MNIST CNN over all 10,000 test images: edgecnn's predicted
// labels must equal torch's (committed with the model), except near-ties.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_test_util.hpp"
#include "io/idx.hpp"
#include "onnx/importer.hpp"
#include "runtime/session.hpp"

using namespace edgecnn;

namespace {
const char* kImages = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
}

TEST(FashionMnist, AgreesWithTorchOnAllTestImages) {
    if (!std::filesystem::exists(kImages)) GTEST_FAIL() << kImages << " missing: install dataset-fashion-mnist (scripts/setup.sh)";
    Tensor images = read_idx_u8(kImages);
    ASSERT_EQ(images.shape(), (Shape{10000, 28, 28}));
    std::ifstream pred_file(test::source_path("models/fashion_mnist/torch_predictions.txt"));
    ASSERT_TRUE(pred_file.good());
    std::vector<int> torch_label(10000, -1);
    std::vector<double> torch_gap(10000, 0);
    std::string line;
    while (std::getline(pred_file, line)) {
        std::istringstream ss(line);
        int idx, label;
        double gap;
        if (ss >> idx >> label >> gap && idx >= 0 && idx < 10000) {
            torch_label[size_t(idx)] = label;
            torch_gap[size_t(idx)] = gap;
        }
    }
    auto graph = import_onnx_file(test::source_path("models/fashion_mnist/fashion_mnist_cnn.onnx"));
    Session session(graph);
    const int batch = 1000;
    int agree = 0, near_ties = 0;
    std::vector<int> disagreements;
    for (int b0 = 0; b0 < 10000; b0 += batch) {
        Tensor x(DType::F32, {batch, 1, 28, 28});
        const uint8_t* px = images.data<uint8_t>() + int64_t(b0) * 784;
        float* dst = x.data<float>();
        for (int64_t i = 0; i < int64_t(batch) * 784; ++i) dst[i] = (float(px[i]) / 255.0f - 0.2860f) / 0.3530f;
        auto out = session.run({{graph->value(graph->inputs[0]).name, x}});
        const Tensor& logits = out[0].second;
        ASSERT_EQ(logits.shape(), (Shape{batch, 10}));
        for (int i = 0; i < batch; ++i) {
            const float* l = logits.data<float>() + i * 10;
            int best = 0;
            for (int c = 1; c < 10; ++c)
                if (l[c] > l[best]) best = c;
            int idx = b0 + i;
            if (best == torch_label[size_t(idx)]) {
                ++agree;
            } else if (torch_gap[size_t(idx)] < 1e-4) {
                ++near_ties;
                std::printf("near-tie image %d: edgecnn %d, torch %d (gap %g)\n", idx, best, torch_label[size_t(idx)],
                            torch_gap[size_t(idx)]);
            } else {
                disagreements.push_back(idx);
            }
        }
    }
    std::printf("agree %d / 10000, near-ties %d\n", agree, near_ties);
    EXPECT_TRUE(disagreements.empty()) << disagreements.size() << " disagreements, first at image " << disagreements[0];
}
