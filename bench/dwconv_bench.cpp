// Depthwise NHWC convolution microbenchmarks on the layer shapes of mobilenet_v2/v3 and
// efficientnet_b0, at 1 and 2 threads, per ISA level. Counters: GFLOP/s (2 * MACs, taps in
// padding included, as the effective-throughput convention of issue 3) and GB/s (input +
// output + packed weights, each touched once).
//
//   dwconv_bench --benchmark_filter='Dw/.*isa:2' --benchmark_repetitions=5
//                --benchmark_report_aggregates_only=true    (one line)
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <vector>

#include "base/cpu_features.hpp"
#include "base/thread_pool.hpp"
#include "kernels/depthwise/dwconv_f32.hpp"
#include "kernels/int8/dwconv_u8s8.hpp"

namespace {

using namespace edgecnn;

struct Shape {
    const char* name;
    int64_t h, w, c, k, s;
    Activation act;
};

// Input sizes; padding is k/2 on every side ("same" as torchvision exports).
const Shape kShapes[] = {
    {"mbv2_112x112x32_k3s1", 112, 112, 32, 3, 1, Activation::Clip},
    {"mbv2_112x112x96_k3s2", 112, 112, 96, 3, 2, Activation::Clip},
    {"mbv2_56x56x144_k3s1", 56, 56, 144, 3, 1, Activation::Clip},
    {"mbv2_56x56x144_k3s2", 56, 56, 144, 3, 2, Activation::Clip},
    {"mbv2_28x28x192_k3s1", 28, 28, 192, 3, 1, Activation::Clip},
    {"mbv2_14x14x576_k3s1", 14, 14, 576, 3, 1, Activation::Clip},
    {"mbv2_7x7x960_k3s1", 7, 7, 960, 3, 1, Activation::Clip},
    {"mbv3_56x56x72_k5s2", 56, 56, 72, 5, 2, Activation::Relu},
    {"effb0_28x28x240_k5s1", 28, 28, 240, 5, 1, Activation::Silu},
    {"mbv3_14x14x576_k5s1", 14, 14, 576, 5, 1, Activation::HardSwish},
    {"mbv3_7x7x960_k5s1", 7, 7, 960, 5, 1, Activation::HardSwish},
    {"effb0_7x7x1152_k5s1", 7, 7, 1152, 5, 1, Activation::Silu},
    // lraspp_mobilenet_v3_large at 520x520 (segmentation): the large maps of issue 7's stream.
    {"lraspp_260x260x16_k3s1", 260, 260, 16, 3, 1, Activation::Relu},
    {"lraspp_260x260x64_k3s2", 260, 260, 64, 3, 2, Activation::Relu},
    {"lraspp_130x130x72_k5s2", 130, 130, 72, 5, 2, Activation::Relu},
    {"lraspp_65x65x120_k5s1", 65, 65, 120, 5, 1, Activation::Relu},
    {"lraspp_33x33x672_k5s1", 33, 33, 672, 5, 1, Activation::HardSwish},
    {"lraspp_33x33x960_k5s1", 33, 33, 960, 5, 1, Activation::HardSwish},
};

void BM_Dw(benchmark::State& state) {
    const Shape& s = kShapes[state.range(0)];
    const int threads = int(state.range(1));
    const Isa isa = Isa(state.range(2));
    set_isa_override(isa);
    if (active_isa() != isa) {
        state.SkipWithError("ISA not available");
        set_isa_override(std::nullopt);
        return;
    }
    DwConvParams p;
    p.h = s.h, p.w = s.w, p.c = s.c, p.kh = p.kw = s.k;
    p.stride_h = p.stride_w = s.s;
    p.pad_t = p.pad_l = p.pad_b = p.pad_r = s.k / 2;
    p.out_h = dwconv_out_size(s.h, s.k, s.s, 1, p.pad_t, p.pad_b);
    p.out_w = dwconv_out_size(s.w, s.k, s.s, 1, p.pad_l, p.pad_r);
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    std::vector<float> x(static_cast<size_t>(s.h * s.w * s.c)), w(static_cast<size_t>(s.c * s.k * s.k)),
        b(static_cast<size_t>(s.c)), y(static_cast<size_t>(p.out_h * p.out_w * s.c));
    for (auto* v : {&x, &w, &b})
        for (auto& e : *v) e = d(rng);
    const DwConvPacked packed = pack_dwconv_f32(w.data(), b.data(), s.c, s.k, s.k);
    ActivationParams act{s.act, 0.f, 6.f};
    std::unique_ptr<ThreadPool> pool = threads > 1 ? std::make_unique<ThreadPool>(threads) : nullptr;
    for (auto _ : state) {
        dwconv_f32_nhwc(p, x.data(), packed, y.data(), act, pool.get());
        benchmark::ClobberMemory();
    }
    const double macs = double(p.out_h * p.out_w * s.c * s.k * s.k);
    const double bytes = 4.0 * double(x.size() + y.size() + packed.weights.size() + packed.bias.size());
    state.counters["GFLOP/s"] =
        benchmark::Counter(2 * macs * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
    state.SetLabel(std::string(s.name) + " " + isa_name(isa));
    set_isa_override(std::nullopt);
}

void args(benchmark::internal::Benchmark* b) {
    b->ArgNames({"shape", "threads", "isa"});
    const int n = int(sizeof kShapes / sizeof kShapes[0]);
    for (int isa : {int(Isa::Avx512), int(Isa::Avx2)})
        for (int t : {1, 2})
            for (int i = 0; i < n; ++i) b->Args({i, t, isa});
    b->Args({0, 1, int(Isa::Scalar)});
    b->Args({9, 1, int(Isa::Scalar)});
}

BENCHMARK(BM_Dw)->Name("Dw")->Apply(args)->UseRealTime()->Unit(benchmark::kMicrosecond);

// The int8 kernel (dwconv_u8s8) on the same shapes, 1 thread: uint8 input with a zero
// point, int8 weights, requantized to uint8 with a Relu6-like clamp.
void BM_DwU8(benchmark::State& state) {
    const Shape& s = kShapes[state.range(0)];
    const Isa isa = Isa(state.range(1));
    set_isa_override(isa);
    if (active_isa() != isa) {
        state.SkipWithError("ISA not available");
        set_isa_override(std::nullopt);
        return;
    }
    QConvShape q;
    q.h = s.h, q.w = s.w, q.c = q.out_c = q.group = s.c, q.kh = q.kw = s.k;
    q.stride_h = q.stride_w = s.s;
    q.pad_t = q.pad_l = q.pad_b = q.pad_r = s.k / 2;
    std::mt19937 rng(1);
    std::uniform_int_distribution<int> u8(0, 255), s8(-127, 127);
    std::vector<uint8_t> x(static_cast<size_t>(s.h * s.w * s.c)), y(static_cast<size_t>(q.out_h() * q.out_w() * s.c));
    std::vector<int8_t> w(static_cast<size_t>(s.c * s.k * s.k));
    std::vector<int32_t> b(static_cast<size_t>(s.c));
    std::vector<float> mult(static_cast<size_t>(s.c), 0.0007f);
    for (auto& e : x) e = uint8_t(u8(rng));
    for (auto& e : w) e = int8_t(s8(rng));
    for (auto& e : b) e = s8(rng) * 10;
    const PackedDwU8S8 packed = pack_dwconv_u8s8(w.data(), b.data(), s.c, s.k, s.k);
    QRequant rq;
    rq.mult = mult.data(), rq.zero = 3, rq.lo = 3, rq.hi = 200;
    for (auto _ : state) {
        dwconv_u8s8_nhwc(q, x.data(), 118, packed, rq, y.data(), nullptr);
        benchmark::ClobberMemory();
    }
    const double macs = double(q.out_h() * q.out_w() * s.c * s.k * s.k);
    state.counters["GMAC/s"] = benchmark::Counter(macs * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
    state.SetLabel(std::string(s.name) + " " + dwconv_u8s8_kernel_name());
    set_isa_override(std::nullopt);
}

void args_u8(benchmark::internal::Benchmark* b) {
    b->ArgNames({"shape", "isa"});
    for (int isa : {int(Isa::Avx512), int(Isa::Avx2)})
        for (int i = 0; i < 7; ++i) b->Args({i, isa});
}

BENCHMARK(BM_DwU8)->Name("DwU8")->Apply(args_u8)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
