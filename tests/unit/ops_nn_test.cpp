// Conv, ConvTranspose, Gemm, MatMul and normalisation ops: hand-checked values plus
// randomized comparisons against naive loops written here, on awkward shapes.
#include <cmath>
#include <random>
#include <tuple>

#include "op_test_util.hpp"

namespace edgecnn::test {
namespace {

using Attrs = std::map<std::string, Attribute>;

std::vector<float> values(const Tensor& t) {
    const float* p = t.data<float>();
    return std::vector<float>(p, p + t.numel());
}

Tensor random_tensor(Shape shape, std::mt19937& rng) {
    Tensor t(DType::F32, std::move(shape));
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    float* p = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = dist(rng);
    return t;
}

Tensor iota(Shape shape, float start = 0.f) {
    Tensor t(DType::F32, std::move(shape));
    float* p = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = start + float(i);
    return t;
}

void expect_near(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-4f) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at index " << i;
}

// ---- naive convolutions: one output element at a time, straight from the definition ----

struct NaiveConv {
    // 2-D only; 1-D and 3-D are tested through equivalent shapes.
    int64_t sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0, group = 1;
};

Tensor naive_conv2d(const Tensor& x, const Tensor& w, const Tensor* b, const NaiveConv& c, int64_t oh_n, int64_t ow_n) {
    const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
    const int64_t M = w.dim(0), CG = w.dim(1), KH = w.dim(2), KW = w.dim(3);
    const int64_t MG = M / c.group;
    Tensor y(DType::F32, {N, M, oh_n, ow_n});
    const float *xp = x.data<float>(), *wp = w.data<float>();
    float* yp = y.data<float>();
    for (int64_t n = 0; n < N; ++n)
        for (int64_t m = 0; m < M; ++m)
            for (int64_t oh = 0; oh < oh_n; ++oh)
                for (int64_t ow = 0; ow < ow_n; ++ow) {
                    double acc = b ? b->data<float>()[m] : 0.0;
                    for (int64_t ci = 0; ci < CG; ++ci)
                        for (int64_t kh = 0; kh < KH; ++kh)
                            for (int64_t kw = 0; kw < KW; ++kw) {
                                const int64_t ih = oh * c.sh - c.pt + kh * c.dh, iw = ow * c.sw - c.pl + kw * c.dw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                const int64_t cin = (m / MG) * CG + ci;
                                acc += double(xp[((n * C + cin) * H + ih) * W + iw]) *
                                       wp[((m * CG + ci) * KH + kh) * KW + kw];
                            }
                    yp[((n * M + m) * oh_n + oh) * ow_n + ow] = float(acc);
                }
    return y;
}

Tensor naive_conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor* b, const NaiveConv& c, int64_t oh_n,
                              int64_t ow_n) {
    const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
    const int64_t MG = w.dim(1), KH = w.dim(2), KW = w.dim(3);
    const int64_t CG = C / c.group, M = MG * c.group;
    Tensor y(DType::F32, {N, M, oh_n, ow_n});
    const float *xp = x.data<float>(), *wp = w.data<float>();
    float* yp = y.data<float>();
    for (int64_t n = 0; n < N; ++n)
        for (int64_t m = 0; m < M; ++m)
            for (int64_t i = 0; i < oh_n * ow_n; ++i) yp[(n * M + m) * oh_n * ow_n + i] = b ? b->data<float>()[m] : 0.f;
    for (int64_t n = 0; n < N; ++n)
        for (int64_t ci = 0; ci < C; ++ci)
            for (int64_t ih = 0; ih < H; ++ih)
                for (int64_t iw = 0; iw < W; ++iw)
                    for (int64_t mo = 0; mo < MG; ++mo)
                        for (int64_t kh = 0; kh < KH; ++kh)
                            for (int64_t kw = 0; kw < KW; ++kw) {
                                const int64_t oh = ih * c.sh - c.pt + kh * c.dh, ow = iw * c.sw - c.pl + kw * c.dw;
                                if (oh < 0 || oh >= oh_n || ow < 0 || ow >= ow_n) continue;
                                const int64_t m = (ci / CG) * MG + mo;
                                yp[((n * M + m) * oh_n + oh) * ow_n + ow] +=
                                    xp[((n * C + ci) * H + ih) * W + iw] * wp[((ci * MG + mo) * KH + kh) * KW + kw];
                            }
    return y;
}

