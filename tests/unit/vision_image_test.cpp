// The vision API: image files, preprocessing against the float reference, sidecars and
// flags, drawing, and the classify/segment helpers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

#include <zlib.h>

#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "cli_test_util.hpp"
#include "vision/draw.hpp"
#include "vision/image.hpp"
#include "vision/postprocess/classify.hpp"
#include "vision/postprocess/segment.hpp"
#include "vision/preprocess.hpp"

using namespace edgecnn;
using namespace edgecnn::vision;

namespace {
Image random_image(int w, int h, int c, std::mt19937& rng) {
    Image img(w, h, c);
    std::uniform_int_distribution<int> u(0, 255);
    for (auto& p : img.pixels) p = uint8_t(u(rng));
    return img;
}
}  // namespace

TEST(VisionImage, PngRoundTripKeepsEveryPixel) {
    auto dir = test::temp_dir("vision_png");
    std::mt19937 rng(3);
    for (int c : {1, 3, 4}) {
        Image img = random_image(17, 9, c, rng);
        std::string path = (dir / ("img" + std::to_string(c) + ".png")).string();
        write_png(path, img);
        Image back = load_image(path);
        EXPECT_EQ(back.width, 17);
        EXPECT_EQ(back.height, 9);
        EXPECT_EQ(back.channels, c);
        EXPECT_EQ(back.pixels, img.pixels);
        Image rgb = load_image(path, 3);
        EXPECT_EQ(rgb.channels, 3);
        EXPECT_EQ(rgb.pixels, convert_channels(img, 3).pixels);
    }
}

TEST(VisionImage, JpegDecodesCloseToTheOriginal) {
    auto dir = test::temp_dir("vision_jpeg");
    Image img(37, 23, 3);
    for (int y = 0; y < 23; ++y)
        for (int x = 0; x < 37; ++x) {
            uint8_t* p = img.at(x, y);
            p[0] = uint8_t(6 * x);
            p[1] = uint8_t(10 * y);
            p[2] = uint8_t(128 + 3 * x - 4 * y);
        }
    std::string path = (dir / "smooth.jpg").string();
    write_jpeg(path, img, 95);
    Image back = load_image(path);
    ASSERT_EQ(back.width, 37);
    ASSERT_EQ(back.height, 23);
    ASSERT_EQ(back.channels, 3);
    double sum = 0;
    for (size_t i = 0; i < img.pixels.size(); ++i) sum += std::abs(int(back.pixels[i]) - int(img.pixels[i]));
    EXPECT_LT(sum / double(img.pixels.size()), 4.0);  // lossy, but close on a smooth picture
    EXPECT_EQ(load_image(path, 4).channels, 4);
    EXPECT_EQ(load_image(path, 1).channels, 1);
    // (stb's encoder always writes three components, so a grey source comes back as RGB
    // unless one channel is asked for.)
    std::string grey = (dir / "grey.jpg").string();
    Image g1 = convert_channels(img, 1);
    write_jpeg(grey, g1, 95);
    Image gb = load_image(grey, 1);
    ASSERT_EQ(gb.channels, 1);
    double gsum = 0;
    for (size_t i = 0; i < g1.pixels.size(); ++i) gsum += std::abs(int(gb.pixels[i]) - int(g1.pixels[i]));
    EXPECT_LT(gsum / double(g1.pixels.size()), 4.0);
    // A frame cut short must fail, naming the file, not come back padded with grey.
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string cut = (dir / "cut.jpg").string();
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() * 2 / 3);
    try {
        load_image(cut);
        FAIL() << "truncated JPEG accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Io);
        EXPECT_NE(std::string(e.what()).find(cut), std::string::npos) << e.what();
    }
}

