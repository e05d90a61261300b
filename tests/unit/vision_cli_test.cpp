// `edgecnn run --image ... --task classify|segment` end to end, as a user runs it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "cli_test_util.hpp"
#include "io/idx.hpp"
#include "onnx/importer.hpp"
#include "runtime/session.hpp"
#include "vision/image.hpp"
#include "vision/nv12.hpp"
#include "vision/postprocess/segment.hpp"
#include "vision/preprocess.hpp"

using namespace edgecnn;

namespace {
const char* kFashionImages = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
const char* kChelsea = "/usr/lib/python3/dist-packages/skimage/data/chelsea.png";
std::string lraspp_path() { return test::source_path(".cache/models/torchvision/lraspp_mobilenet_v3_large_op17/model.onnx"); }
}  // namespace

// The committed sidecar (models/fashion_mnist/fashion_mnist_cnn.onnx.json) gives the
// normalisation, the task and the class names; PNGs are lossless, so every prediction must
// equal torch's (except near-ties, which the first 40 images do not contain).
TEST(VisionCli, ClassifyFashionMnistPngsAgreesWithTorch) {
    if (!std::filesystem::exists(kFashionImages))
        GTEST_FAIL() << kFashionImages << " missing: install dataset-fashion-mnist (scripts/setup.sh --test)";
    Tensor images = read_idx_u8(kFashionImages);
    std::ifstream pred(test::source_path("models/fashion_mnist/torch_predictions.txt"));
    ASSERT_TRUE(pred.good());
    std::vector<std::string> names;
    {
        std::ifstream cn(test::source_path("models/fashion_mnist/classes.txt"));
        std::string l;
        while (std::getline(cn, l)) names.push_back(l);
    }
    ASSERT_EQ(names.size(), 10u);
    auto dir = test::temp_dir("vision_classify");
    const std::string model = test::source_path("models/fashion_mnist/fashion_mnist_cnn.onnx");
    int checked = 0;
    for (int i = 0; i < 40; ++i) {
        int idx = -1, label = -1;
        double gap = 0;
        std::string line;
        ASSERT_TRUE(std::getline(pred, line));
        std::istringstream(line) >> idx >> label >> gap;
        ASSERT_EQ(idx, i);
        vision::Image img(28, 28, 1);
        std::copy_n(images.data<uint8_t>() + i * 784, 784, img.pixels.data());
        std::string png = (dir / ("fm" + std::to_string(i) + ".png")).string();
        vision::write_png(png, img);
        auto r = test::run_cli("run " + model + " --image " + png + " --top-k 2 --out " + (dir / "out").string());
        ASSERT_EQ(r.exit_code, 0) << r.output;
        std::smatch m;
        ASSERT_TRUE(std::regex_search(r.output, m, std::regex("top-1: class (\\d+) ([^\\n]*?)  score"))) << r.output;
        if (gap > 1e-3) {
            EXPECT_EQ(std::stoi(m[1]), label) << "image " << i << "\n" << r.output;
            EXPECT_EQ(m[2].str(), names[size_t(label)]);
            ++checked;
        }
        EXPECT_NE(r.output.find("top-2: class"), std::string::npos);
        EXPECT_EQ(r.output.find("top-3:"), std::string::npos);
        std::string pic = (dir / "out" / ("fm" + std::to_string(i) + "_classify.png")).string();
        ASSERT_TRUE(std::filesystem::exists(pic)) << r.output;
    }
    EXPECT_GE(checked, 38);
    vision::Image pic = vision::load_image((dir / "out" / "fm0_classify.png").string());
    EXPECT_GE(pic.width, 256);  // enlarged so the label fits
}

