// NHWC pooling kernels vs the NCHW reference pools (inputs transposed), on every ISA level
// the machine has, randomized awkward shapes, ceil_mode output sizes, count_include_pad.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "base/cpu_features.hpp"
#include "isa_test_util.hpp"
#include "base/thread_pool.hpp"
#include "kernels/pool/pool_nhwc_f32.hpp"
#include "kernels/reference/pool_ref.hpp"

namespace edgecnn {
namespace {

std::vector<float> nhwc_to_nchw(const std::vector<float>& x, int64_t n, int64_t hw, int64_t c) {
    std::vector<float> r(x.size());
    for (int64_t b = 0; b < n; ++b)
        for (int64_t i = 0; i < hw; ++i)
            for (int64_t ch = 0; ch < c; ++ch)
                r[static_cast<size_t>((b * c + ch) * hw + i)] = x[static_cast<size_t>((b * hw + i) * c + ch)];
    return r;
}

std::vector<float> nchw_to_nhwc(const std::vector<float>& x, int64_t n, int64_t hw, int64_t c) {
    std::vector<float> r(x.size());
    for (int64_t b = 0; b < n; ++b)
        for (int64_t i = 0; i < hw; ++i)
            for (int64_t ch = 0; ch < c; ++ch)
                r[static_cast<size_t>((b * hw + i) * c + ch)] = x[static_cast<size_t>((b * c + ch) * hw + i)];
    return r;
}

// ONNX output size, with the ceil_mode rule that the last window starts inside the image
// or its leading padding.
int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe, bool ceil_mode) {
    const int64_t span = in + pb + pe - d * (k - 1) - 1;
    if (span < 0) return 0;
    int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (o - 1) * s >= in + pb) --o;
    return o;
}

enum class Op { Max, Avg, AvgPad };

void run_case(Op op, const PoolNhwcParams& p, std::mt19937& rng, ThreadPool* pool, const std::vector<Isa>& levels,
              const std::string& what) {
    std::uniform_real_distribution<float> d(-3.f, 3.f);
    const size_t in_size = static_cast<size_t>(p.n * p.h * p.w * p.c);
    std::vector<float> x(in_size);
    for (auto& e : x) e = d(rng);
    PoolParams rp;
    rp.planes = p.n * p.c;
    rp.in[1] = p.h, rp.in[2] = p.w;
    rp.kernel[1] = p.kh, rp.kernel[2] = p.kw;
    rp.stride[1] = p.stride_h, rp.stride[2] = p.stride_w;
    rp.dilation[1] = p.dil_h, rp.dilation[2] = p.dil_w;
    rp.pad_begin[1] = p.pad_t, rp.pad_begin[2] = p.pad_l;
    rp.pad_end[1] = p.pad_b, rp.pad_end[2] = p.pad_r;
    rp.out[1] = p.out_h, rp.out[2] = p.out_w;
    const auto xc = nhwc_to_nchw(x, p.n, p.h * p.w, p.c);
    std::vector<float> yc(static_cast<size_t>(p.n * p.c * p.out_h * p.out_w));
    if (op == Op::Max) maxpool_f32_ref(rp, xc.data(), yc.data());
    else avgpool_f32_ref(rp, xc.data(), yc.data(), op == Op::AvgPad);
    const auto want = nchw_to_nhwc(yc, p.n, p.out_h * p.out_w, p.c);
    for (Isa isa : levels) {
        IsaGuard guard(isa);
        auto xs = std::make_unique<float[]>(in_size);
        std::copy(x.begin(), x.end(), xs.get());
        auto y = std::make_unique<float[]>(want.size());
        std::fill(y.get(), y.get() + want.size(), std::nanf(""));
        if (op == Op::Max) maxpool_f32_nhwc(p, xs.get(), y.get(), pool);
        else avgpool_f32_nhwc(p, xs.get(), y.get(), op == Op::AvgPad, pool);
        for (size_t i = 0; i < want.size(); ++i)
            ASSERT_NEAR(y[i], want[i], 1e-5f + 1e-5f * std::fabs(want[i]))
                << what << " isa " << isa_name(isa) << " at " << i;
    }
}