TEST(VisionImage, UnreadableFilesNameTheFile) {
    auto dir = test::temp_dir("vision_bad");
    std::string missing = (dir / "nope.png").string();
    try {
        load_image(missing);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Io);
        EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
    }
    std::string junk = (dir / "junk.jpg").string();
    std::ofstream(junk) << "this is not a JPEG";
    try {
        load_image(junk);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Io);
        EXPECT_NE(std::string(e.what()).find(junk), std::string::npos) << e.what();
    }
    std::string truncated = (dir / "trunc.png").string();
    {
        std::mt19937 rng(1);
        write_png(truncated, random_image(64, 64, 3, rng));
        std::ifstream in(truncated, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    }
    EXPECT_THROW(load_image(truncated), Error);
}

namespace {
void put_be32(std::string& s, uint32_t v) {
    for (int sh = 24; sh >= 0; sh -= 8) s.push_back(char((v >> sh) & 0xFF));
}
void put_chunk(std::string& png, const char* type, const std::string& body) {
    put_be32(png, uint32_t(body.size()));
    std::string tb = std::string(type, 4) + body;
    png += tb;
    put_be32(png, uint32_t(crc32(0, reinterpret_cast<const Bytef*>(tb.data()), uInt(tb.size()))));
}
// A valid-looking 8-bit grey PNG of w x h whose pixel stream inflates to `raw` bytes; with
// `cut`, the compressed stream loses that many final bytes (chunks stay well-formed).
std::string grey_png(uint32_t w, uint32_t h, size_t raw, size_t cut = 0) {
    std::string png("\x89PNG\r\n\x1a\n", 8), ihdr;
    put_be32(ihdr, w);
    put_be32(ihdr, h);
    ihdr += std::string("\x08\x00\x00\x00\x00", 5);  // depth 8, grey, deflate, filter 0, no interlace
    put_chunk(png, "IHDR", ihdr);
    std::string zeros(raw, '\0');
    uLongf n = compressBound(uLong(zeros.size()));
    std::string z(n, '\0');
    EXPECT_EQ(compress2(reinterpret_cast<Bytef*>(z.data()), &n, reinterpret_cast<const Bytef*>(zeros.data()),
                        uLong(zeros.size()), 9), Z_OK);
    z.resize(n - cut);
    put_chunk(png, "IDAT", z);
    put_chunk(png, "IEND", "");
    return png;
}

// decode_image must refuse `png` with an error of `kind` naming the file and saying `why`.
void expect_png_refused(const std::string& png, const std::string& name, ErrorKind kind, const std::string& why) {
    try {
        decode_image(reinterpret_cast<const uint8_t*>(png.data()), png.size(), name);
        FAIL() << name << ": no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), kind);
        EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
}
}  // namespace

// fuzz_image: stb doubles its inflate buffer without limit, so a small PNG whose pixel data
// inflates far beyond its header's size made it allocate gigabytes. Refused before stb runs.
TEST(VisionImage, PngDecompressionBombIsRefused) {
    const std::string ok = grey_png(300, 200, 200 * 301);  // exactly the rows and filter bytes
    Image img = decode_image(reinterpret_cast<const uint8_t*>(ok.data()), ok.size(), "ok.png");
    EXPECT_EQ(img.width, 300);
    EXPECT_EQ(img.height, 200);
    const std::string bomb = grey_png(300, 200, size_t(64) << 20);  // 64 MB of zeros, about 64 KB
    EXPECT_LT(bomb.size(), size_t(200000));
    expect_png_refused(bomb, "bomb.png", ErrorKind::Limit, "300x200");
}

// A PNG whose pixel stream zlib finds incomplete is refused with a clear error before stb
// sees it; one whose chunk claims more bytes than the file holds too (fuzz_image: stb grew
// its buffer to the claimed 1.7 GB first; input in tests/fuzz/regressions/image).
TEST(VisionImage, PngWithIncompletePixelStreamOrOverlongChunkIsRefused) {
    const std::string cut = grey_png(300, 200, 200 * 301, 6);
    expect_png_refused(cut, "cut.png", ErrorKind::Io, "ends before");
    std::string overlong = grey_png(300, 200, 200 * 301);
    overlong.insert(overlong.size() - 12, std::string("\x65\x00\x00\x00IDAT\x00\x00", 10));  // 1.7 GB chunk before IEND
    expect_png_refused(overlong, "long.png", ErrorKind::Io, "past the end");
}

TEST(VisionPreprocess, HandComputedStretchUpscale) {
    // A 2x1 grey image [0, 200] stretched to 4x1: pixel centres at 0.25, 0.75, 1.25, 1.75
    // in source pixel units → bilinear 0, 50, 150, 200 (edges clamp).
    Image img(2, 1, 1);
    img.pixels = {0, 200};
    Preprocess p;
    p.scale = 1.f;
    TensorImage t = to_tensor(img, p, Shape{1, 1, 1, 4});
    ASSERT_EQ(t.tensor.shape(), (Shape{1, 1, 1, 4}));
    const float* d = t.tensor.data<float>();
    EXPECT_FLOAT_EQ(d[0], 0.f);
    EXPECT_FLOAT_EQ(d[1], 50.f);
    EXPECT_FLOAT_EQ(d[2], 150.f);
    EXPECT_FLOAT_EQ(d[3], 200.f);
}

TEST(VisionPreprocess, SameSizeIsExactNormalisation) {
    std::mt19937 rng(5);
    Image img = random_image(7, 5, 3, rng);
    Preprocess p;
    p.mean = {0.485f, 0.456f, 0.406f};
    p.std = {0.229f, 0.224f, 0.225f};
    p.bgr = true;
    TensorImage t = to_tensor(img, p, Shape{1, 3, 5, 7});
    const float* d = t.tensor.data<float>();
    for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 5; ++y)
            for (int x = 0; x < 7; ++x) {
                float px = img.at(x, y)[2 - c];  // BGR
                float want = (px / 255.f - p.mean[size_t(c)]) / p.std[size_t(c)];
                EXPECT_NEAR(d[(c * 5 + y) * 7 + x], want, 1e-5f);
            }
}

