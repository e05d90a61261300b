// Detection heads: NMS, BlazeFace anchors/decoding and SSD priors/decoding on hand-made
// head outputs with known boxes, and BlazeFace on the committed astronaut fixture.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "onnx/importer.hpp"
#include "onnx/tensor_proto.hpp"
#include "runtime/session.hpp"
#include "vision/postprocess/boxes.hpp"
#include "vision/postprocess/detect_decode.hpp"

using namespace edgecnn;
using namespace edgecnn::vision;

namespace {
Detection det(float x0, float y0, float x1, float y1, float s, int label = 0) { return {{x0, y0, x1, y1}, s, label, {}}; }
void expect_box(const BoxF& b, float x0, float y0, float x1, float y1, float tol = 1e-4f) {
    EXPECT_NEAR(b.x0, x0, tol);
    EXPECT_NEAR(b.y0, y0, tol);
    EXPECT_NEAR(b.x1, x1, tol);
    EXPECT_NEAR(b.y1, y1, tol);
}
}  // namespace

TEST(Boxes, IouOfKnownBoxes) {
    EXPECT_FLOAT_EQ(iou({0, 0, 2, 2}, {1, 1, 3, 3}), 1.0f / 7.0f);  // overlap 1, union 7
    EXPECT_FLOAT_EQ(iou({0, 0, 2, 2}, {0, 0, 2, 2}), 1.0f);
    EXPECT_EQ(iou({0, 0, 1, 1}, {1, 0, 2, 1}), 0.0f);  // touching edges
    EXPECT_EQ(iou({0, 0, 0, 0}, {0, 0, 0, 0}), 0.0f);  // empty boxes
}

TEST(Nms, HardSuppressesOverlapsKeepsOthersInScoreOrder) {
    std::vector<Detection> c = {det(0, 0, 10, 10, 0.8f), det(1, 1, 11, 11, 0.9f),  // IoU 81/119 = 0.68
                                det(20, 20, 30, 30, 0.7f), det(0, 0, 10, 5, 0.95f)};  // IoU with #0 = 0.5
    NmsOptions o;
    o.iou_threshold = 0.5f;
    auto k = nms(c, o);
    ASSERT_EQ(k.size(), 3u);
    EXPECT_FLOAT_EQ(k[0].score, 0.95f);
    EXPECT_FLOAT_EQ(k[1].score, 0.9f);   // suppresses the 0.8 one (IoU 0.68 > 0.5)
    EXPECT_FLOAT_EQ(k[2].score, 0.7f);
    // The half box has IoU exactly 0.5 with box 0 and 36/114 with box 1: neither suppressed
    // (strictly greater suppresses); with threshold 0.3 box 1 goes too.
    o.iou_threshold = 0.3f;
    k = nms(c, o);
    ASSERT_EQ(k.size(), 2u);
    EXPECT_FLOAT_EQ(k[1].score, 0.7f);
}

TEST(Nms, ScoreThresholdTopKAndClasses) {
    std::vector<Detection> c = {det(0, 0, 10, 10, 0.9f, 1), det(0, 0, 10, 10, 0.8f, 2), det(50, 0, 60, 10, 0.6f, 1),
                                det(80, 0, 90, 10, 0.2f, 1)};
    NmsOptions o;
    o.score_threshold = 0.5f;
    EXPECT_EQ(nms(c, o).size(), 3u);  // identical boxes of different classes both stay
    o.per_class = false;
    EXPECT_EQ(nms(c, o).size(), 2u);
    o.top_k = 1;
    auto k = nms(c, o);
    ASSERT_EQ(k.size(), 1u);
    EXPECT_EQ(k[0].label, 1);
}

TEST(Nms, WeightedBlendsBoxesAndKeypoints) {
    Detection a = det(0, 0, 10, 10, 0.75f), b = det(2, 0, 12, 10, 0.25f), far = det(40, 40, 50, 50, 0.5f);
    a.keypoints = {{4, 4}};
    b.keypoints = {{8, 4}};
    far.keypoints = {{45, 45}};
    NmsOptions o;
    o.iou_threshold = 0.3f;
    o.weighted = true;
    auto k = nms({b, far, a}, o);
    ASSERT_EQ(k.size(), 2u);
    EXPECT_FLOAT_EQ(k[0].score, 0.75f);               // the top score, not an average
    expect_box(k[0].box, 0.5f, 0, 10.5f, 10);          // 0.75*0 + 0.25*2 = 0.5
    EXPECT_NEAR(k[0].keypoints[0].x, 5.0f, 1e-5f);     // 0.75*4 + 0.25*8
    expect_box(k[1].box, 40, 40, 50, 50);
}