// ---------------------------------------------------------------- Conv

TEST(OpsNnConv, BasicWithAndWithoutPadding) {
    Tensor x = iota({1, 1, 5, 5});
    Tensor w = Tensor::from_vector<float>(std::vector<float>(9, 1.f), {1, 1, 3, 3});
    auto y = run_op("Conv", {x, w}, {{"kernel_shape", attr_ints({3, 3})}, {"pads", attr_ints({1, 1, 1, 1})}});
    EXPECT_EQ(y[0].shape(), (Shape{1, 1, 5, 5}));
    expect_near(values(y[0]), {12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81,
                               93, 144, 153, 162, 111, 72, 111, 117, 123, 84});
    y = run_op("Conv", {x, w});
    EXPECT_EQ(y[0].shape(), (Shape{1, 1, 3, 3}));
    expect_near(values(y[0]), {54, 63, 72, 99, 108, 117, 144, 153, 162});
}

TEST(OpsNnConv, StridesAsymmetricPadsAndBias) {
    // 7x5 input, 3x3 ones kernel, stride 2, pads top 1 / bottom 1, left 0 / right 0.
    Tensor x = iota({1, 1, 7, 5});
    Tensor w = Tensor::from_vector<float>(std::vector<float>(9, 1.f), {1, 1, 3, 3});
    Tensor b = Tensor::from_vector<float>({0.5f}, {1});
    auto y = run_op("Conv", {x, w, b}, {{"strides", attr_ints({2, 2})}, {"pads", attr_ints({1, 0, 1, 0})}});
    EXPECT_EQ(y[0].shape(), (Shape{1, 1, 4, 2}));
    // Row 0 covers input rows -1..1 (rows 0,1): columns 0..2 -> 0+1+2+5+6+7 = 21.
    // The last row covers input rows 5, 6 and the bottom padding.
    expect_near(values(y[0]), {21.5f, 33.5f, 99.5f, 117.5f, 189.5f, 207.5f, 171.5f, 183.5f});
}

