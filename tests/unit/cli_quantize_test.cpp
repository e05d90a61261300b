// `edgecnn quantize` and `edgecnn eval` as a user runs them: the happy path on the
// Fashion-MNIST model (a few calibration images) and bad input named in the message
// with a non-zero exit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_test_util.hpp"
#include "format/ecnn.hpp"
#include "io/idx.hpp"
#include "onnx/importer.hpp"
#include "quant/calibration.hpp"
#include "quant/image_source.hpp"
#include "runtime/session.hpp"
#include "vision/image.hpp"

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
    r = run_cli("quantize " + kModel + " --calib random:2 --range-margin -1 -o " + (dir / "o.onnx").string());
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("--range-margin -1"), std::string::npos) << r.output;
    r = run_cli("quantize " + kModel + " --calib random:4 --range-margin auto --max-error 0 -o " + (dir / "m.onnx").string());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("widened by"), std::string::npos) << r.output;  // 4 random inputs never agree exactly
    std::ofstream(dir / "junk.idx") << "not an idx file";
    r = run_cli("quantize " + kModel + " --calib " + (dir / "junk.idx").string() + " -o " + (dir / "o.onnx").string());
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("junk.idx"), std::string::npos) << r.output;
    r = run_cli("eval " + kModel + " --dataset " + kDir + "t10k-images-idx3-ubyte.gz --labels " + kDir +
                "train-labels-idx1-ubyte.gz");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("labels"), std::string::npos) << r.output;
}

namespace {
// The first `n` Fashion-MNIST test images as an ImageFolder tree (dir/<label>/<i>.png):
// the same pixels as the IDX file, so eval must give the same figures on both.
void write_image_tree(const std::filesystem::path& dir, int n) {
    edgecnn::Tensor images = edgecnn::read_idx_u8(kDir + "t10k-images-idx3-ubyte.gz");
    std::vector<int> labels = edgecnn::read_idx_labels(kDir + "t10k-labels-idx1-ubyte.gz");
    for (int i = 0; i < n; ++i) {
        edgecnn::vision::Image img;
        img.width = 28;
        img.height = 28;
        img.channels = 1;
        const uint8_t* px = images.data<uint8_t>() + int64_t(i) * 28 * 28;
        img.pixels.assign(px, px + 28 * 28);
        auto cls = dir / std::to_string(labels[size_t(i)]);
        std::filesystem::create_directories(cls);
        char name[32];
        std::snprintf(name, sizeof name, "%05d.png", i);
        edgecnn::vision::write_png((cls / name).string(), img);
    }
}
double top1_of(const std::string& out) {
    const auto pos = out.find("top-1: ");
    return pos == std::string::npos ? -1.0 : std::stod(out.substr(pos + 7));
}
}  // namespace

TEST(CliQuantize, ImageFolderTreeEvalMatchesIdxAndMaxDropHolds) {
    if (!std::filesystem::exists(kDir)) GTEST_FAIL() << kDir << " missing: install dataset-fashion-mnist";
    auto dir = temp_dir("quantize_tree");
    write_image_tree(dir / "test", 300);
    const std::string flags = " --mean 0.2860 --std 0.3530";
    auto idx = run_cli("eval " + kModel + " --dataset " + kDir + "t10k-images-idx3-ubyte.gz --labels " + kDir +
                       "t10k-labels-idx1-ubyte.gz --limit 300" + flags);
    ASSERT_EQ(idx.exit_code, 0) << idx.output;
    auto tree = run_cli("eval " + kModel + " --dataset " + (dir / "test").string() + flags);
    ASSERT_EQ(tree.exit_code, 0) << tree.output;
    EXPECT_NE(tree.output.find("/300)"), std::string::npos) << tree.output;
    EXPECT_EQ(top1_of(idx.output), top1_of(tree.output)) << idx.output << tree.output;
    EXPECT_GT(top1_of(tree.output), 0.8);

    // Calibrate on the photos of a flat folder, budget in top-1 points on the tree.
    std::filesystem::create_directories(dir / "calib");
    int k = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir / "test"))
        if (e.is_regular_file() && k++ % 10 == 0)
            std::filesystem::copy_file(e.path(), dir / "calib" / e.path().filename());
    const std::string out = (dir / "fm.int8.onnx").string();
    auto q = run_cli("quantize " + kModel + " --calib " + (dir / "calib").string() + " --max-error 0 --max-drop 0.5 --dataset " +
                     (dir / "test").string() + flags + " -o " + out);
    ASSERT_EQ(q.exit_code, 0) << q.output;
    EXPECT_NE(q.output.find("top-1 drop"), std::string::npos) << q.output;
    auto e8 = run_cli("eval " + out + " --dataset " + (dir / "test").string() + flags);
    ASSERT_EQ(e8.exit_code, 0) << e8.output;
    EXPECT_LE((top1_of(tree.output) - top1_of(e8.output)) * 100.0, 0.5 + 1e-9) << tree.output << e8.output;

    // A flat folder is not a labelled set; a sub-folder-less IDX needs --labels.
    auto bad = run_cli("eval " + kModel + " --dataset " + (dir / "calib").string());
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE(bad.output.find("ImageFolder"), std::string::npos) << bad.output;
    bad = run_cli("eval " + kModel + " --dataset " + kDir + "t10k-images-idx3-ubyte.gz");
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE(bad.output.find("--labels"), std::string::npos) << bad.output;
}