TEST(BlazeFace, AnchorLayoutOfFrontAndBackModels) {
    auto f = blazeface_anchors(blazeface_front_options());
    ASSERT_EQ(f.size(), 896u);  // 16*16*2 + 8*8*6
    EXPECT_FLOAT_EQ(f[0].cx, 0.5f / 16);
    EXPECT_FLOAT_EQ(f[1].cx, 0.5f / 16);   // two anchors per stride-8 cell
    EXPECT_FLOAT_EQ(f[2].cx, 1.5f / 16);
    EXPECT_FLOAT_EQ(f[32].cy, 1.5f / 16);  // second row
    EXPECT_FLOAT_EQ(f[512].cx, 0.5f / 8);  // stride 16 starts: six per cell
    EXPECT_FLOAT_EQ(f[517].cx, 0.5f / 8);
    EXPECT_FLOAT_EQ(f[518].cx, 1.5f / 8);
    EXPECT_FLOAT_EQ(f[895].cy, 7.5f / 8);
    auto b = blazeface_anchors(blazeface_back_options());
    ASSERT_EQ(b.size(), 896u);  // 256 input, strides 16,32: same grid sizes
    EXPECT_FLOAT_EQ(b[511].cx, 15.5f / 16);
}

TEST(BlazeFace, DecodesHandMadeOutputs) {
    auto opt = blazeface_front_options();
    auto anchors = blazeface_anchors(opt);
    Tensor s0(DType::F32, {1, 512, 1}), s1(DType::F32, {1, 384, 1});
    Tensor r0(DType::F32, {1, 512, 16}), r1(DType::F32, {1, 384, 16});
    for (int i = 0; i < 512; ++i) s0.data<float>()[i] = -10;
    for (int i = 0; i < 384; ++i) s1.data<float>()[i] = -10;
    // Anchor 100 (stride 8, cell x 2, y 3): centre (2.5/16, 3.5/16). Offsets in input pixels.
    float* r = r0.data<float>() + 100 * 16;
    s0.data<float>()[100] = 3.0f;  // sigmoid 0.9526
    r[0] = 4; r[1] = -2; r[2] = 20; r[3] = 24;
    for (int k = 0; k < 6; ++k) { r[4 + 2 * k] = float(k); r[5 + 2 * k] = -float(k); }
    // A weaker duplicate on the same cell (blended in), one below the threshold elsewhere.
    float* d = r0.data<float>() + 101 * 16;
    s0.data<float>()[101] = 1.5f;
    d[0] = 4; d[1] = -2; d[2] = 22; d[3] = 24;
    s1.data<float>()[7] = 0.5f;  // sigmoid 0.62 < 0.75
    BlazeFaceDecodeOptions dopt;
    dopt.weighted_nms = false;
    auto out = decode_blazeface({s0, s1}, {r0, r1}, anchors, opt, dopt);
    ASSERT_EQ(out.size(), 1u);
    float cx = 2.5f / 16 + 4.0f / 128, cy = 3.5f / 16 - 2.0f / 128;
    EXPECT_NEAR(out[0].score, 1 / (1 + std::exp(-3.0f)), 1e-6f);
    expect_box(out[0].box, cx - 10.0f / 128, cy - 12.0f / 128, cx + 10.0f / 128, cy + 12.0f / 128, 1e-6f);
    ASSERT_EQ(out[0].keypoints.size(), 6u);
    EXPECT_NEAR(out[0].keypoints[5].x, 2.5f / 16 + 5.0f / 128, 1e-6f);
    EXPECT_NEAR(out[0].keypoints[5].y, 3.5f / 16 - 5.0f / 128, 1e-6f);
    dopt.weighted_nms = true;
    out = decode_blazeface({s0, s1}, {r0, r1}, anchors, opt, dopt);
    ASSERT_EQ(out.size(), 1u);
    float w1 = 1 / (1 + std::exp(-3.0f)), w2 = 1 / (1 + std::exp(-1.5f));
    float half_w = (w1 * 10 + w2 * 11) / (w1 + w2) / 128;
    EXPECT_NEAR(out[0].box.x1 - cx, half_w, 1e-6f);
    // Wrong shapes are named.
    EXPECT_THROW(decode_blazeface({s0}, {r0}, anchors, opt, dopt), Error);
    EXPECT_THROW(decode_blazeface({s0, s1}, {r1, r0}, anchors, opt, dopt), Error);
}