TEST(PoolNhwcF32, RandomizedWindowsEveryIsa) {
    std::mt19937 rng(7);
    const auto levels = isas();
    ThreadPool pool2(2), pool3(3);
    ThreadPool* pools[] = {nullptr, &pool2, &pool3};
    const int64_t channels[] = {1, 3, 7, 16, 17, 33, 64, 144};
    int iter = 0;
    for (int64_t c : channels) {
        for (int rep = 0; rep < 12; ++rep, ++iter) {
            const Op op = Op(rep % 3);
            PoolNhwcParams p;
            p.n = rng() % 3 == 0 ? 2 : 1;
            p.c = c;
            p.h = 1 + int64_t(rng() % 15);
            p.w = 1 + int64_t(rng() % 15);
            p.kh = 1 + int64_t(rng() % 3);
            p.kw = rng() % 3 == 0 ? p.kh : 1 + int64_t(rng() % 4);
            p.stride_h = 1 + int64_t(rng() % 2);
            p.stride_w = 1 + int64_t(rng() % 2);
            if (op == Op::Max && rng() % 3 == 0) p.dil_h = p.dil_w = 2;
            // Pads must stay below the kernel extent (ONNX); asymmetric allowed.
            p.pad_t = int64_t(rng() % uint64_t(p.kh));
            p.pad_b = int64_t(rng() % uint64_t(p.kh));
            p.pad_l = int64_t(rng() % uint64_t(p.kw));
            p.pad_r = int64_t(rng() % uint64_t(p.kw));
            const bool ceil_mode = rng() % 2;
            p.out_h = out_size(p.h, p.kh, p.stride_h, p.dil_h, p.pad_t, p.pad_b, ceil_mode);
            p.out_w = out_size(p.w, p.kw, p.stride_w, p.dil_w, p.pad_l, p.pad_r, ceil_mode);
            if (p.out_h <= 0 || p.out_w <= 0) continue;
            char what[200];
            std::snprintf(what, sizeof what, "op %d n%ld %ldx%ldx%ld k%ldx%ld s%ld,%ld d%ld pads %ld,%ld,%ld,%ld ceil %d",
                          int(op), long(p.n), long(p.h), long(p.w), long(p.c), long(p.kh), long(p.kw),
                          long(p.stride_h), long(p.stride_w), long(p.dil_h), long(p.pad_t), long(p.pad_l),
                          long(p.pad_b), long(p.pad_r), int(ceil_mode));
            run_case(op, p, rng, pools[iter % 3], levels, what);
            if (HasFatalFailure()) return;
        }
    }
}

TEST(PoolNhwcF32, CnnShapes) {
    std::mt19937 rng(8);
    const auto levels = isas();
    ThreadPool pool2(2);
    // resnet stem max pool 3x3 s2 p1 on 112x112x64; ceil_mode 3x3 s2 (squeezenet); avg 2x2 s2.
    PoolNhwcParams a;
    a.h = a.w = 112, a.c = 64, a.kh = a.kw = 3, a.stride_h = a.stride_w = 2, a.pad_t = a.pad_l = a.pad_b = a.pad_r = 1;
    a.out_h = a.out_w = 56;
    run_case(Op::Max, a, rng, &pool2, levels, "resnet stem");
    PoolNhwcParams b;
    b.h = b.w = 55, b.c = 96, b.kh = b.kw = 3, b.stride_h = b.stride_w = 2;
    b.out_h = b.out_w = out_size(55, 3, 2, 1, 0, 0, true);
    run_case(Op::Max, b, rng, nullptr, levels, "squeezenet ceil");
    PoolNhwcParams c;
    c.n = 2, c.h = c.w = 28, c.c = 33, c.kh = c.kw = 3, c.stride_h = c.stride_w = 1;
    c.pad_t = c.pad_l = c.pad_b = c.pad_r = 1, c.out_h = c.out_w = 28;
    run_case(Op::AvgPad, c, rng, &pool2, levels, "avg include pad");
    run_case(Op::Avg, c, rng, &pool2, levels, "avg exclude pad");
}

TEST(PoolNhwcF32, GlobalPoolsEveryIsa) {
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> d(-2.f, 2.f);
    const auto levels = isas();
    ThreadPool pool2(2), pool3(3);
    ThreadPool* pools[] = {nullptr, &pool2, &pool3};
    const int64_t channels[] = {1, 3, 7, 16, 17, 33, 64, 144, 1280};
    int iter = 0;
    for (int64_t c : channels)
        for (int64_t hw : {1, 7, 49, 196, 3136}) {
            const int64_t n = iter % 2 ? 2 : 1;
            std::vector<float> x(static_cast<size_t>(n * hw * c));
            for (auto& e : x) e = d(rng);
            const auto xc = nhwc_to_nchw(x, n, hw, c);
            std::vector<float> want_avg(static_cast<size_t>(n * c)), want_max(want_avg.size());
            global_avgpool_f32_ref(n * c, hw, xc.data(), want_avg.data());
            global_maxpool_f32_ref(n * c, hw, xc.data(), want_max.data());
            for (Isa isa : levels) {
                IsaGuard guard(isa);
                auto xs = std::make_unique<float[]>(x.size());
                std::copy(x.begin(), x.end(), xs.get());
                auto ya = std::make_unique<float[]>(want_avg.size());
                auto ym = std::make_unique<float[]>(want_avg.size());
                global_avgpool_f32_nhwc(n, hw, c, xs.get(), ya.get(), pools[iter % 3]);
                global_maxpool_f32_nhwc(n, hw, c, xs.get(), ym.get(), pools[iter % 3]);
                for (size_t i = 0; i < want_avg.size(); ++i) {
                    ASSERT_NEAR(ya[i], want_avg[i], 2e-5f) << "avg c" << c << " hw" << hw << " " << isa_name(isa);
                    ASSERT_EQ(ym[i], want_max[i]) << "max c" << c << " hw" << hw << " " << isa_name(isa);
                }
            }
            ++iter;
        }
}

}  // namespace
}  // namespace edgecnn