// quantize -o .ecnn stores the same QDQ graph: the .ecnn and the .onnx must give the same
// outputs (bit for bit: the loader builds the same int8 plan from both).
TEST(CliQuantize, EcnnOutputRunsLikeTheQdqOnnx) {
    if (!std::filesystem::exists(kDir)) GTEST_FAIL() << kDir << " missing: install dataset-fashion-mnist";
    auto dir = temp_dir("quantize_ecnn");
    const std::string calib = " --calib " + kDir + "train-images-idx3-ubyte.gz --calib-count 40 --mean 0.2860 --std 0.3530";
    const std::string onnx = (dir / "fm.int8.onnx").string(), ecnn = (dir / "fm.int8.ecnn").string();
    auto a = run_cli("quantize " + kModel + calib + " -o " + onnx);
    ASSERT_EQ(a.exit_code, 0) << a.output;
    auto b = run_cli("quantize " + kModel + calib + " -o " + ecnn);
    ASSERT_EQ(b.exit_code, 0) << b.output;
    auto m1 = edgecnn::import_onnx_file(onnx);
    auto m2 = edgecnn::load_ecnn_file(ecnn).graph;
    edgecnn::Session s1(m1), s2(m2);
    edgecnn::Tensor images = edgecnn::read_idx_u8(kDir + "t10k-images-idx3-ubyte.gz");
    const std::string in = m1->value(m1->inputs[0]).name;
    for (int i = 0; i < 20; ++i) {
        edgecnn::Tensor x(edgecnn::DType::F32, {1, 1, 28, 28});
        for (int e = 0; e < 28 * 28; ++e)
            x.data<float>()[e] = (images.data<uint8_t>()[i * 784 + e] / 255.f - 0.2860f) / 0.3530f;
        auto o1 = s1.run({{in, x}});
        auto o2 = s2.run({{in, x}});
        ASSERT_EQ(o1[0].second.numel(), o2[0].second.numel());
        for (int64_t e = 0; e < o1[0].second.numel(); ++e)
            ASSERT_EQ(o1[0].second.data<float>()[e], o2[0].second.data<float>()[e]) << "sample " << i << " output " << e;
    }
    auto bad = run_cli("quantize " + kModel + calib + " -o " + (dir / "x.int8.bin").string());
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE(bad.output.find("x.int8.bin"), std::string::npos) << bad.output;
}

// Listing photo folders: flat, ImageFolder tree, the mixed case refused, and a limit that
// samples every class.
TEST(ImageSource, ListsFoldersAndTreesAndSpreadsTheLimit) {
    namespace fs = std::filesystem;
    auto dir = temp_dir("image_source");
    edgecnn::vision::Image img;
    img.width = img.height = 28;
    img.channels = 1;
    img.pixels.assign(28 * 28, 7);
    for (const char* cls : {"a_cls", "b_cls", "c_cls"}) {
        fs::create_directories(dir / "tree" / cls);
        for (int i = 0; i < 4; ++i)
            edgecnn::vision::write_png((dir / "tree" / cls / (std::to_string(i) + ".png")).string(), img);
    }
    fs::create_directories(dir / "tree" / "empty_cls");  // no photos: not a class
    auto l = edgecnn::list_images((dir / "tree").string());
    ASSERT_EQ(l.files.size(), 12u);
    EXPECT_EQ(l.classes, (std::vector<std::string>{"a_cls", "b_cls", "c_cls"}));
    EXPECT_EQ(l.labels.front(), 0);
    EXPECT_EQ(l.labels.back(), 2);
    EXPECT_TRUE(edgecnn::is_image_folder((dir / "tree").string()));

    auto g = edgecnn::import_onnx_file(kModel);
    auto src = edgecnn::image_folder_source(*g, (dir / "tree").string(), {}, 3);
    ASSERT_EQ(src->size(), 3);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(src->label(i), i);  // one photo of each class
    auto x = src->get(0);
    ASSERT_EQ(x.size(), 1u);
    EXPECT_EQ(x[0].second.shape(), (edgecnn::Shape{1, 1, 28, 28}));
    EXPECT_FLOAT_EQ(x[0].second.data<float>()[0], 7.f / 255.f);

    edgecnn::vision::write_png((dir / "tree" / "stray.png").string(), img);
    try {
        edgecnn::list_images((dir / "tree").string());
        ADD_FAILURE() << "a tree with a stray photo was accepted";
    } catch (const edgecnn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("tree"), std::string::npos) << e.what();
    }
    fs::create_directories(dir / "none");
    EXPECT_FALSE(edgecnn::is_image_folder((dir / "none").string()));
    EXPECT_THROW(edgecnn::list_images((dir / "none").string()), edgecnn::Error);
}
