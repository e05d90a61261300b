// Elementwise kernels (binary broadcast patterns, activations, NCHW<->NHWC) vs scalar
// loops over apply_activation, on every ISA level the machine has.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "base/cpu_features.hpp"
#include "isa_test_util.hpp"
#include "base/thread_pool.hpp"
#include "kernels/eltwise/eltwise_f32.hpp"

namespace edgecnn {
namespace {

const ActivationParams kActs[] = {
    {Activation::None, 0.f, 0.f},       {Activation::Relu, 0.f, 0.f},      {Activation::Clip, -0.5f, 6.f},
    {Activation::HardSigmoid, 0.2f, 0.5f}, {Activation::HardSwish, 0.f, 0.f}, {Activation::Sigmoid, 0.f, 0.f},
    {Activation::Silu, 0.f, 0.f},       {Activation::LeakyRelu, 0.01f, 0.f}, {Activation::Tanh, 0.f, 0.f},
};

// ~1e-6 relative; tiny absolute slack where the exact result underflows (sigmoid(-100)).
// HardSigmoid/HardSwish compute alpha*x + beta, which cancels near the kink: the vector
// code may fuse it into one fma (rounding once), so allow an ulp of the terms there.
bool close(float got, float want, Activation k = Activation::None, float pre = 0.f) {
    if (std::isinf(want)) return got == want;
    float slack = 1e-30f;
    if (k == Activation::HardSigmoid || k == Activation::HardSwish)
        slack = 2e-7f * std::max(1.f, std::fabs(pre)) * std::max(1.f, std::fabs(pre));
    return std::fabs(got - want) <= 2e-6f * std::fabs(want) + slack;
}

std::unique_ptr<float[]> copy_of(const std::vector<float>& v) {
    auto r = std::make_unique<float[]>(v.size());
    std::copy(v.begin(), v.end(), r.get());
    return r;
}

TEST(EltwiseF32, ActivationsMatchScalarEveryIsa) {
    std::mt19937 rng(11);
    ThreadPool pool2(2), pool3(3);
    ThreadPool* pools[] = {nullptr, &pool2, &pool3};
    // Values over the whole useful range, near zero (tanh's polynomial branch and its
    // switch point), and far out (exp clamping).
    std::vector<float> special = {0.f, -0.f, 1e-7f, -1e-7f, 1e-4f, -3e-3f, 0.624f, 0.626f, -0.625f, 3.f, -3.f,
                                  6.f, 20.f, -20.f, 87.f, -87.f, 88.7f, -88.7f, 95.f, -95.f, 120.f, -120.f};
    int iter = 0;
    for (int64_t n : {1, 3, 7, 16, 17, 33, 64, 1000, 70001}) {
        std::vector<float> x(static_cast<size_t>(n));
        std::uniform_real_distribution<float> wide(-30.f, 30.f), narrow(-4.f, 4.f);
        for (size_t i = 0; i < x.size(); ++i) x[i] = i % 3 == 0 ? wide(rng) : narrow(rng);
        for (size_t i = 0; i < x.size() && i < special.size(); ++i) x[(i * 7) % x.size()] = special[i];
        for (const auto& act : kActs) {
            for (Isa isa : isas()) {
                IsaGuard guard(isa);
                auto xs = copy_of(x);
                auto y = std::make_unique<float[]>(x.size());
                activation_f32(xs.get(), y.get(), n, act, pools[iter++ % 3]);
                for (size_t i = 0; i < x.size(); ++i) {
                    const float want = apply_activation(x[i], act);
                    ASSERT_TRUE(close(y[i], want, act.kind, x[i])) << activation_name(act.kind) << " isa " << isa_name(isa) << " x "
                                                   << x[i] << " got " << y[i] << " want " << want;
                }
                activation_f32(xs.get(), xs.get(), n, act, nullptr);  // in place
                for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(xs[i], y[i]);
            }
        }
    }
}

TEST(EltwiseF32, ExpBasedActivationsDenseSweep) {
    // Every 1/1024 step over [-16, 16]: the polynomial and range reduction everywhere.
    std::vector<float> x;
    for (int i = -16 * 1024; i <= 16 * 1024; ++i) x.push_back(float(i) / 1024.f);
    for (Isa isa : isas()) {
        IsaGuard guard(isa);
        for (Activation k : {Activation::Sigmoid, Activation::Silu, Activation::Tanh}) {
            const ActivationParams act{k, 0.f, 0.f};
            std::vector<float> y(x.size());
            activation_f32(x.data(), y.data(), int64_t(x.size()), act, nullptr);
            for (size_t i = 0; i < x.size(); ++i)
                ASSERT_TRUE(close(y[i], apply_activation(x[i], act)))
                    << activation_name(k) << " " << isa_name(isa) << " x " << x[i] << " got " << y[i];
        }
    }
}

float op_ref(BinaryOp op, float a, float b) {
    switch (op) {
        case BinaryOp::Add: return a + b;
        case BinaryOp::Sub: return a - b;
        case BinaryOp::Mul: return a * b;
        case BinaryOp::Div: return a / b;
        case BinaryOp::Max: return std::max(a, b);
        case BinaryOp::Min: return std::min(a, b);
    }
    return 0.f;
}

enum class Pattern { Same, ScalarB, ScalarA, ChannelB, ChannelA, ImageChannelB, ImageChannelA };

TEST(EltwiseF32, BinaryBroadcastPatternsEveryIsa) {
    std::mt19937 rng(12);
    std::uniform_real_distribution<float> d(-3.f, 3.f);
    ThreadPool pool2(2), pool3(3);
    ThreadPool* pools[] = {nullptr, &pool2, &pool3};
    const BinaryOp ops[] = {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div, BinaryOp::Max, BinaryOp::Min};
    int iter = 0;
    for (int64_t c : {1, 3, 7, 16, 17, 33, 64, 144}) {
        for (int pat = 0; pat < 7; ++pat) {
            for (BinaryOp op : ops) {
                const Pattern pattern = Pattern(pat);
                const int64_t n = iter % 3 == 0 ? 2 : 1;
                const int64_t hw = iter % 5 == 0 ? 57 * 41 : 1 + int64_t(rng() % 30);
                const ActivationParams act = kActs[rng() % 9];
                const int64_t total = n * hw * c;
                std::vector<float> x(static_cast<size_t>(total));
                for (auto& e : x) e = d(rng);
                const int64_t vsize = pattern == Pattern::ImageChannelA || pattern == Pattern::ImageChannelB ? n * c
                                      : pattern == Pattern::Same                                             ? total
                                      : pattern == Pattern::ScalarA || pattern == Pattern::ScalarB           ? 1
                                                                                                             : c;
                std::vector<float> v(static_cast<size_t>(vsize));
                for (auto& e : v) e = d(rng);
                if (op == BinaryOp::Div)
                    for (auto* buf : {&x, &v})
                        for (auto& e : *buf) e = e >= 0 ? e + 0.5f : e - 0.5f;
                std::vector<float> want(x.size()), pre(x.size());
                for (int64_t b = 0; b < n; ++b)
                    for (int64_t i = 0; i < hw; ++i)
                        for (int64_t ch = 0; ch < c; ++ch) {
                            const int64_t e = (b * hw + i) * c + ch;
                            float vb = 0.f;
                            bool vfirst = false;
                            switch (pattern) {
                                case Pattern::Same: vb = v[size_t(e)]; break;
                                case Pattern::ScalarA: vfirst = true; [[fallthrough]];
                                case Pattern::ScalarB: vb = v[0]; break;
                                case Pattern::ChannelA: vfirst = true; [[fallthrough]];
                                case Pattern::ChannelB: vb = v[size_t(ch)]; break;
                                case Pattern::ImageChannelA: vfirst = true; [[fallthrough]];
                                case Pattern::ImageChannelB: vb = v[size_t(b * c + ch)]; break;
                            }
                            const float r = vfirst ? op_ref(op, vb, x[size_t(e)]) : op_ref(op, x[size_t(e)], vb);
                            pre[size_t(e)] = r;
                            want[size_t(e)] = apply_activation(r, act);
                        }
                for (Isa isa : isas()) {
                    IsaGuard guard(isa);
                    auto xs = copy_of(x), vs = copy_of(v);
                    auto y = std::make_unique<float[]>(x.size());
                    ThreadPool* pool = pools[iter % 3];
                    switch (pattern) {
                        case Pattern::Same: binary_same_f32(op, xs.get(), vs.get(), y.get(), total, act, pool); break;
                        case Pattern::ScalarA:
                        case Pattern::ScalarB:
                            binary_scalar_f32(op, xs.get(), vs[0], pattern == Pattern::ScalarA, y.get(), total, act,
                                              pool);
                            break;
                        case Pattern::ChannelA:
                        case Pattern::ChannelB:
                            binary_channel_f32(op, xs.get(), vs.get(), false, pattern == Pattern::ChannelA, y.get(), n,
                                               hw, c, act, pool);
                            break;
                        case Pattern::ImageChannelA:
                        case Pattern::ImageChannelB:
                            binary_channel_f32(op, xs.get(), vs.get(), true, pattern == Pattern::ImageChannelA, y.get(),
                                               n, hw, c, act, pool);
                            break;
                    }
                    for (size_t i = 0; i < want.size(); ++i)
                        ASSERT_TRUE(close(y[i], want[i], act.kind, pre[i]))
                            << "pattern " << pat << " op " << int(op) << " c" << c << " hw" << hw << " n" << n << " "
                            << activation_name(act.kind) << " " << isa_name(isa) << " at " << i << " got " << y[i]
                            << " want " << want[i];
                    if (pattern == Pattern::ImageChannelB) {  // in place on x, as the SE scale runs
                        binary_channel_f32(op, xs.get(), vs.get(), true, false, xs.get(), n, hw, c, act, pool);
                        for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(xs[i], y[i]);
                    }
                }
                ++iter;
            }
        }
    }
}

TEST(EltwiseF32, LayoutTransposesEveryIsa) {
    std::mt19937 rng(13);
    ThreadPool pool2(2), pool3(3);
    ThreadPool* pools[] = {nullptr, &pool2, &pool3};
    int iter = 0;
    for (int64_t c : {1, 3, 7, 16, 17, 33, 64, 144})
        for (int64_t hw : {1, 5, 8, 63, 224 * 224 / 16, 9999}) {
            const int64_t n = iter % 2 ? 2 : 1;
            std::vector<float> x(static_cast<size_t>(n * c * hw));
            for (size_t i = 0; i < x.size(); ++i) x[i] = float(i);
            for (Isa isa : isas()) {
                IsaGuard guard(isa);
                auto xs = copy_of(x);
                auto y = std::make_unique<float[]>(x.size());
                auto z = std::make_unique<float[]>(x.size());
                nchw_to_nhwc_f32(xs.get(), y.get(), n, c, hw, pools[iter % 3]);
                for (int64_t b = 0; b < n; ++b)
                    for (int64_t i = 0; i < hw; ++i)
                        for (int64_t ch = 0; ch < c; ++ch)
                            ASSERT_EQ(y[size_t((b * hw + i) * c + ch)], x[size_t((b * c + ch) * hw + i)])
                                << "c" << c << " hw" << hw << " " << isa_name(isa);
                nhwc_to_nchw_f32(y.get(), z.get(), n, c, hw, pools[(iter + 1) % 3]);
                for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(z[i], x[i]) << "c" << c << " hw" << hw;
            }
            ++iter;
        }
}

}  // namespace
}  // namespace edgecnn