TEST(VisionPreprocess, RowBlocksOnAPoolGiveTheSameTensor) {
    // Blocks of output rows on 2 or 3 threads: every row is computed as without a pool, so
    // the tensors are bit-identical (sizes that leave a short last block included).
    std::mt19937 rng(9);
    Image img = random_image(131, 77, 3, rng);
    Preprocess p;
    p.mean = {0.485f, 0.456f, 0.406f};
    p.std = {0.229f, 0.224f, 0.225f};
    for (ResizeMode mode : {ResizeMode::Stretch, ResizeMode::Letterbox})
        for (const Shape& s : {Shape{1, 3, 97, 150}, Shape{1, 70, 33, 3}, Shape{1, 1, 65, 64}}) {
            p.resize = mode;
            const TensorImage want = to_tensor(img, p, s);
            for (int threads : {2, 3}) {
                ThreadPool pool(threads);
                const TensorImage got = to_tensor(img, p, s, &pool);
                ASSERT_EQ(got.tensor.shape(), want.tensor.shape());
                EXPECT_EQ(std::memcmp(got.tensor.raw(), want.tensor.raw(), size_t(want.tensor.numel()) * 4), 0)
                    << shape_str(s) << " threads " << threads;
            }
        }
}

TEST(VisionPreprocess, LetterboxAndCropGeometry) {
    Geometry g = make_geometry(200, 100, 100, 100, ResizeMode::Letterbox);
    EXPECT_FLOAT_EQ(g.scale_x, 2.f);
    EXPECT_FLOAT_EQ(g.to_image_y(25.f), 0.f);   // content starts 25 rows down
    EXPECT_FLOAT_EQ(g.to_image_y(75.f), 100.f);
    EXPECT_FLOAT_EQ(g.to_image_x(0.f), 0.f);
    Geometry c = make_geometry(200, 100, 100, 100, ResizeMode::CenterCrop);
    EXPECT_FLOAT_EQ(c.scale_x, 1.f);
    EXPECT_FLOAT_EQ(c.to_image_x(0.f), 50.f);
    EXPECT_FLOAT_EQ(c.to_image_x(100.f), 150.f);
    EXPECT_FLOAT_EQ(c.to_tensor_x(c.to_image_x(37.f)), 37.f);
    // Letterbox borders hold the pad value, normalised.
    Image img(200, 100, 3, 255);
    Preprocess p;
    p.resize = ResizeMode::Letterbox;
    p.pad = 0;
    p.mean = {0.5f, 0.5f, 0.5f};
    TensorImage t = to_tensor(img, p, Shape{1, 3, 100, 100});
    const float* d = t.tensor.data<float>();
    EXPECT_FLOAT_EQ(d[10 * 100 + 50], -0.5f);  // border row 10
    EXPECT_FLOAT_EQ(d[50 * 100 + 50], 0.5f);   // content
    EXPECT_FLOAT_EQ(d[80 * 100 + 50], -0.5f);
}