TEST(Ssd, PriorsMatchTorchvisionDefaultBoxes) {
    auto o = ssdlite_prior_options(320, 320);
    std::vector<std::pair<int, int>> grids = {{20, 20}, {10, 10}, {5, 5}, {3, 3}, {2, 2}, {1, 1}};
    EXPECT_EQ(o.grid_sizes, grids);
    auto p = ssd_priors(o);
    ASSERT_EQ(p.size(), 3234u);  // the export's anchor count at 320x320
    // scales 0.2, 0.35, ..., 0.95, then 1.0; first location of the first map.
    EXPECT_FLOAT_EQ(p[0].cx, 0.025f);
    EXPECT_FLOAT_EQ(p[0].w, 0.2f);
    EXPECT_NEAR(p[1].w, std::sqrt(0.2 * 0.35), 1e-6);
    EXPECT_NEAR(p[2].w, 0.2 * std::sqrt(2.0), 1e-6);
    EXPECT_NEAR(p[2].h, 0.2 / std::sqrt(2.0), 1e-6);
    EXPECT_NEAR(p[5].w, 0.2 / std::sqrt(3.0), 1e-6);
    EXPECT_FLOAT_EQ(p[6].cx, 0.075f);  // next location: x first
    EXPECT_FLOAT_EQ(p[6 * 20].cy, 0.075f);
    // Last map (1x1): s = 0.95, s' = sqrt(0.95), ar 2 width 1.34 clipped to 1.
    const Anchor& last = p[3234 - 4];
    EXPECT_FLOAT_EQ(last.cx, 0.5f);
    EXPECT_FLOAT_EQ(last.w, 1.0f);
    EXPECT_NEAR(last.h, 0.95 / std::sqrt(2.0), 1e-6);
    EXPECT_NEAR(p[3234 - 5].w, std::sqrt(0.95), 1e-6);
    // torchvision's 256x384 test set: grids 16x24, 8x12, 4x6, 2x3, 1x2, 1x1 -> 3330 priors.
    EXPECT_EQ(ssd_priors(ssdlite_prior_options(256, 384)).size(), size_t(6 * (384 + 96 + 24 + 6 + 2 + 1)));
}

TEST(Ssd, DecodesHandMadeHeadOutputsToKnownBoxes) {
    auto priors = ssd_priors(ssdlite_prior_options(320, 320));
    const int A = int(priors.size()), C = 91;
    Tensor cls(DType::F32, {1, A, C}), reg(DType::F32, {1, A, 4});
    float* l = cls.data<float>();
    for (int i = 0; i < A; ++i) l[i * C] = 8.0f;  // background everywhere
    SsdDecodeOptions opt;
    struct Truth { int anchor, label; BoxF box; float logit; };
    // Two objects; a near-duplicate of the first on another prior; a different class on
    // the same place as the first (must survive: NMS is per class).
    std::vector<Truth> truth = {{210, 3, {0.10f, 0.20f, 0.40f, 0.60f}, 12.0f},
                                {216, 3, {0.11f, 0.21f, 0.41f, 0.61f}, 11.0f},
                                {2400 + 13, 17, {0.50f, 0.55f, 0.90f, 0.80f}, 10.0f},
                                {3000, 5, {0.10f, 0.20f, 0.40f, 0.60f}, 9.0f}};
    for (const auto& t : truth) {
        l[t.anchor * C] = 0.0f;
        l[t.anchor * C + t.label] = t.logit;
        ssd_encode(t.box, priors[size_t(t.anchor)], opt.weights, reg.data<float>() + t.anchor * 4);
    }
    auto out = decode_ssd(cls, reg, priors, opt);
    ASSERT_EQ(out.size(), 3u);
    auto softmax_top = [&](float logit) { return float(std::exp(double(logit)) / (std::exp(double(logit)) + 1.0 + (C - 2))); };
    EXPECT_EQ(out[0].label, 3);
    EXPECT_NEAR(out[0].score, softmax_top(12.0f), 1e-5f);
    expect_box(out[0].box, 0.10f, 0.20f, 0.40f, 0.60f);
    EXPECT_EQ(out[1].label, 17);
    expect_box(out[1].box, 0.50f, 0.55f, 0.90f, 0.80f);
    EXPECT_EQ(out[2].label, 5);
    expect_box(out[2].box, 0.10f, 0.20f, 0.40f, 0.60f);
    // A raised threshold keeps only the strongest; a wrong prior count is an error.
    opt.score_threshold = 0.999f;
    EXPECT_EQ(decode_ssd(cls, reg, priors, opt).size(), 1u);
    auto fewer = ssd_priors(ssdlite_prior_options(256, 256));
    EXPECT_THROW(decode_ssd(cls, reg, fewer, opt), Error);
}

