// Depthwise NHWC kernel vs the NCHW reference convolution (conv_f32_ref with groups = C,
// inputs transposed), on every ISA level the machine has, randomized awkward shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "base/cpu_features.hpp"
#include "isa_test_util.hpp"
#include "base/thread_pool.hpp"
#include "kernels/depthwise/dwconv_f32.hpp"
#include "kernels/reference/conv_ref.hpp"

namespace edgecnn {
namespace {

std::vector<float> random_vec(size_t n, std::mt19937& rng, float lo = -1.f, float hi = 1.f) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& e : v) e = d(rng);
    return v;
}

// NHWC reference through the NCHW reference conv.
std::vector<float> reference(const DwConvParams& p, const std::vector<float>& x, const std::vector<float>& w,
                             const std::vector<float>* bias, const ActivationParams& act) {
    const int64_t C = p.c, H = p.h, W = p.w, OH = p.out_h, OW = p.out_w;
    std::vector<float> xc(x.size());
    for (int64_t n = 0; n < p.n; ++n)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t wi = 0; wi < W; ++wi)
                for (int64_t c = 0; c < C; ++c)
                    xc[static_cast<size_t>(((n * C + c) * H + h) * W + wi)] =
                        x[static_cast<size_t>(((n * H + h) * W + wi) * C + c)];
    ConvParams cp;
    cp.n = p.n;
    cp.c_in = cp.c_out = cp.groups = C;
    cp.in[1] = H, cp.in[2] = W;
    cp.kernel[1] = p.kh, cp.kernel[2] = p.kw;
    cp.stride[1] = p.stride_h, cp.stride[2] = p.stride_w;
    cp.dilation[1] = p.dil_h, cp.dilation[2] = p.dil_w;
    cp.pad_begin[1] = p.pad_t, cp.pad_begin[2] = p.pad_l;
    cp.out[1] = OH, cp.out[2] = OW;
    std::vector<float> yc(static_cast<size_t>(p.n * C * OH * OW));
    conv_f32_ref(cp, xc.data(), w.data(), bias ? bias->data() : nullptr, yc.data());
    std::vector<float> y(yc.size());
    for (int64_t n = 0; n < p.n; ++n)
        for (int64_t c = 0; c < C; ++c)
            for (int64_t h = 0; h < OH; ++h)
                for (int64_t wi = 0; wi < OW; ++wi)
                    y[static_cast<size_t>(((n * OH + h) * OW + wi) * C + c)] =
                        apply_activation(yc[static_cast<size_t>(((n * C + c) * OH + h) * OW + wi)], act);
    return y;
}

struct Case {
    int64_t n, h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
    ActivationParams act;
};

std::string describe(const Case& k) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "n%ld h%ld w%ld c%ld k%ldx%ld s%ld,%ld d%ld,%ld pads %ld,%ld,%ld,%ld act %s",
                  long(k.n), long(k.h), long(k.w), long(k.c), long(k.kh), long(k.kw), long(k.sh), long(k.sw),
                  long(k.dh), long(k.dw), long(k.pt), long(k.pl), long(k.pb), long(k.pr), activation_name(k.act.kind));
    return buf;
}

void run_case(const Case& k, std::mt19937& rng, ThreadPool* pool, const std::vector<Isa>& levels) {
    DwConvParams p;
    p.n = k.n, p.h = k.h, p.w = k.w, p.c = k.c, p.kh = k.kh, p.kw = k.kw;
    p.stride_h = k.sh, p.stride_w = k.sw, p.dil_h = k.dh, p.dil_w = k.dw;
    p.pad_t = k.pt, p.pad_l = k.pl, p.pad_b = k.pb, p.pad_r = k.pr;
    p.out_h = dwconv_out_size(k.h, k.kh, k.sh, k.dh, k.pt, k.pb);
    p.out_w = dwconv_out_size(k.w, k.kw, k.sw, k.dw, k.pl, k.pr);
    if (p.out_h <= 0 || p.out_w <= 0) return;
    const auto x = random_vec(static_cast<size_t>(k.n * k.h * k.w * k.c), rng);
    const auto w = random_vec(static_cast<size_t>(k.c * k.kh * k.kw), rng);
    const auto b = random_vec(static_cast<size_t>(k.c), rng);
    const bool with_bias = rng() % 4 != 0;
    const auto want = reference(p, x, w, with_bias ? &b : nullptr, k.act);
    const DwConvPacked packed = pack_dwconv_f32(w.data(), with_bias ? b.data() : nullptr, k.c, k.kh, k.kw);
    for (Isa isa : levels) {
        IsaGuard guard(isa);
        // Exact-size heap buffers so ASan catches any read or write past a channel tail.
        auto xs = std::make_unique<float[]>(x.size());
        std::copy(x.begin(), x.end(), xs.get());
        auto y = std::make_unique<float[]>(want.size());
        std::fill(y.get(), y.get() + want.size(), std::nanf(""));
        dwconv_f32_nhwc(p, xs.get(), packed, y.get(), k.act, pool);
        for (size_t i = 0; i < want.size(); ++i) {
            ASSERT_NEAR(y[i], want[i], 1e-5f + 1e-5f * std::fabs(want[i]))
                << describe(k) << " isa " << isa_name(isa) << " at " << i << " threads "
                << (pool ? pool->size() : 1);
        }
    }
}