TEST(OpsNnConv, RandomGroupedStridedDilatedMatchesNaive) {
    std::mt19937 rng(7);
    struct Case { int64_t n, c, m, g, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr; };
    const Case cases[] = {
        {2, 3, 7, 1, 9, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
        {1, 17, 17, 17, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   // depthwise
        {2, 6, 4, 2, 13, 8, 3, 2, 2, 1, 2, 3, 2, 0, 1, 3},     // groups + dilation + asymmetric pads
        {1, 7, 3, 1, 6, 6, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},      // pointwise
        {1, 4, 8, 4, 10, 9, 5, 5, 3, 2, 1, 1, 2, 2, 2, 2},     // depth multiplier 2, big kernel
        {2, 1, 1, 1, 1, 17, 1, 4, 1, 3, 1, 2, 0, 1, 0, 2},     // 1-row input
        {1, 3, 2, 1, 1, 5, 1, 1, 1, 2, 1, 1, 0, 2, 0, 2},      // 1x1 kernel, strided and padded: not pointwise
        {2, 5, 6, 1, 3, 4, 1, 1, 1, 1, 3, 3, 0, 0, 0, 0},      // 1x1 with dilation: pointwise
    };
    for (const Case& k : cases) {
        Tensor x = random_tensor({k.n, k.c, k.h, k.w}, rng);
        Tensor w = random_tensor({k.m, k.c / k.g, k.kh, k.kw}, rng);
        Tensor b = random_tensor({k.m}, rng);
        Attrs attrs = {{"group", attr_int(k.g)},
                       {"strides", attr_ints({k.sh, k.sw})},
                       {"dilations", attr_ints({k.dh, k.dw})},
                       {"pads", attr_ints({k.pt, k.pl, k.pb, k.pr})}};
        auto y = run_op("Conv", {x, w, b}, attrs);
        const int64_t oh = (k.h + k.pt + k.pb - (k.kh - 1) * k.dh - 1) / k.sh + 1;
        const int64_t ow = (k.w + k.pl + k.pr - (k.kw - 1) * k.dw - 1) / k.sw + 1;
        NaiveConv nc{k.sh, k.sw, k.dh, k.dw, k.pt, k.pl, k.g};
        Tensor want = naive_conv2d(x, w, &b, nc, oh, ow);
        ASSERT_EQ(y[0].shape(), want.shape());
        expect_near(values(y[0]), values(want));
    }
}

TEST(OpsNnConv, OneDAndThreeDMatchTwoD) {
    std::mt19937 rng(11);
    // 1-D conv == 2-D conv with H = 1.
    Tensor x = random_tensor({2, 3, 13}, rng);
    Tensor w = random_tensor({5, 3, 4}, rng);
    auto y1 = run_op("Conv", {x, w}, {{"strides", attr_ints({2})}, {"pads", attr_ints({2, 1})}, {"dilations", attr_ints({2})}});
    auto y2 = run_op("Conv", {x.reshaped({2, 3, 1, 13}), w.reshaped({5, 3, 1, 4})},
                     {{"strides", attr_ints({1, 2})}, {"pads", attr_ints({0, 2, 0, 1})}, {"dilations", attr_ints({1, 2})}});
    EXPECT_EQ(y1[0].shape(), (Shape{2, 5, 5}));  // (13 + 3 - 7) / 2 + 1
    expect_near(values(y1[0]), values(y2[0]));
    // 3-D conv with depth kernel 1 and depth 1 == 2-D conv.
    auto y3 = run_op("Conv", {x.reshaped({2, 3, 1, 1, 13}), w.reshaped({5, 3, 1, 1, 4})},
                     {{"strides", attr_ints({1, 1, 2})}, {"pads", attr_ints({0, 0, 2, 0, 0, 1})},
                      {"dilations", attr_ints({1, 1, 2})}});
    EXPECT_EQ(y3[0].shape(), (Shape{2, 5, 1, 1, 5}));
    expect_near(values(y3[0]), values(y1[0]));
}

TEST(OpsNnConv, ThreeDSumsOverDepth) {
    // 2x2x2 ones kernel over a 3x3x3 iota: each output is the sum of a 2x2x2 block.
    Tensor x = iota({1, 1, 3, 3, 3});
    Tensor w = Tensor::from_vector<float>(std::vector<float>(8, 1.f), {1, 1, 2, 2, 2});
    auto y = run_op("Conv", {x, w}, {{"strides", attr_ints({1, 1, 1})}});
    EXPECT_EQ(y[0].shape(), (Shape{1, 1, 2, 2, 2}));
    // Block at origin: 0+1+3+4+9+10+12+13 = 52; each +1 along w, +3 along h, +9 along d (times 8).
    expect_near(values(y[0]), {52, 60, 76, 84, 124, 132, 148, 156});
}

TEST(OpsNnConv, AutoPadSameUpperLowerAndValid) {
    std::mt19937 rng(3);
    Tensor x = random_tensor({1, 2, 6, 7}, rng);
    Tensor w = random_tensor({3, 2, 4, 3}, rng);
    // SAME with stride 2: out = ceil(in/2) = 3x4; total pad h = (3-1)*2+4-6 = 2, w = (4-1)*2+3-7 = 2.
    auto up = run_op("Conv", {x, w}, {{"auto_pad", attr_string("SAME_UPPER")}, {"strides", attr_ints({2, 2})}});
    EXPECT_EQ(up[0].shape(), (Shape{1, 3, 3, 4}));
    expect_near(values(up[0]), values(naive_conv2d(x, w, nullptr, {2, 2, 1, 1, 1, 1, 1}, 3, 4)));
    // Odd total (stride 1, kernel 4 -> total 3): UPPER puts 1 before, LOWER puts 2 before.
    auto up1 = run_op("Conv", {x, w}, {{"auto_pad", attr_string("SAME_UPPER")}});
    auto lo1 = run_op("Conv", {x, w}, {{"auto_pad", attr_string("SAME_LOWER")}});
    EXPECT_EQ(up1[0].shape(), (Shape{1, 3, 6, 7}));
    expect_near(values(up1[0]), values(naive_conv2d(x, w, nullptr, {1, 1, 1, 1, 1, 1, 1}, 6, 7)));
    expect_near(values(lo1[0]), values(naive_conv2d(x, w, nullptr, {1, 1, 1, 1, 2, 1, 1}, 6, 7)));
    auto valid = run_op("Conv", {x, w}, {{"auto_pad", attr_string("VALID")}, {"pads", attr_ints({5, 5, 5, 5})}});
    EXPECT_EQ(valid[0].shape(), (Shape{1, 3, 3, 5}));
}

TEST(OpsNnConv, RejectsInconsistentShapes) {
    Tensor x(DType::F32, {1, 4, 5, 5});
    EXPECT_THROW(run_op("Conv", {x, Tensor(DType::F32, {2, 3, 3, 3})}), Error);            // channels
    EXPECT_THROW(run_op("Conv", {x, Tensor(DType::F32, {3, 2, 3, 3})}, {{"group", attr_int(2)}}), Error);  // M % g
    EXPECT_THROW(run_op("Conv", {x, Tensor(DType::F32, {2, 4, 7, 7})}), Error);            // kernel > input
    EXPECT_THROW(run_op("Conv", {x, Tensor(DType::F32, {2, 4, 3, 3}), Tensor(DType::F32, {3})}), Error);  // bias
    EXPECT_THROW(run_op("Conv", {x, Tensor(DType::F32, {2, 4, 3, 3})}, {{"kernel_shape", attr_ints({2, 2})}}), Error);
    try {
        run_op("Conv", {Tensor(DType::I64, {1, 4, 5, 5}), Tensor(DType::F32, {2, 4, 3, 3})});
        FAIL() << "int64 conv accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    }
}

// ---------------------------------------------------------------- ConvTranspose

TEST(OpsNnConvTranspose, OnnxExample) {
    Tensor x = iota({1, 1, 3, 3});
    Tensor w = Tensor::from_vector<float>(std::vector<float>(18, 1.f), {1, 2, 3, 3});
    auto y = run_op("ConvTranspose", {x, w});
    EXPECT_EQ(y[0].shape(), (Shape{1, 2, 5, 5}));
    const std::vector<float> plane = {0, 1, 3, 3, 2, 3, 8, 15, 12, 7, 9, 21, 36, 27, 15, 9, 20, 33, 24, 13, 6, 13, 21, 15, 8};
    std::vector<float> want = plane;
    want.insert(want.end(), plane.begin(), plane.end());
    expect_near(values(y[0]), want);
}

TEST(OpsNnConvTranspose, RandomMatchesNaive) {
    std::mt19937 rng(5);
    struct Case { int64_t n, c, mg, g, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oph, opw; };
    const Case cases[] = {
        {2, 3, 2, 1, 4, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0},
        {1, 4, 3, 2, 5, 3, 2, 3, 3, 2, 2, 1, 0, 2, 1, 0, 0, 1},
        {1, 6, 1, 6, 7, 7, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0},   // depthwise upsampling
    };
    for (const Case& k : cases) {
        Tensor x = random_tensor({k.n, k.c, k.h, k.w}, rng);
        Tensor w = random_tensor({k.c, k.mg, k.kh, k.kw}, rng);
        Tensor b = random_tensor({k.mg * k.g}, rng);
        auto y = run_op("ConvTranspose", {x, w, b},
                        {{"group", attr_int(k.g)},
                         {"strides", attr_ints({k.sh, k.sw})},
                         {"dilations", attr_ints({k.dh, k.dw})},
                         {"pads", attr_ints({k.pt, k.pl, k.pb, k.pr})},
                         {"output_padding", attr_ints({k.oph, k.opw})}});
        const int64_t oh = k.sh * (k.h - 1) + k.oph + (k.kh - 1) * k.dh + 1 - k.pt - k.pb;
        const int64_t ow = k.sw * (k.w - 1) + k.opw + (k.kw - 1) * k.dw + 1 - k.pl - k.pr;
        Tensor want = naive_conv_transpose2d(x, w, &b, {k.sh, k.sw, k.dh, k.dw, k.pt, k.pl, k.g}, oh, ow);
        ASSERT_EQ(y[0].shape(), want.shape());
        expect_near(values(y[0]), values(want));
    }
}

TEST(OpsNnConvTranspose, OutputShapeAndAutoPad) {
    std::mt19937 rng(9);
    Tensor x = random_tensor({1, 2, 3, 3}, rng);
    Tensor w = random_tensor({2, 3, 3, 3}, rng);
    // Natural output with strides (3,2) is 9x7; asking for 10x8 appends a zero-padded border
    // that only the kernel reach can fill: the total padding is -1, split with floor division.
    auto y = run_op("ConvTranspose", {x, w}, {{"strides", attr_ints({3, 2})}, {"output_shape", attr_ints({10, 8})}});
    EXPECT_EQ(y[0].shape(), (Shape{1, 3, 10, 8}));
    expect_near(values(y[0]), values(naive_conv_transpose2d(x, w, nullptr, {3, 2, 1, 1, 0, 0, 1}, 10, 8)));
    // output_shape smaller than natural: total 2 (h) and 1 (w) -> pads begin 1 and 1 (NOTSET puts more first).
    auto y2 = run_op("ConvTranspose", {x, w}, {{"strides", attr_ints({3, 2})}, {"output_shape", attr_ints({7, 6})}});
    expect_near(values(y2[0]), values(naive_conv_transpose2d(x, w, nullptr, {3, 2, 1, 1, 1, 1, 1}, 7, 6)));
    // SAME_UPPER: out = in * stride = 6x6, total = 2*2+3-6 = 1 -> 0 before.
    auto y3 = run_op("ConvTranspose", {x, w}, {{"strides", attr_ints({2, 2})}, {"auto_pad", attr_string("SAME_UPPER")}});
    EXPECT_EQ(y3[0].shape(), (Shape{1, 3, 6, 6}));
    expect_near(values(y3[0]), values(naive_conv_transpose2d(x, w, nullptr, {2, 2, 1, 1, 0, 0, 1}, 6, 6)));
    auto y4 = run_op("ConvTranspose", {x, w}, {{"strides", attr_ints({2, 2})}, {"auto_pad", attr_string("SAME_LOWER")}});
    expect_near(values(y4[0]), values(naive_conv_transpose2d(x, w, nullptr, {2, 2, 1, 1, 1, 1, 1}, 6, 6)));
}

TEST(OpsNnConvTranspose, OneD) {
    Tensor x = iota({1, 1, 3});
    Tensor w = Tensor::from_vector<float>({1, 1, 1, 1, 1, 1}, {1, 2, 3});
    auto y = run_op("ConvTranspose", {x, w});
    EXPECT_EQ(y[0].shape(), (Shape{1, 2, 5}));
    expect_near(values(y[0]), {0, 1, 3, 3, 2, 0, 1, 3, 3, 2});
}

// ---------------------------------------------------------------- normalisations

TEST(OpsNnNorm, BatchNormalization) {
    Tensor x = Tensor::from_vector<float>({-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {2, 2, 3});
    Tensor s = Tensor::from_vector<float>({1, 1.5f}, {2});
    Tensor b = Tensor::from_vector<float>({0, 1}, {2});
    Tensor mean = Tensor::from_vector<float>({0, 3}, {2});
    Tensor var = Tensor::from_vector<float>({1, 2.25f}, {2});
    auto y = run_op("BatchNormalization", {x, s, b, mean, var}, {{"epsilon", attr_float(0.f)}, {"momentum", attr_float(0.9f)}});
    // channel 1: (x - 3) / 1.5 * 1.5 + 1 = x - 2.
    expect_near(values(y[0]), {-1, 0, 1, 0, 1, 2, 5, 6, 7, 6, 7, 8});
    EXPECT_THROW(run_op("BatchNormalization", {x, s, b, mean, var}, {{"training_mode", attr_int(1)}}, 3), Error);
    EXPECT_THROW(run_op("BatchNormalization", {x, s, b, mean, var}, {}, 3), Error);
    EXPECT_THROW(run_op("BatchNormalization", {x, s, b, mean, Tensor(DType::F32, {3})}), Error);
    EXPECT_THROW(run_op("BatchNormalization", {x, s, b, mean, var}, {{"spatial", attr_int(0)}}, 1, 7), Error);
}

TEST(OpsNnNorm, InstanceNormalization) {
    Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 10, 10, 10, 10}, {1, 2, 4});
    Tensor s = Tensor::from_vector<float>({2, 3}, {2});
    Tensor b = Tensor::from_vector<float>({0.5f, -1}, {2});
    auto y = run_op("InstanceNormalization", {x, s, b}, {{"epsilon", attr_float(0.f)}});
    // channel 0: mean 2.5, var 1.25.
    const float r = 1.f / std::sqrt(1.25f);
    const std::vector<float> got = values(y[0]);
    expect_near({got.begin(), got.begin() + 4}, {-3 * r + 0.5f, -r + 0.5f, r + 0.5f, 3 * r + 0.5f}, 1e-4f);
    // A constant channel with epsilon 0 divides 0 by 0, as the ONNX formula does.
    EXPECT_TRUE(std::isnan(got[4]));
}

TEST(OpsNnNorm, Lrn) {
    Tensor x = Tensor::from_vector<float>({1, 2, 3, 4}, {1, 4, 1, 1});
    auto y = run_op("LRN", {x}, {{"size", attr_int(3)}, {"alpha", attr_float(3.f)}, {"beta", attr_float(1.f)}, {"bias", attr_float(1.f)}});
    // window for c: c-1..c+1; y = x / (1 + 3/3 * sumsq).
    expect_near(values(y[0]), {1.f / 6, 2.f / 15, 3.f / 30, 4.f / 26});
    // Even size: the window is [c - 1, c + 2] for size 4 (floor before, ceil after).
    auto y4 = run_op("LRN", {x}, {{"size", attr_int(4)}, {"alpha", attr_float(4.f)}, {"beta", attr_float(1.f)}, {"bias", attr_float(0.f)}});
    expect_near(values(y4[0]), {1.f / 14, 2.f / 30, 3.f / 29, 4.f / 25});
}

TEST(OpsNnNorm, LayerNormalization) {
    Tensor x = Tensor::from_vector<float>({1, 3, 0, 4, 0, 0, 4, 4}, {2, 2, 2});
    Tensor s = Tensor::from_vector<float>({1, 2}, {2});  // broadcast over the last axis only
    Tensor b = Tensor::from_vector<float>({10}, {1});
    auto y = run_op("LayerNormalization", {x, s, b}, {{"axis", attr_int(1)}, {"epsilon", attr_float(0.f)}}, 3);
    // Row 0: [1,3,0,4] mean 2, var 2.5. Row 1: [0,0,4,4] mean 2, var 4.
    const float r = 1.f / std::sqrt(2.5f);
    expect_near(values(y[0]), {10 - r, 10 + 2 * r, 10 - 2 * r, 10 + 4 * r, 9, 8, 11, 12}, 1e-4f);
    EXPECT_EQ(y[1].shape(), (Shape{2, 1, 1}));
    expect_near(values(y[1]), {2, 2});
    EXPECT_NEAR(values(y[2])[0], r, 1e-5f);
    EXPECT_THROW(run_op("LayerNormalization", {x, Tensor(DType::F32, {3})}), Error);
}

// ---------------------------------------------------------------- Gemm / MatMul

TEST(OpsNnGemm, TransposesAlphaBetaAndBroadcastC) {
    Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});  // A
    Tensor b = Tensor::from_vector<float>({1, 0, 0, 1, 1, 1}, {3, 2});  // B
    // A*B = [[1+3, 2+3], [4+6, 5+6]] = [[4,5],[10,11]].
    auto y = run_op("Gemm", {a, b});
    expect_near(values(y[0]), {4, 5, 10, 11});
    Tensor c_row = Tensor::from_vector<float>({1, 2}, {2});
    y = run_op("Gemm", {a, b, c_row}, {{"alpha", attr_float(2.f)}, {"beta", attr_float(0.5f)}});
    expect_near(values(y[0]), {8.5f, 11, 20.5f, 23});
    Tensor c_col = Tensor::from_vector<float>({1, 2}, {2, 1});
    y = run_op("Gemm", {a, b, c_col});
    expect_near(values(y[0]), {5, 6, 12, 13});
    y = run_op("Gemm", {a, b, Tensor::scalar<float>(-1.f)});
    expect_near(values(y[0]), {3, 4, 9, 10});
    // Same product via A^T and B^T stored transposed.
    Tensor at = Tensor::from_vector<float>({1, 4, 2, 5, 3, 6}, {3, 2});
    Tensor bt = Tensor::from_vector<float>({1, 0, 1, 0, 1, 1}, {2, 3});
    y = run_op("Gemm", {at, bt}, {{"transA", attr_int(1)}, {"transB", attr_int(1)}});
    expect_near(values(y[0]), {4, 5, 10, 11});
    y = run_op("Gemm", {a, bt}, {{"transB", attr_int(1)}});
    expect_near(values(y[0]), {4, 5, 10, 11});
    Tensor a1 = Tensor::from_vector<float>({1, 2, 3}, {1, 3});
    y = run_op("Gemm", {a1, bt}, {{"transB", attr_int(1)}});  // single-row path
    expect_near(values(y[0]), {4, 5});
    EXPECT_THROW(run_op("Gemm", {a, a}), Error);
    EXPECT_THROW(run_op("Gemm", {a, b, Tensor(DType::F32, {3})}), Error);
}

