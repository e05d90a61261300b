// Acceptance tests of the detection and text tasks through the CLI, as a user runs them:
// BlazeFace on scikit-image's astronaut.png (committed fixture model: runs in CI), PP-OCRv4
// on OpenCV's imageTextN.png (model cache: skipped with a message when it is absent).
// Expected boxes and text were read once by hand from the images.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "cli_test_util.hpp"
#include "vision/image.hpp"
#include "vision/postprocess/boxes.hpp"

using namespace edgecnn;
using namespace edgecnn::test;
namespace fs = std::filesystem;

namespace {

const std::string kAstronaut = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";  // python3-skimage
const std::string kTextImage = "/usr/share/doc/opencv-doc/examples/data/imageTextN.png";   // opencv-doc

std::string ocr_assets() { return source_path(".cache/models/npm/ocr-models/package/assets"); }

// Skips the test unless every path exists.
#define REQUIRE_FILES(...)                                                                              \
    do {                                                                                                \
        for (const std::string& p_ : {__VA_ARGS__})                                                     \
            if (!fs::exists(p_))                                                                        \
                GTEST_SKIP() << p_ << " missing (models: models/fetch_npm_models.sh; images: "          \
                             << "apt-get install python3-skimage opencv-doc)";                          \
    } while (0)

std::vector<std::string> lines_starting(const std::string& out, const std::string& prefix) {
    std::vector<std::string> r;
    std::istringstream in(out);
    std::string l;
    while (std::getline(in, l)) {
        size_t b = l.find_first_not_of(' ');
        if (b != std::string::npos && l.compare(b, prefix.size(), prefix) == 0) r.push_back(l.substr(b));
    }
    return r;
}

// "(a,b) (c,d) (e,f) (g,h)" after `key` -> bounding box.
vision::BoxF quad_bounds(const std::string& line, const std::string& key) {
    size_t p = line.find(key);
    float v[8] = {};
    if (p == std::string::npos ||
        std::sscanf(line.c_str() + p + key.size(), " (%f,%f) (%f,%f) (%f,%f) (%f,%f)", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                    &v[6], &v[7]) != 8)
        return {};
    vision::BoxF b{v[0], v[1], v[0], v[1]};
    for (int i = 0; i < 8; i += 2) {
        b.x0 = std::min(b.x0, v[i]); b.x1 = std::max(b.x1, v[i]);
        b.y0 = std::min(b.y0, v[i + 1]); b.y1 = std::max(b.y1, v[i + 1]);
    }
    return b;
}

std::string quoted_text(const std::string& line) {
    size_t a = line.find('"'), b = line.rfind('"');
    return a == std::string::npos || b <= a ? "" : line.substr(a + 1, b - a - 1);
}

std::string trim(const std::string& s) {
    size_t a = s.find_first_not_of(' '), b = s.find_last_not_of(' ');
    return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

// The paragraph of imageTextN.png, line by line, read by hand from the image.
const std::vector<std::string> kText = {
    "technical details are too complex to cover in the book itself.",
    "In teaching our courses, we have found it useful for the students to attempt a number of",
    "small implementation projects, which often build on one another, in order to get them used to",
    "working with real-world images and the challenges that these present. The students are then",
    "asked to choose an individual topic for each of their small-group, final projects. (Sometimes",
    "these projects even turn into conference papers!) The exercises at the end of each chapter",
    "contain numerous suggestions for smaller mid-term projects, as well as more open-ended",
    "problems whose solutions are still active research topics. Wherever possible, I encourage",
    "students to try their algorithms on their own personal photographs, since this better motivates",
    "them, often leads to creative variants on the problems, and better acquaints them with the",
    "variety and complexity of real-world imagery.",
    "In formulating and solving computer vision problems, I have often found it useful to draw",
    "inspiration from three high-level approaches:"};
// Where the ink of each line is (image pixels, read by hand on a zoomed view): y0, y1, x0, x1.
const float kLineInk[13][4] = {{19, 31, 31, 349},   {38, 50, 52, 527},   {56, 68, 31, 526},   {75, 87, 31, 525},
                               {93, 105, 31, 526},  {112, 124, 31, 526}, {130, 142, 31, 525}, {149, 161, 31, 526},
                               {167, 179, 31, 525}, {186, 198, 31, 526}, {204, 216, 31, 275}, {223, 235, 52, 525},
                               {241, 253, 31, 270}};

// Character error rate of the recognized lines against the reference lines (joined with
// newlines, so missing or extra lines count too).
double cer(const std::vector<std::string>& got, const std::vector<std::string>& want) {
    std::string g, w;
    for (const auto& s : got) g += trim(s) + "\n";
    for (const auto& s : want) w += s + "\n";
    return double(edit_distance(g, w)) / double(w.size());
}

void expect_boxes_on_lines(const std::vector<vision::BoxF>& boxes) {
    ASSERT_EQ(boxes.size(), 13u);
    for (size_t i = 0; i < 13; ++i) {
        const float* l = kLineInk[i];
        const vision::BoxF& b = boxes[i];
        // The box holds the line's ink (a little slack) and stays off the neighbouring lines
        // (lines are 18.5 px apart).
        EXPECT_LE(b.y0, l[0] + 2) << "line " << i + 1;
        EXPECT_GE(b.y1, l[1] - 2) << "line " << i + 1;
        EXPECT_GT(b.y0, l[0] - 9) << "line " << i + 1;
        EXPECT_LT(b.y1, l[1] + 9) << "line " << i + 1;
        EXPECT_NEAR(b.x0, l[2], 6) << "line " << i + 1;
        EXPECT_NEAR(b.x1, l[3], 6) << "line " << i + 1;
    }
}

std::string ocr_args(const std::string& image, bool with_cls = true) {
    std::string a = ocr_assets();
    return "run " + a + "/ch_PP-OCRv4_det_infer.onnx --task ocr --image " + image + " --rec-model " + a +
           "/ch_PP-OCRv4_rec_infer.onnx " + (with_cls ? "--cls-model " + a + "/ch_ppocr_mobile_v2.0_cls_infer.onnx " : "") +
           "--class-names " + a + "/ppocr_keys_v1.txt";
}

}  // namespace

// The face in astronaut.png (512x512), read by hand: hairline y 80, chin y 183, cheeks x
// 182..262; eyes (207,102) and (245,102), mouth (225,146).
TEST(HeadsCli, BlazeFaceFindsTheAstronautsFace) {
    std::string model = source_path("models/fixtures/blazeface_front_128/model.onnx");
    REQUIRE_FILES(kAstronaut, model);
    auto dir = temp_dir("blazeface");
    auto r = run_cli("run " + model + " --task detect-blazeface --image " + kAstronaut + " --out " + dir.string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto faces = lines_starting(r.output, "face ");
    ASSERT_EQ(faces.size(), 1u) << r.output;
    float score = 0;
    vision::BoxF b;
    ASSERT_EQ(std::sscanf(faces[0].c_str(), "face 1: score %f box (%f,%f)-(%f,%f)", &score, &b.x0, &b.y0, &b.x1, &b.y1), 5)
        << faces[0];
    EXPECT_GT(score, 0.8f);
    EXPECT_GT(vision::iou(b, {182, 80, 262, 183}), 0.6f) << faces[0];
    for (auto [x, y] : {std::pair{207.f, 102.f}, {245.f, 102.f}, {225.f, 146.f}}) {
        EXPECT_GT(x, b.x0); EXPECT_LT(x, b.x1);
        EXPECT_GT(y, b.y0); EXPECT_LT(y, b.y1);
    }
    // The picture: the photo with the box drawn (pixels on the box's left edge changed).
    auto png = dir / "astronaut_detect-blazeface.png";
    ASSERT_TRUE(fs::exists(png)) << r.output;
    auto out = vision::load_image(png.string(), 3), in = vision::load_image(kAstronaut, 3);
    ASSERT_EQ(out.width, in.width);
    int changed = 0;
    int x = int(b.x0) + 1;
    for (int y = int(b.y0) + 10; y < int(b.y1) - 10; ++y) changed += !std::equal(out.at(x, y), out.at(x, y) + 3, in.at(x, y));
    EXPECT_GT(changed, int(b.y1 - b.y0) / 2);
    fs::remove_all(dir);
}

TEST(HeadsCli, TextDetectBoxesCoverTheThirteenLines) {
    REQUIRE_FILES(kTextImage, ocr_assets() + "/ch_PP-OCRv4_det_infer.onnx");
    auto dir = temp_dir("textdet");
    auto r = run_cli("run " + ocr_assets() + "/ch_PP-OCRv4_det_infer.onnx --task text-detect --image " + kTextImage +
                     " --out " + dir.string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::vector<vision::BoxF> boxes;
    for (const auto& l : lines_starting(r.output, "box ")) boxes.push_back(quad_bounds(l, "  "));
    expect_boxes_on_lines(boxes);
    EXPECT_TRUE(fs::exists(dir / "imageTextN_text-detect.png")) << r.output;
    fs::remove_all(dir);
}

TEST(HeadsCli, OcrReadsImageTextN) {
    REQUIRE_FILES(kTextImage, ocr_assets() + "/ch_PP-OCRv4_rec_infer.onnx");
    auto dir = temp_dir("ocr");
    auto r = run_cli(ocr_args(kTextImage) + " --out " + dir.string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::vector<std::string> text;
    std::vector<vision::BoxF> boxes;
    for (const auto& l : lines_starting(r.output, "line ")) {
        text.push_back(quoted_text(l));
        boxes.push_back(quad_bounds(l, "box"));
    }
    double e = cer(text, kText);
    std::printf("imageTextN OCR: %zu lines, character error rate %.2f %%\n", text.size(), 100 * e);
    EXPECT_LT(e, 0.10) << r.output;
    expect_boxes_on_lines(boxes);
    EXPECT_TRUE(fs::exists(dir / "imageTextN_ocr.png")) << r.output;
    fs::remove_all(dir);
}

// The page upside down: the cls model (on 4:1 windows of each line) and rec confidence turn
// every line; lines then come bottom of the page first.
TEST(HeadsCli, OcrReadsTheUpsideDownPage) {
    REQUIRE_FILES(kTextImage, ocr_assets() + "/ch_ppocr_mobile_v2.0_cls_infer.onnx");
    auto dir = temp_dir("ocr180");
    auto img = vision::load_image(kTextImage, 3);
    vision::Image rot(img.width, img.height, 3);
    for (int y = 0; y < img.height; ++y)
        for (int x = 0; x < img.width; ++x) std::copy_n(img.at(x, y), 3, rot.at(img.width - 1 - x, img.height - 1 - y));
    auto path = (dir / "upside_down.png").string();
    vision::write_png(path, rot);
    auto r = run_cli(ocr_args(path));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::vector<std::string> text;
    auto lines = lines_starting(r.output, "line ");
    for (const auto& l : lines) text.push_back(quoted_text(l));
    std::vector<std::string> want(kText.rbegin(), kText.rend());
    double e = cer(text, want);
    std::printf("upside-down imageTextN OCR: %zu lines, character error rate %.2f %%\n", text.size(), 100 * e);
    EXPECT_LT(e, 0.10) << r.output;
    for (const auto& l : lines) EXPECT_NE(l.find("(turned 180)"), std::string::npos) << l;
    fs::remove_all(dir);
}

// imageTextR.png: the same paragraph turned about 9 degrees: rotated boxes, straightened
// crops. (Measured: CER 0.65 % with the bicubic crop, 4.7 % with bilinear: spaces lost.)
TEST(HeadsCli, OcrReadsTheTiltedPage) {
    const std::string tilted = "/usr/share/doc/opencv-doc/examples/data/imageTextR.png";
    REQUIRE_FILES(tilted, ocr_assets() + "/ch_PP-OCRv4_rec_infer.onnx");
    auto r = run_cli(ocr_args(tilted));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::vector<std::string> text;
    auto lines = lines_starting(r.output, "line ");
    for (const auto& l : lines) {
        text.push_back(quoted_text(l));
        float v[8] = {};
        size_t p = l.find("box");
        ASSERT_EQ(std::sscanf(l.c_str() + p + 3, " (%f,%f) (%f,%f) (%f,%f) (%f,%f)", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                              &v[6], &v[7]), 8) << l;
        // Rising to the right by tan(9 deg) ~ 0.16 of the box's width: a rotated box.
        float slope = (v[3] - v[1]) / (v[2] - v[0]);
        EXPECT_LT(slope, -0.12f) << l;
        EXPECT_GT(slope, -0.20f) << l;
    }
    double e = cer(text, kText);
    std::printf("imageTextR OCR: %zu lines, character error rate %.2f %%\n", text.size(), 100 * e);
    EXPECT_LT(e, 0.10) << r.output;
}

TEST(HeadsCli, TextRecognizeReadsALineCrop) {
    REQUIRE_FILES(kTextImage, ocr_assets() + "/ch_PP-OCRv4_rec_infer.onnx");
    auto dir = temp_dir("rec");
    // Line 1 with a few pixels of margin (ink at x 31..349, y 19..31).
    auto crop = vision::crop(vision::load_image(kTextImage, 3), 27, 15, 327, 20);
    auto path = (dir / "line1.png").string();
    vision::write_png(path, crop);
    auto r = run_cli("run " + ocr_assets() + "/ch_PP-OCRv4_rec_infer.onnx --task text-recognize --image " + path +
                     " --class-names " + ocr_assets() + "/ppocr_keys_v1.txt");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto t = lines_starting(r.output, "text: ");
    ASSERT_EQ(t.size(), 1u) << r.output;
    double e = cer(std::vector<std::string>{quoted_text(t[0])}, std::vector<std::string>{kText[0]});
    EXPECT_LT(e, 0.10) << r.output;
    fs::remove_all(dir);
}

TEST(HeadsCli, SsdliteHeadRunsAndBoundsItsOutput) {
    std::string model = source_path(".cache/models/torchvision/ssdlite320_mobilenet_v3_large_op13/model.onnx");
    REQUIRE_FILES(kAstronaut, model);
    // Random weights (no model hub): only the plumbing is checked here; the decoder itself
    // is tested on hand-made head outputs (postprocess_detect_test.cpp).
    auto r = run_cli("run " + model + " --task detect-ssd --threshold 0.2 --image " + kAstronaut);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("[1,3,320,320]"), std::string::npos) << r.output;  // the task's default size
    EXPECT_LE(lines_starting(r.output, "det ").size(), 100u);
    EXPECT_NE(r.output.find(" detections"), std::string::npos) << r.output;
}

TEST(HeadsCli, MissingPiecesAndWrongModelsAreNamed) {
    std::string blaze = source_path("models/fixtures/blazeface_front_128/model.onnx");
    REQUIRE_FILES(kAstronaut, blaze);
    auto r = run_cli("run " + blaze + " --task ocr --image " + kAstronaut + " --class-names " + blaze);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("--rec-model"), std::string::npos) << r.output;
    r = run_cli("run " + blaze + " --task text-recognize --image " + kAstronaut);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("--class-names"), std::string::npos) << r.output;
    // BlazeFace's outputs are not a DB probability map.
    r = run_cli("run " + blaze + " --task text-detect --image " + kAstronaut);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("probability map"), std::string::npos) << r.output;
    r = run_cli("run " + blaze + " --task detect-ssd --image " + kAstronaut);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("detect-ssd"), std::string::npos) << r.output;
}