TEST(VisionPreprocess, MatchesFloatReferenceOnRandomCases) {
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> side(1, 40);
    int cases = 0;
    for (int trial = 0; trial < 60; ++trial) {
        int iw = side(rng), ih = side(rng), tw = side(rng), th = side(rng);
        int ic = std::vector<int>{1, 3, 4}[size_t(trial % 3)];
        int C = (trial / 3) % 2 ? 3 : 1;
        Image img = random_image(iw, ih, ic, rng);
        Preprocess p;
        p.resize = ResizeMode(trial % 3);
        p.layout = (trial / 6) % 2 ? Layout::NHWC : Layout::NCHW;
        p.bgr = trial % 5 == 0;
        p.pad = trial * 7 % 256;
        p.scale = 1.f / 127.5f;
        p.mean = {1.f, 0.9f, 1.1f};
        p.std = {0.5f, 0.7f, 1.3f};
        bool nchw = *p.layout == Layout::NCHW;
        Shape shape = nchw ? Shape{1, C, th, tw} : Shape{1, th, tw, C};
        TensorImage t = to_tensor(img, p, shape);
        ASSERT_EQ(t.tensor.shape(), shape);
        const float* d = t.tensor.data<float>();
        for (int y = 0; y < th; ++y)
            for (int x = 0; x < tw; ++x)
                for (int c = 0; c < C; ++c) {
                    float want = reference_sample(img, p, t.geometry, x, y, c, C);
                    float got = nchw ? d[(c * th + y) * tw + x] : d[(y * tw + x) * C + c];
                    ASSERT_NEAR(got, want, 1e-4f) << "trial " << trial << " at " << x << "," << y << "," << c;
                }
        ++cases;
    }
    EXPECT_EQ(cases, 60);
}

TEST(VisionPreprocess, DynamicInputsTakeThePhotoSize) {
    Image img(1000, 500, 3);
    Preprocess p;
    p.max_side = 960;
    p.size_multiple = 32;
    TensorImage t = to_tensor(img, p, Shape{-1, 3, -1, -1});
    EXPECT_EQ(t.tensor.shape(), (Shape{1, 3, 480, 960}));
    Preprocess q;
    q.width = 64;
    q.height = 48;
    EXPECT_EQ(to_tensor(img, q, Shape{1, 3, -1, -1}).tensor.shape(), (Shape{1, 3, 48, 64}));
    EXPECT_THROW(to_tensor(img, q, Shape{1, 3, 32, 32}), Error);  // --size contradicts a fixed size
    EXPECT_THROW(to_tensor(img, q, Shape{1, 10}), Error);         // not an image input
}