TEST(Ssd, HugeRegressionIsClampedNotInfinite) {
    std::vector<Anchor> priors = {{0.5f, 0.5f, 0.1f, 0.1f}};
    Tensor cls = Tensor::from_vector<float>({0.0f, 10.0f}, {1, 1, 2});
    Tensor reg = Tensor::from_vector<float>({0, 0, 1e6f, 1e6f}, {1, 1, 4});
    auto out = decode_ssd(cls, reg, priors, SsdDecodeOptions{});
    ASSERT_EQ(out.size(), 1u);
    expect_box(out[0].box, 0, 0, 1, 1);  // exp clamped, then clipped to the image
}

// BlazeFace front on scikit-image's astronaut.png (the committed fixture's input, resized
// to 128x128). The face, read by hand on the 512x512 photo: forehead hairline at y 80,
// chin y 183, cheeks x 182..262; eyes at (207,102) and (245,102), mouth at (225,146).
TEST(BlazeFace, FindsTheAstronautsFace) {
    std::string dir = std::string(EDGECNN_SOURCE_DIR) + "/models/fixtures/blazeface_front_128";
    auto graph = import_onnx_file(dir + "/model.onnx");
    Session session(graph);
    std::string name;
    Tensor input = read_tensor_pb(dir + "/test_data_set_0/input_0.pb", &name);
    auto outs = session.run({{name, input}});
    ASSERT_EQ(outs.size(), 4u);
    auto opt = blazeface_front_options();
    auto faces = decode_blazeface({outs[0].second, outs[1].second}, {outs[2].second, outs[3].second},
                                  blazeface_anchors(opt), opt, BlazeFaceDecodeOptions{});
    ASSERT_EQ(faces.size(), 1u);
    EXPECT_GT(faces[0].score, 0.8f);
    BoxF px{faces[0].box.x0 * 512, faces[0].box.y0 * 512, faces[0].box.x1 * 512, faces[0].box.y1 * 512};
    std::printf("astronaut face: score %.3f box (%.0f,%.0f)-(%.0f,%.0f)\n", faces[0].score, px.x0, px.y0, px.x1, px.y1);
    BoxF hand{182, 80, 262, 183};
    EXPECT_GT(iou(px, hand), 0.6f);
    for (PointF p : {PointF{207, 102}, PointF{245, 102}, PointF{225, 146}}) {
        EXPECT_GT(p.x, px.x0); EXPECT_LT(p.x, px.x1);
        EXPECT_GT(p.y, px.y0); EXPECT_LT(p.y, px.y1);
    }
    // Keypoints 0 and 1 are the eyes (the subject's right eye is on the image's left).
    EXPECT_NEAR(faces[0].keypoints[0].x * 512, 207, 10);
    EXPECT_NEAR(faces[0].keypoints[0].y * 512, 102, 10);
    EXPECT_NEAR(faces[0].keypoints[1].x * 512, 245, 10);
    EXPECT_NEAR(faces[0].keypoints[3].y * 512, 146, 12);  // mouth
}