TEST(VisionCli, SegmentLrasppOverlayMatchesArgmax) {
    if (!std::filesystem::exists(lraspp_path()))
        GTEST_SKIP() << "model cache missing: " << lraspp_path()
                     << " (make it with /usr/bin/python3 models/export_torchvision.py --only lraspp_mobilenet_v3_large)";
    if (!std::filesystem::exists(kChelsea)) GTEST_FAIL() << kChelsea << " missing: install python3-skimage";
    auto dir = test::temp_dir("vision_segment");
    const std::string flags = " --size 320x256 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225";
    auto r = test::run_cli("run " + lraspp_path() + " --image " + kChelsea + flags + " --task segment --out " + dir.string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // The printed histogram must be the argmax of the model's output on the same tensor.
    vision::Image photo = vision::load_image(kChelsea);
    vision::Preprocess p;
    p.width = 320;
    p.height = 256;
    p.mean = {0.485f, 0.456f, 0.406f};
    p.std = {0.229f, 0.224f, 0.225f};
    vision::TensorImage t = vision::to_tensor(photo, p, Shape{-1, 3, -1, -1});
    auto graph = import_onnx_file(lraspp_path());
    Session s(graph);
    auto out = s.run({{"input", t.tensor}});
    ASSERT_EQ(out[0].second.shape(), (Shape{1, 21, 256, 320}));
    vision::LabelMap m = vision::segment_labels(out[0].second, true, 0.5f);
    auto hist = vision::label_histogram(m);
    int classes_seen = 0;
    for (size_t c = 0; c < hist.size(); ++c) {
        if (hist[c] == 0) continue;
        ++classes_seen;
        std::smatch mm;
        ASSERT_TRUE(std::regex_search(r.output, mm, std::regex("class " + std::to_string(c) + ": (\\d+) pixels")))
            << "class " << c << "\n" << r.output;
        // The CLI's argmax runs fused with the model's upsampling (passes/fuse_resize_argmax),
        // on the same values: the counts are exact.
        EXPECT_EQ(std::stoll(mm[1]), hist[c]) << "class " << c;
    }
    EXPECT_GE(classes_seen, 2);
    EXPECT_NE(r.output.find("(argmax in the model)"), std::string::npos) << r.output;
    // The overlay: the photo's size, painted where the label is not background (class 0).
    vision::Image pic = vision::load_image((dir / "chelsea_segment.png").string());
    ASSERT_EQ(pic.width, photo.width);
    ASSERT_EQ(pic.height, photo.height);
    int64_t changed = 0;
    for (size_t i = 0; i < pic.pixels.size(); i += 3)
        changed += pic.pixels[i] != photo.pixels[i] || pic.pixels[i + 1] != photo.pixels[i + 1] ||
                   pic.pixels[i + 2] != photo.pixels[i + 2];
    double painted = double(changed) / (double(photo.width) * photo.height);
    double foreground = 1.0 - double(hist[0]) / (256.0 * 320.0);
    EXPECT_NEAR(painted, foreground, 0.03) << "painted " << painted << " foreground labels " << foreground;
}

TEST(VisionCli, ImageErrorsAreClear) {
    const std::string model = test::source_path("models/fashion_mnist/fashion_mnist_cnn.onnx");
    auto r = test::run_cli("run " + model + " --image /nonexistent/photo.jpg");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("/nonexistent/photo.jpg"), std::string::npos) << r.output;
    r = test::run_cli("run " + model + " --task classify");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("--image"), std::string::npos) << r.output;
    r = test::run_cli("run " + model + " --image " + kChelsea + " --task nosuchtask");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("classify"), std::string::npos) << r.output;  // lists the known tasks
    r = test::run_cli("run " + model + " --image " + kChelsea + " --size 32x32");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("28x28"), std::string::npos) << r.output;
    r = test::run_cli("run " + model + " --image " + kChelsea + " --mean 1,2");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("--mean"), std::string::npos) << r.output;
    const std::string relu = "/usr/share/libonnx-testdata/data/node/test_relu/model.onnx";
    if (std::filesystem::exists(relu)) {
        r = test::run_cli("run " + relu + " --image " + std::string(kChelsea));
        EXPECT_EQ(r.exit_code, 1);
        EXPECT_NE(r.output.find("no input takes an image"), std::string::npos) << r.output;
    }
    // bench and profile take --image too.
    r = test::run_cli("bench " + model + " --image " + kChelsea + " --runs 2 --warmup 1");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("[1,1,28,28]"), std::string::npos) << r.output;
    r = test::run_cli("profile " + model + " --image " + kChelsea + " --runs 1 --warmup 0");
    EXPECT_EQ(r.exit_code, 0) << r.output;
}

// A raw NV12 frame gives the same answer as the same frame converted to a PNG first.
TEST(VisionCli, Nv12FrameInputMatchesItsRgbPicture) {
    if (!std::filesystem::exists(kFashionImages)) GTEST_FAIL() << kFashionImages << " missing";
    Tensor images = read_idx_u8(kFashionImages);
    auto dir = test::temp_dir("vision_nv12_cli");
    const std::string model = test::source_path("models/fashion_mnist/fashion_mnist_cnn.onnx");
    for (int i : {0, 1, 2}) {
        vision::Image img(28, 28, 1);
        std::copy_n(images.data<uint8_t>() + i * 784, 784, img.pixels.data());
        vision::YuvImage f = vision::rgb_to_yuv(img, vision::YuvOrder::NV12);
        std::string raw = (dir / (std::string("f") + std::to_string(i) + ".nv12")).string();
        std::ofstream(raw, std::ios::binary).write(reinterpret_cast<const char*>(f.data.data()), std::streamsize(f.data.size()));
        std::string png = (dir / (std::string("f") + std::to_string(i) + ".png")).string();
        vision::write_png(png, vision::yuv_to_rgb(f));
        auto a = test::run_cli("run " + model + " --nv12 " + raw + " --frame-size 28x28 --top-k 1");
        auto b = test::run_cli("run " + model + " --image " + png + " --top-k 1");
        ASSERT_EQ(a.exit_code, 0) << a.output;
        ASSERT_EQ(b.exit_code, 0) << b.output;
        std::smatch ma, mb;
        ASSERT_TRUE(std::regex_search(a.output, ma, std::regex("top-1: class (\\d+)")));
        ASSERT_TRUE(std::regex_search(b.output, mb, std::regex("top-1: class (\\d+)")));
        EXPECT_EQ(ma[1].str(), mb[1].str());
    }
    auto bad = test::run_cli("run " + model + " --nv12 " + (dir / "f0.nv12").string() + " --frame-size 30x28");
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.output.find("f0.nv12"), std::string::npos) << bad.output;
}