TEST(OpsNnGemm, RandomTransposesMatchNaive) {
    std::mt19937 rng(2);
    // Narrow (n < 8, dot-product path) and wide (row-update path) outputs, one row too.
    for (auto [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{5, 11, 9}, {3, 2, 17}, {1, 33, 7}, {7, 9, 1}}) {
        for (int ta = 0; ta < 2; ++ta)
            for (int tb = 0; tb < 2; ++tb) {
                Tensor a = random_tensor(ta ? Shape{k, m} : Shape{m, k}, rng);
                Tensor b = random_tensor(tb ? Shape{n, k} : Shape{k, n}, rng);
                Tensor c = random_tensor({m, n}, rng);
                auto y = run_op("Gemm", {a, b, c}, {{"transA", attr_int(ta)}, {"transB", attr_int(tb)},
                                                    {"alpha", attr_float(0.5f)}, {"beta", attr_float(-2.f)}});
                ASSERT_EQ(y[0].shape(), (Shape{m, n}));
                const float *ap = a.data<float>(), *bp = b.data<float>(), *cp = c.data<float>();
                for (int64_t i = 0; i < m; ++i)
                    for (int64_t j = 0; j < n; ++j) {
                        double acc = 0;
                        for (int64_t p = 0; p < k; ++p)
                            acc += double(ta ? ap[p * m + i] : ap[i * k + p]) * (tb ? bp[j * k + p] : bp[p * n + j]);
                        EXPECT_NEAR(values(y[0])[size_t(i * n + j)], 0.5 * acc - 2.0 * cp[i * n + j], 1e-4)
                            << "m" << m << " n" << n << " k" << k << " transA " << ta << " transB " << tb;
                    }
            }
    }
}