TEST(VisionPreprocess, ZeroStdIsRefusedNotInfinity) {
    Image img(8, 8, 3);
    Preprocess p;
    p.std = {1.0f, 0.0f, 1.0f};
    EXPECT_THROW(to_tensor(img, p, Shape{1, 3, 8, 8}), Error);
    p.std = {1.0f, 1.0f, 1.0f};
    EXPECT_NO_THROW(to_tensor(img, p, Shape{1, 3, 8, 8}));
}

TEST(VisionPreprocess, LayoutDetection) {
    EXPECT_EQ(image_input_layout({1, 3, 224, 224}, std::nullopt)->layout, Layout::NCHW);
    EXPECT_EQ(image_input_layout({1, 128, 128, 3}, std::nullopt)->layout, Layout::NHWC);
    EXPECT_EQ(image_input_layout({1, 1, 28, 28}, std::nullopt)->channels, 1);
    EXPECT_EQ(image_input_layout({-1, 3, -1, -1}, std::nullopt)->layout, Layout::NCHW);
    EXPECT_FALSE(image_input_layout({1, 1000}, std::nullopt));
    EXPECT_FALSE(image_input_layout({1, 8, 28, 28}, std::nullopt));
    EXPECT_FALSE(image_input_layout({1, 3, 224, 224}, Layout::NHWC));
}

TEST(VisionPreprocess, FlagsAndSidecar) {
    Preprocess p;
    PreprocessFlags f;
    f.size = "320x240";
    f.mean = "0.485,0.456,0.406";
    f.std = "0.5";
    f.scale = "0.00392156862";
    f.resize = "letterbox";
    f.bgr = true;
    f.nhwc = true;
    apply_flags(p, f);
    EXPECT_EQ(p.width, 320);
    EXPECT_EQ(p.height, 240);
    EXPECT_FLOAT_EQ(p.mean[2], 0.406f);
    EXPECT_FLOAT_EQ(p.std[1], 0.5f);
    EXPECT_EQ(p.resize, ResizeMode::Letterbox);
    EXPECT_TRUE(p.bgr);
    EXPECT_EQ(*p.layout, Layout::NHWC);
    PreprocessFlags bad;
    bad.size = "320by240";
    EXPECT_THROW(apply_flags(p, bad), Error);
    bad = {};
    bad.std = "0";
    EXPECT_THROW(apply_flags(p, bad), Error);
    bad = {};
    bad.mean = "1,2";
    EXPECT_THROW(apply_flags(p, bad), Error);

    auto dir = test::temp_dir("vision_sidecar");
    std::string ok = (dir / "m.onnx.json").string();
    std::ofstream(ok) << R"({"resize": "center-crop", "size": [64, 32], "scale": 1, "mean": [1,2,3], "std": 2,
                            "bgr": true, "layout": "nchw", "class_names": "labels.txt", "task": "classify"})";
    EXPECT_EQ(find_sidecar((dir / "m.onnx").string()), ok);
    Preprocess s;
    apply_sidecar(s, ok);
    EXPECT_EQ(s.resize, ResizeMode::CenterCrop);
    EXPECT_EQ(s.width, 64);
    EXPECT_EQ(s.height, 32);
    EXPECT_FLOAT_EQ(s.mean[1], 2.f);
    EXPECT_FLOAT_EQ(s.std[2], 2.f);
    EXPECT_EQ(s.class_names, (dir / "labels.txt").string());
    EXPECT_EQ(s.task, "classify");
    std::string typo = (dir / "typo.json").string();
    std::ofstream(typo) << R"({"maen": [1,2,3]})";
    try {
        apply_sidecar(s, typo);
        FAIL() << "typo accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(typo), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("maen"), std::string::npos);
    }
    std::string broken = (dir / "broken.json").string();
    std::ofstream(broken) << R"({"mean": [1,2,3)";
    EXPECT_THROW(apply_sidecar(s, broken), Error);
}

