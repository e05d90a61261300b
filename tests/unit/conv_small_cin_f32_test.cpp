// Small-Cin direct convolution (the RGB stem kernel) vs the NCHW reference convolution and
// vs its own scalar twin, on every ISA level the machine has: randomized awkward shapes
// (Cout off the vector width, kernels larger than the image, asymmetric pads, dilation,
// strides 1-3), NHWC and NCHW input, with and without a residual, 1-3 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/cpu_features.hpp"
#include "base/thread_pool.hpp"
#include "isa_test_util.hpp"
#include "kernels/direct/conv_small_cin_f32.hpp"
#include "kernels/gemm/gemm_f32.hpp"
#include "kernels/reference/conv_ref.hpp"

namespace edgecnn {
namespace {

std::vector<float> random_vec(size_t n, std::mt19937& rng) {
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    std::vector<float> v(n);
    for (auto& e : v) e = d(rng);
    return v;
}

struct Case {
    int64_t n, h, w, cin, cout, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
    ActivationParams act;
    bool nchw = false;
    bool residual = false;
    bool residual_in_place = false;  // residual buffer is the output buffer
};

std::string describe(const Case& k) {
    char buf[320];
    std::snprintf(buf, sizeof buf,
                  "n%ld h%ld w%ld cin%ld cout%ld k%ldx%ld s%ld,%ld d%ld,%ld pads %ld,%ld,%ld,%ld act %s %s%s%s",
                  long(k.n), long(k.h), long(k.w), long(k.cin), long(k.cout), long(k.kh), long(k.kw), long(k.sh),
                  long(k.sw), long(k.dh), long(k.dw), long(k.pt), long(k.pl), long(k.pb), long(k.pr),
                  activation_name(k.act.kind), k.nchw ? "nchw" : "nhwc", k.residual ? " residual" : "",
                  k.residual_in_place ? " in place" : "");
    return buf;
}

int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe) {
    return (in + pb + pe - d * (k - 1) - 1) / s + 1;
}

// NHWC output through the NCHW reference conv (x given as NCHW).
std::vector<float> reference(const ConvSmallCinParams& p, const std::vector<float>& x_nchw, const std::vector<float>& w,
                             const float* bias, const std::vector<float>* residual, const ActivationParams& act) {
    ConvParams cp;
    cp.n = p.n, cp.c_in = p.c_in, cp.c_out = p.c_out, cp.groups = 1;
    cp.in[1] = p.h, cp.in[2] = p.w;
    cp.kernel[1] = p.kh, cp.kernel[2] = p.kw;
    cp.stride[1] = p.stride_h, cp.stride[2] = p.stride_w;
    cp.dilation[1] = p.dil_h, cp.dilation[2] = p.dil_w;
    cp.pad_begin[1] = p.pad_t, cp.pad_begin[2] = p.pad_l;
    cp.out[1] = p.out_h, cp.out[2] = p.out_w;
    const int64_t OH = p.out_h, OW = p.out_w, C = p.c_out;
    std::vector<float> yc(static_cast<size_t>(p.n * C * OH * OW));
    conv_f32_ref(cp, x_nchw.data(), w.data(), bias, yc.data());
    std::vector<float> y(yc.size());
    for (int64_t n = 0; n < p.n; ++n)
        for (int64_t c = 0; c < C; ++c)
            for (int64_t h = 0; h < OH; ++h)
                for (int64_t wi = 0; wi < OW; ++wi) {
                    const size_t o = static_cast<size_t>(((n * OH + h) * OW + wi) * C + c);
                    float v = yc[static_cast<size_t>(((n * C + c) * OH + h) * OW + wi)];
                    if (residual) v += (*residual)[o];
                    y[o] = apply_activation(v, act);
                }
    return y;
}

void run_case(const Case& k, std::mt19937& rng, ThreadPool* pool, const std::vector<Isa>& levels) {
    ConvSmallCinParams p;
    p.n = k.n, p.h = k.h, p.w = k.w, p.c_in = k.cin, p.c_out = k.cout, p.kh = k.kh, p.kw = k.kw;
    p.stride_h = k.sh, p.stride_w = k.sw, p.dil_h = k.dh, p.dil_w = k.dw;
    p.pad_t = k.pt, p.pad_l = k.pl, p.pad_b = k.pb, p.pad_r = k.pr;
    p.out_h = out_size(k.h, k.kh, k.sh, k.dh, k.pt, k.pb);
    p.out_w = out_size(k.w, k.kw, k.sw, k.dw, k.pl, k.pr);
    p.nchw_input = k.nchw;
    if (p.out_h <= 0 || p.out_w <= 0) return;
    const auto x_nchw = random_vec(static_cast<size_t>(k.n * k.cin * k.h * k.w), rng);
    std::vector<float> x = x_nchw;
    if (!k.nchw)
        for (int64_t n = 0; n < k.n; ++n)
            for (int64_t c = 0; c < k.cin; ++c)
                for (int64_t h = 0; h < k.h; ++h)
                    for (int64_t wi = 0; wi < k.w; ++wi)
                        x[static_cast<size_t>(((n * k.h + h) * k.w + wi) * k.cin + c)] =
                            x_nchw[static_cast<size_t>(((n * k.cin + c) * k.h + h) * k.w + wi)];
    const auto w = random_vec(static_cast<size_t>(k.cout * k.cin * k.kh * k.kw), rng);
    const auto b = random_vec(static_cast<size_t>(k.cout), rng);
    const bool with_bias = rng() % 4 != 0;
    const size_t out_n = static_cast<size_t>(p.n * p.out_h * p.out_w * p.c_out);
    const auto res = random_vec(out_n, rng);
    const auto want = reference(p, x_nchw, w, with_bias ? b.data() : nullptr, k.residual ? &res : nullptr, k.act);
    const ConvSmallCinPacked packed =
        pack_conv_small_cin_f32(w.data(), with_bias ? b.data() : nullptr, k.cout, k.cin, k.kh, k.kw);

    // Exact-size heap buffers so ASan catches any access past an edge or a channel tail.
    auto xs = std::make_unique<float[]>(x.size());
    std::copy(x.begin(), x.end(), xs.get());
    auto rs = std::make_unique<float[]>(out_n);
    auto run = [&](bool scalar) {
        auto y = std::make_unique<float[]>(out_n);
        std::fill(y.get(), y.get() + out_n, std::nanf(""));
        const float* r = nullptr;
        if (k.residual_in_place) {
            std::copy(res.begin(), res.end(), y.get());
            r = y.get();
        } else if (k.residual) {
            std::copy(res.begin(), res.end(), rs.get());
            r = rs.get();
        }
        if (scalar) conv_small_cin_f32_scalar(p, xs.get(), packed, y.get(), r, k.act, pool);
        else conv_small_cin_f32(p, xs.get(), packed, y.get(), r, k.act, pool);
        return y;
    };
    const auto twin = run(true);
    for (size_t i = 0; i < out_n; ++i)
        ASSERT_NEAR(twin[i], want[i], 1e-5f + 1e-5f * std::fabs(want[i]))
            << describe(k) << " scalar twin vs reference at " << i << " threads " << (pool ? pool->size() : 1);
    for (Isa isa : levels) {
        IsaGuard guard(isa);
        const auto y = run(false);
        for (size_t i = 0; i < out_n; ++i) {
            ASSERT_NEAR(y[i], want[i], 1e-5f + 1e-5f * std::fabs(want[i]))
                << describe(k) << " isa " << isa_name(isa) << " vs reference at " << i << " threads "
                << (pool ? pool->size() : 1);
            ASSERT_NEAR(y[i], twin[i], 1e-5f + 1e-5f * std::fabs(twin[i]))
                << describe(k) << " isa " << isa_name(isa) << " vs scalar twin at " << i;
        }
    }
}

ActivationParams act_of(int i) {
    static const ActivationParams acts[] = {
        {Activation::None, 0.f, 0.f},       {Activation::Relu, 0.f, 0.f},
        {Activation::Clip, 0.f, 6.f},       {Activation::HardSwish, 0.f, 0.f},
        {Activation::Silu, 0.f, 0.f},       {Activation::Sigmoid, 0.f, 0.f},
        {Activation::LeakyRelu, 0.1f, 0.f}, {Activation::HardSigmoid, 0.2f, 0.5f},
        {Activation::Tanh, 0.f, 0.f},
    };
    return acts[i % int(sizeof acts / sizeof acts[0])];
}

TEST(ConvSmallCinF32, RandomizedShapesEveryIsa) {
    std::mt19937 rng(2024);
    const auto levels = isas();
    ThreadPool pool2(2), pool3(3);
    ThreadPool* pools[] = {nullptr, &pool2, &pool3};
    const int64_t couts[] = {1, 3, 8, 16, 17, 33, 64, 70};
    const int64_t ks[][2] = {{3, 3}, {1, 1}, {5, 5}, {7, 7}, {2, 3}, {1, 4}};
    int iter = 0;
    for (int64_t cin = 1; cin <= kConvSmallCinMax; ++cin) {
        for (int64_t cout : couts) {
            for (auto& kk : ks) {
                ++iter;
                Case k{};
                k.n = rng() % 4 == 0 ? 2 : 1;
                k.h = 1 + int64_t(rng() % 12);
                k.w = 1 + int64_t(rng() % 23);
                k.cin = cin, k.cout = cout;
                k.kh = kk[0], k.kw = kk[1];
                k.sh = 1 + int64_t(rng() % 3);
                k.sw = rng() % 3 == 0 ? 1 + int64_t(rng() % 3) : k.sh;
                k.dh = rng() % 5 == 0 ? 2 : 1;
                k.dw = rng() % 5 == 0 ? 2 : 1;
                const int64_t ph = (k.kh - 1) * k.dh / 2, pw = (k.kw - 1) * k.dw / 2;
                switch (rng() % 4) {
                    case 0: k.pt = k.pb = ph, k.pl = k.pr = pw; break;            // "same"
                    case 1: k.pt = k.pl = k.pb = k.pr = 0; break;                // valid
                    case 2: k.pt = 0, k.pl = ph, k.pb = ph + 1, k.pr = 0; break;  // asymmetric
                    default:
                        k.pt = int64_t(rng() % 4), k.pl = int64_t(rng() % 4);
                        k.pb = int64_t(rng() % 4), k.pr = int64_t(rng() % 4);
                }
                k.act = act_of(iter);
                k.nchw = rng() % 3 == 0;
                const unsigned r = rng() % 6;
                k.residual = r == 0 || r == 1;
                k.residual_in_place = r == 1;
                run_case(k, rng, pools[iter % 3], levels);
                if (HasFatalFailure()) return;
            }
        }
    }
}

TEST(ConvSmallCinF32, NetworkStems) {
    std::mt19937 rng(7);
    const auto levels = isas();
    ThreadPool pool2(2), pool3(3);
    const ActivationParams relu{Activation::Relu, 0.f, 0.f};
    const ActivationParams relu6{Activation::Clip, 0.f, 6.f};
    const ActivationParams hswish{Activation::HardSwish, 0.f, 0.f};
    const ActivationParams silu{Activation::Silu, 0.f, 0.f};
    const Case cases[] = {
        {1, 64, 64, 3, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, hswish},          // MobileNetV3
        {1, 58, 61, 3, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, relu6},           // MobileNetV2
        {1, 48, 50, 3, 64, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, relu},            // ResNet
        {1, 40, 40, 3, 64, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, relu},            // SqueezeNet
        {1, 41, 39, 3, 40, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, silu},            // TF-style asymmetric
        {2, 30, 30, 1, 24, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, {}},              // grayscale
        {1, 33, 35, 4, 96, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, relu, false, true},  // dilated + residual
    };
    for (Case k : cases) {
        for (bool nchw : {false, true}) {
            k.nchw = nchw;
            run_case(k, rng, nullptr, levels);
            run_case(k, rng, &pool2, levels);
            run_case(k, rng, &pool3, levels);
            if (HasFatalFailure()) return;
        }
    }
}

// The path it replaces in ConvNhwc: im2col rows ordered (ky, kx, ci), padding as zeros,
// then the FP32 GEMM with bias, residual and activation in its epilogue. On the vector
// levels the direct kernel sums the same products in the same order from zero and adds
// the bias and residual after, so the two agree bit for bit (K <= 512: one GEMM K block),
// and switching a model's stem to the direct kernel changes no output.
TEST(ConvSmallCinF32, BitIdenticalToIm2colGemm) {
    std::mt19937 rng(31);
    ThreadPool pool2(2);
    const ActivationParams acts[] = {{Activation::HardSwish, 0.f, 0.f}, {Activation::Clip, 0.f, 6.f},
                                     {Activation::Relu, 0.f, 0.f}, {Activation::None, 0.f, 0.f}};
    struct Shape {
        int64_t h, w, cin, cout, k, s, pad;
    };
    const Shape shapes[] = {{37, 41, 3, 16, 3, 2, 1}, {30, 29, 3, 32, 3, 2, 1}, {33, 35, 3, 64, 7, 2, 3},
                            {19, 23, 1, 24, 5, 1, 2},  {17, 16, 4, 40, 3, 1, 1}, {15, 18, 8, 17, 3, 2, 0}};
    int checked = 0;
    for (Isa isa : isas()) {
        if (isa == Isa::Scalar) continue;  // the portable GEMM and twin use other summation orders
        IsaGuard guard(isa);
        for (const Shape& sh : shapes) {
            for (const ActivationParams& act : acts) {
                ConvSmallCinParams p;
                p.h = sh.h, p.w = sh.w, p.c_in = sh.cin, p.c_out = sh.cout, p.kh = p.kw = sh.k;
                p.stride_h = p.stride_w = sh.s;
                p.pad_t = p.pad_l = p.pad_b = p.pad_r = sh.pad;
                p.out_h = out_size(sh.h, sh.k, sh.s, 1, sh.pad, sh.pad);
                p.out_w = out_size(sh.w, sh.k, sh.s, 1, sh.pad, sh.pad);
                const int64_t K = sh.k * sh.k * sh.cin, M = p.out_h * p.out_w, N = sh.cout;
                const auto x = random_vec(static_cast<size_t>(sh.h * sh.w * sh.cin), rng);
                const auto w = random_vec(static_cast<size_t>(N * K), rng);  // [cout][cin][k][k]
                const auto b = random_vec(static_cast<size_t>(N), rng);
                const auto r = random_vec(static_cast<size_t>(M * N), rng);
                const bool with_residual = rng() % 2 == 0;
                std::vector<float> a(static_cast<size_t>(M * K), 0.f), wk(static_cast<size_t>(N * K));
                for (int64_t oy = 0; oy < p.out_h; ++oy)
                    for (int64_t ox = 0; ox < p.out_w; ++ox)
                        for (int64_t ky = 0; ky < sh.k; ++ky)
                            for (int64_t kx = 0; kx < sh.k; ++kx)
                                for (int64_t c = 0; c < sh.cin; ++c) {
                                    const int64_t iy = oy * sh.s - sh.pad + ky, ix = ox * sh.s - sh.pad + kx;
                                    if (iy < 0 || iy >= sh.h || ix < 0 || ix >= sh.w) continue;
                                    a[static_cast<size_t>((oy * p.out_w + ox) * K + (ky * sh.k + kx) * sh.cin + c)] =
                                        x[static_cast<size_t>((iy * sh.w + ix) * sh.cin + c)];
                                }
                for (int64_t o = 0; o < N; ++o)
                    for (int64_t t = 0; t < sh.k * sh.k; ++t)
                        for (int64_t c = 0; c < sh.cin; ++c)
                            wk[static_cast<size_t>(o * K + t * sh.cin + c)] = w[static_cast<size_t>((o * sh.cin + c) * sh.k * sh.k + t)];
                const PackedGemmB packed_b = pack_gemm_b_f32(wk.data(), K, N, K, true);
                GemmEpilogue ep;
                ep.bias = b.data();
                ep.residual = with_residual ? r.data() : nullptr;
                ep.ld_residual = N;
                ep.act = act;
                std::vector<float> want(static_cast<size_t>(M * N)), got(want.size());
                gemm_f32(M, a.data(), K, packed_b, want.data(), N, ep, &pool2);
                const ConvSmallCinPacked packed = pack_conv_small_cin_f32(w.data(), b.data(), N, sh.cin, sh.k, sh.k);
                conv_small_cin_f32(p, x.data(), packed, got.data(), with_residual ? r.data() : nullptr, act, &pool2);
                for (size_t i = 0; i < want.size(); ++i) {
                    uint32_t wb, gb;
                    std::memcpy(&wb, &want[i], 4);
                    std::memcpy(&gb, &got[i], 4);
                    ASSERT_EQ(gb, wb) << "isa " << isa_name(isa) << " " << sh.cin << "->" << sh.cout << " k" << sh.k
                                      << " s" << sh.s << " act " << activation_name(act.kind) << " at " << i << ": "
                                      << got[i] << " vs GEMM " << want[i];
                }
                ++checked;
            }
        }
    }
    if (checked == 0) GTEST_SKIP() << "no vector ISA level on this machine";
}

TEST(ConvSmallCinF32, KernelLargerThanImageAndBadArguments) {
    std::mt19937 rng(5);
    const auto levels = isas();
    // Every window crosses both edges (no interior columns); 1x1 and 2x3 images; a window
    // that reads only padding for some pixels (bias + activation alone).
    run_case({1, 2, 3, 3, 17, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, {}}, rng, nullptr, levels);
    run_case({2, 1, 1, 2, 33, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, {Activation::Tanh, 0.f, 0.f}}, rng, nullptr, levels);
    run_case({1, 2, 3, 3, 5, 3, 3, 3, 3, 1, 1, 3, 3, 3, 3, {Activation::Sigmoid, 0.f, 0.f}}, rng, nullptr, levels);
    run_case({1, 3, 2, 3, 16, 3, 3, 1, 1, 2, 2, 4, 4, 4, 4, {}, true}, rng, nullptr, levels);
    const std::vector<float> w(27, 0.f);
    ConvSmallCinParams p;
    p.c_in = 3, p.c_out = 1, p.kh = p.kw = 3, p.h = p.w = 3;
    std::vector<float> x(27), y(9);
    const ConvSmallCinPacked packed = pack_conv_small_cin_f32(w.data(), nullptr, 1, 3, 3, 3);
    p.c_out = 2;  // packed for 1 output channel
    EXPECT_THROW(conv_small_cin_f32(p, x.data(), packed, y.data(), nullptr, {}, nullptr), std::invalid_argument);
    p.c_out = 1, p.stride_h = 0;
    EXPECT_THROW(conv_small_cin_f32(p, x.data(), packed, y.data(), nullptr, {}, nullptr), std::invalid_argument);
    p.stride_h = 1, p.c_in = kConvSmallCinMax + 1;
    EXPECT_THROW(conv_small_cin_f32(p, x.data(), packed, y.data(), nullptr, {}, nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace edgecnn