TEST(OpsNnMatMul, VectorsAndBatchBroadcast) {
    Tensor v = Tensor::from_vector<float>({1, 2, 3}, {3});
    auto y = run_op("MatMul", {v, v});
    EXPECT_EQ(y[0].shape(), Shape{});
    expect_near(values(y[0]), {14});
    Tensor m = Tensor::from_vector<float>({1, 0, 0, 1, 1, 1}, {3, 2});
    y = run_op("MatMul", {v, m});
    EXPECT_EQ(y[0].shape(), (Shape{2}));
    expect_near(values(y[0]), {4, 5});
    Tensor mt = Tensor::from_vector<float>({1, 0, 1, 0, 1, 1}, {2, 3});
    y = run_op("MatMul", {mt, v});
    EXPECT_EQ(y[0].shape(), (Shape{2}));
    expect_near(values(y[0]), {4, 5});

    std::mt19937 rng(1);
    Tensor a = random_tensor({2, 1, 3, 4}, rng);
    Tensor b = random_tensor({3, 4, 5}, rng);
    y = run_op("MatMul", {a, b});
    ASSERT_EQ(y[0].shape(), (Shape{2, 3, 3, 5}));
    const float *ap = a.data<float>(), *bp = b.data<float>(), *yp = y[0].data<float>();
    for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < 3; ++j)
            for (int64_t r = 0; r < 3; ++r)
                for (int64_t c = 0; c < 5; ++c) {
                    float acc = 0;
                    for (int64_t k = 0; k < 4; ++k) acc += ap[(i * 3 + r) * 4 + k] * bp[(j * 4 + k) * 5 + c];
                    EXPECT_NEAR(yp[((i * 3 + j) * 3 + r) * 5 + c], acc, 1e-5f);
                }
    Tensor ia = Tensor::from_vector<int64_t>({1, 2, 3, 4}, {2, 2});
    auto yi = run_op("MatMul", {ia, ia});
    const int64_t* yip = yi[0].data<int64_t>();
    EXPECT_EQ(std::vector<int64_t>(yip, yip + 4), (std::vector<int64_t>{7, 10, 15, 22}));
    EXPECT_THROW(run_op("MatMul", {a, a}), Error);
    EXPECT_THROW(run_op("MatMul", {random_tensor({2, 3, 4}, rng), random_tensor({3, 4, 5}, rng)}), Error);
}

}  // namespace
}  // namespace edgecnn::test