TEST(VisionDraw, RectLineTextAndOverlay) {
    Image img(40, 30, 3, 0);
    draw_rect(img, 5, 5, 20, 15, Color{255, 0, 0}, 2);
    EXPECT_EQ(img.at(5, 10)[0], 255);
    EXPECT_EQ(img.at(6, 10)[0], 255);
    EXPECT_EQ(img.at(7, 10)[0], 0);   // inside the outline
    EXPECT_EQ(img.at(12, 15)[0], 255);
    EXPECT_EQ(img.at(25, 10)[0], 0);  // outside
    draw_rect(img, -10, -10, 100, 100, Color{0, 255, 0}, 1);  // clipped, no crash
    fill_rect(img, 30, 20, 35, 25, Color{0, 0, 200}, 0.5f);
    EXPECT_EQ(img.at(32, 22)[2], 100);
    Image t(60, 20, 3, 0);
    int w = draw_text(t, 2, 2, "Hi 7", Color{255, 255, 255}, 1, false);
    EXPECT_GT(w, 10);
    int lit = 0;
    for (size_t i = 0; i < t.pixels.size(); i += 3) lit += t.pixels[i] == 255;
    EXPECT_GT(lit, 10);
    // Bytes outside printable ASCII (UTF-8, control characters) must not index past stb's
    // glyph table.
    EXPECT_GT(draw_text(t, 2, 2, "\xe4\xb8\xad\x01\n\x7f\xff", Color{255, 255, 255}, 1, true), 0);
    // A 2x2 label grid over a 4x4 photo, stretch: each quadrant takes its label.
    Image o(4, 4, 3, 0);
    Geometry g = make_geometry(4, 4, 2, 2, ResizeMode::Stretch);
    overlay_labels(o, {0, 1, 2, 0}, 2, 2, g, 1.0f, 0);
    EXPECT_EQ(o.at(0, 0)[0], 0);
    EXPECT_EQ(o.at(3, 0)[0], palette_color(1).r);
    EXPECT_EQ(o.at(0, 3)[1], palette_color(2).g);
    EXPECT_EQ(o.at(3, 3)[0], 0);
}

TEST(VisionHeads, TopKSoftmaxAndLabels) {
    std::vector<float> s{0.1f, 3.f, -1.f, 3.f, 2.f};
    auto top = top_k(s.data(), s.size(), 3);
    ASSERT_EQ(top.size(), 3u);
    EXPECT_EQ(top[0].index, 1);
    EXPECT_EQ(top[1].index, 3);  // tie: lower index first
    EXPECT_EQ(top[2].index, 4);
    double sum = 0;
    for (float v : softmax(s.data(), s.size())) sum += v;
    EXPECT_NEAR(sum, 1.0, 1e-6);
    EXPECT_NEAR(top[2].probability, std::exp(2.f - 3.f) / (2 + std::exp(2.f - 3.f) + std::exp(0.1f - 3.f) + std::exp(-4.f)),
                1e-5);
    EXPECT_EQ(top_k(s.data(), s.size(), 10).size(), 5u);

    Tensor scores(DType::F32, {1, 3, 2, 2});
    float* d = scores.data<float>();
    // pixel 0 → class 2, pixel 1 → class 0, pixel 2 → class 1, pixel 3 → class 2
    float v[12] = {0, 5, 0, 0, /*c1*/ 1, 1, 9, 0, /*c2*/ 2, 0, 1, 3};
    std::copy(v, v + 12, d);
    LabelMap m = segment_labels(scores, true, 0.f);
    EXPECT_EQ(m.labels, (std::vector<int>{2, 0, 1, 2}));
    Tensor one(DType::F32, {1, 1, 1, 3});
    one.data<float>()[1] = 0.7f;
    one.data<float>()[2] = 0.3f;
    EXPECT_EQ(segment_labels(one, true, 0.5f).labels, (std::vector<int>{0, 1, 0}));
    EXPECT_THROW(segment_labels(Tensor(DType::F32, {1, 10}), true, 0.f), Error);
}
