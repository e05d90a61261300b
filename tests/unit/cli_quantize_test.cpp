// `edgecnn quantize` and `edgecnn eval` as a user runs them: the happy path on the
// Fashion-MNIST model (a few calibration images) and bad input named in the message
// with a non-zero exit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_test_util.hpp"

using namespace edgecnn::test;

namespace {
const std::string kModel = source_path("models/fashion_mnist/fashion_mnist_cnn.onnx");
const std::string kDir = "/usr/share/datasets/fashion-mnist/";
}  // namespace

TEST(CliQuantize, WritesAQdqModelThatEvalRuns) {
    if (!std::filesystem::exists(kDir)) GTEST_FAIL() << kDir << " missing: install dataset-fashion-mnist";
    auto dir = temp_dir("quantize");
    const std::string out = (dir / "fm.int8.onnx").string();
    auto q = run_cli("quantize " + kModel + " --calib " + kDir + "train-images-idx3-ubyte.gz --calib-count 50 --mean 0.2860 " +
                     "--std 0.3530 -o " + out);
    ASSERT_EQ(q.exit_code, 0) << q.output;
    EXPECT_NE(q.output.find("precision"), std::string::npos) << q.output;  // the per-layer table
    EXPECT_NE(q.output.find("final error"), std::string::npos);
    EXPECT_NE(q.output.find("calibrating"), std::string::npos);  // the progress bar
    auto info = run_cli("info " + out);
    EXPECT_EQ(info.exit_code, 0) << info.output;
    EXPECT_NE(info.output.find("QuantizeLinear"), std::string::npos) << info.output;
    auto e = run_cli("eval " + out + " --dataset " + kDir + "t10k-images-idx3-ubyte.gz --labels " + kDir +
                     "t10k-labels-idx1-ubyte.gz --limit 500 --mean 0.2860 --std 0.3530");
    ASSERT_EQ(e.exit_code, 0) << e.output;
    const auto pos = e.output.find("top-1: ");
    ASSERT_NE(pos, std::string::npos) << e.output;
    EXPECT_GT(std::stod(e.output.substr(pos + 7)), 0.85) << e.output;
}

TEST(CliQuantize, BadInputIsNamed) {
    auto dir = temp_dir("quantize_bad");
    auto r = run_cli("quantize " + kModel + " --calib " + (dir / "nothing_here").string() + " -o " + (dir / "o.onnx").string());
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("nothing_here"), std::string::npos) << r.output;
    r = run_cli("quantize " + kModel + " --calib random:0 -o " + (dir / "o.onnx").string());
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("random:0"), std::string::npos) << r.output;
    r = run_cli("quantize " + kModel + " --calib random:2 --method entropy -o " + (dir / "o.onnx").string());
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("entropy"), std::string::npos) << r.output;
    std::ofstream(dir / "junk.idx") << "not an idx file";
    r = run_cli("quantize " + kModel + " --calib " + (dir / "junk.idx").string() + " -o " + (dir / "o.onnx").string());
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("junk.idx"), std::string::npos) << r.output;
    r = run_cli("eval " + kModel + " --dataset " + kDir + "t10k-images-idx3-ubyte.gz --labels " + kDir +
                "train-labels-idx1-ubyte.gz");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("labels"), std::string::npos) << r.output;
}