ActivationParams random_act(std::mt19937& rng) {
    static const ActivationParams acts[] = {
        {Activation::None, 0.f, 0.f},       {Activation::Relu, 0.f, 0.f},
        {Activation::Clip, 0.f, 6.f},       {Activation::HardSwish, 0.f, 0.f},
        {Activation::Silu, 0.f, 0.f},       {Activation::Sigmoid, 0.f, 0.f},
        {Activation::LeakyRelu, 0.1f, 0.f}, {Activation::HardSigmoid, 0.2f, 0.5f},
        {Activation::Tanh, 0.f, 0.f},
    };
    return acts[rng() % (sizeof acts / sizeof acts[0])];
}

TEST(DwConvF32, RandomizedShapesEveryIsa) {
    std::mt19937 rng(1234);
    const auto levels = isas();
    ThreadPool pool2(2), pool3(3);
    ThreadPool* pools[] = {nullptr, &pool2, &pool3};
    const int64_t channels[] = {1, 3, 7, 16, 17, 33, 64, 144};
    const int64_t ks[][2] = {{3, 3}, {5, 5}, {3, 3}, {5, 5}, {1, 1}, {2, 2}, {7, 7}, {3, 5}, {1, 3}};
    int iter = 0;
    for (int64_t c : channels) {
        for (auto& kk : ks) {
            for (int rep = 0; rep < 3; ++rep, ++iter) {
                Case k{};
                k.n = rng() % 3 == 0 ? 2 : 1;
                k.h = 1 + int64_t(rng() % 13);
                k.w = 1 + int64_t(rng() % 17);
                k.c = c;
                k.kh = kk[0], k.kw = kk[1];
                k.sh = 1 + int64_t(rng() % 2);
                k.sw = rng() % 4 == 0 ? 3 - k.sh : k.sh;
                k.dh = rng() % 5 == 0 ? 2 : 1;
                k.dw = rng() % 5 == 0 ? 2 : 1;
                const int64_t ph = (k.kh - 1) * k.dh / 2, pw = (k.kw - 1) * k.dw / 2;
                switch (rng() % 4) {
                    case 0: k.pt = k.pb = ph, k.pl = k.pr = pw; break;            // "same"
                    case 1: k.pt = k.pl = k.pb = k.pr = 0; break;                // valid
                    case 2: k.pt = 0, k.pl = ph, k.pb = ph + 1, k.pr = 0; break;  // asymmetric
                    default:
                        k.pt = int64_t(rng() % 3), k.pl = int64_t(rng() % 3);
                        k.pb = int64_t(rng() % 3), k.pr = int64_t(rng() % 3);
                }
                k.act = random_act(rng);
                run_case(k, rng, pools[iter % 3], levels);
                if (HasFatalFailure()) return;
            }
        }
    }
}

TEST(DwConvF32, MobileNetLikeShapes) {
    std::mt19937 rng(99);
    const auto levels = isas();
    ThreadPool pool2(2), pool3(3);
    const ActivationParams relu6{Activation::Clip, 0.f, 6.f};
    const ActivationParams hswish{Activation::HardSwish, 0.f, 0.f};
    const ActivationParams silu{Activation::Silu, 0.f, 0.f};
    const Case cases[] = {
        {1, 112, 112, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, relu6},
        {1, 56, 56, 144, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, relu6},  // TF-style asymmetric s2
        {2, 28, 28, 192, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, hswish},
        {1, 14, 14, 576, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, silu},
        {1, 7, 7, 960, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, hswish},
        {1, 15, 15, 40, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, relu6},
        {1, 33, 33, 24, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, relu6},  // dilated
    };
    for (const Case& k : cases) {
        run_case(k, rng, nullptr, levels);
        run_case(k, rng, &pool2, levels);
        run_case(k, rng, &pool3, levels);
        if (HasFatalFailure()) return;
    }
}

TEST(DwConvF32, KernelLargerThanImageAndRejectsMismatchedPack) {
    std::mt19937 rng(5);
    const auto levels = isas();
    // Every window crosses both edges: no interior columns at all.
    run_case({1, 2, 3, 17, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, {}}, rng, nullptr, levels);
    run_case({2, 3, 2, 33, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, {}}, rng, nullptr, levels);
    DwConvParams p;
    p.c = 4, p.kh = p.kw = 3, p.h = p.w = 3;
    const std::vector<float> w(27, 0.f);
    const DwConvPacked packed = pack_dwconv_f32(w.data(), nullptr, 3, 3, 3);
    std::vector<float> x(36), y(36);
    EXPECT_THROW(dwconv_f32_nhwc(p, x.data(), packed, y.data(), {}, nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace edgecnn
