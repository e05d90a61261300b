// The fused NV12/NV21 → tensor pass against its per-pixel float reference, on every ISA
// level, random frames (random bytes exercise the RGB clamping) and awkward sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "base/error.hpp"
#include "cli_test_util.hpp"
#include "isa_test_util.hpp"
#include "vision/nv12.hpp"

using namespace edgecnn;
using namespace edgecnn::vision;

namespace {
YuvImage random_frame(int w, int h, YuvOrder order, std::mt19937& rng) {
    YuvImage f;
    f.width = w;
    f.height = h;
    f.order = order;
    f.data.resize(YuvImage::frame_bytes(w, h));
    std::uniform_int_distribution<int> u(0, 255);
    for (auto& b : f.data) b = uint8_t(u(rng));
    return f;
}

// Largest |fast - reference| over the tensor, in 8-bit pixel units (divided by scale/std).
double max_error_units(const YuvImage& f, const Preprocess& p, const TensorImage& t, bool nchw, int C) {
    const int th = t.geometry.tensor_height, tw = t.geometry.tensor_width;
    const float* d = t.tensor.data<float>();
    double worst = 0;
    for (int y = 0; y < th; ++y)
        for (int x = 0; x < tw; ++x)
            for (int c = 0; c < C; ++c) {
                float want = yuv_reference_sample(f, p, t.geometry, x, y, c, C);
                float got = nchw ? d[(size_t(c) * th + y) * tw + x] : d[(size_t(y) * tw + x) * C + c];
                worst = std::max(worst, double(std::fabs(got - want)) / double(p.scale / p.std[size_t(c)]));
            }
    return worst;
}
}  // namespace

TEST(VisionNv12, FastPassMatchesFloatReferenceOnEveryIsa) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> side(1, 70);
    for (Isa isa : isas()) {
        IsaGuard guard(isa);
        double worst = 0;
        for (int trial = 0; trial < 40; ++trial) {
            int w = trial < 4 ? trial + 1 : side(rng), h = side(rng), tw = side(rng), th = side(rng);
            YuvImage f = random_frame(w, h, trial % 2 ? YuvOrder::NV21 : YuvOrder::NV12, rng);
            Preprocess p;
            p.resize = ResizeMode(trial % 3);
            p.layout = (trial / 3) % 2 ? Layout::NHWC : Layout::NCHW;
            p.bgr = trial % 5 == 1;
            p.pad = 114;
            p.width = tw;
            p.height = th;
            p.mean = {0.485f, 0.456f, 0.406f};
            p.std = {0.229f, 0.224f, 0.225f};
            const int C = trial % 7 == 3 ? 1 : 3;
            const bool nchw = *p.layout == Layout::NCHW;
            TensorImage t = yuv_to_tensor(f, p, nchw ? Shape{1, C, -1, -1} : Shape{1, -1, -1, C});
            ASSERT_EQ(t.tensor.shape(), nchw ? (Shape{1, C, th, tw}) : (Shape{1, th, tw, C}));
            double e = max_error_units(f, p, t, nchw, C);
            ASSERT_LE(e, 1.0) << isa_name(isa) << " trial " << trial << " " << w << "x" << h << " -> " << tw << "x" << th;
            worst = std::max(worst, e);
        }
        // The bound is 1 unit; the fused pass differs from the reference only by
        // float rounding, so anything visible (a wrong chroma index) fails this too.
        EXPECT_LT(worst, 0.01) << isa_name(isa);
    }
}

TEST(VisionNv12, FullHdToModelSize) {
    std::mt19937 rng(9);
    YuvImage f = random_frame(1920, 1080, YuvOrder::NV12, rng);
    for (Isa isa : isas()) {
        IsaGuard guard(isa);
        Preprocess p;
        TensorImage t = yuv_to_tensor(f, p, Shape{1, 3, 256, 256});
        EXPECT_LE(max_error_units(f, p, t, true, 3), 1.0) << isa_name(isa);
    }
}

TEST(VisionNv12, ConversionRoundTripAndFiles) {
    // RGB → NV12 → RGB stays close on a smooth image (chroma is subsampled, so not exact).
    Image img(64, 48, 3);
    for (int y = 0; y < 48; ++y)
        for (int x = 0; x < 64; ++x) {
            uint8_t* p = img.at(x, y);
            p[0] = uint8_t(40 + 2 * x);
            p[1] = uint8_t(30 + 3 * y);
            p[2] = uint8_t(200 - x - y);
        }
    for (YuvOrder order : {YuvOrder::NV12, YuvOrder::NV21}) {
        Image back = yuv_to_rgb(rgb_to_yuv(img, order));
        int worst = 0;
        for (size_t i = 0; i < img.pixels.size(); ++i) worst = std::max(worst, std::abs(int(back.pixels[i]) - int(img.pixels[i])));
        EXPECT_LE(worst, 6);
    }
    auto dir = test::temp_dir("vision_nv12");
    std::string path = (dir / "frame.nv12").string();
    YuvImage f = rgb_to_yuv(img, YuvOrder::NV12);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(f.data.data()), std::streamsize(f.data.size()));
    YuvImage g = load_yuv(path, 64, 48, YuvOrder::NV12);
    EXPECT_EQ(g.data, f.data);
    try {
        load_yuv(path, 64, 50, YuvOrder::NV12);
        FAIL() << "wrong size accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("--frame-size"), std::string::npos) << e.what();
    }
}
