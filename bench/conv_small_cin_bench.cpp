// Small-Cin direct convolution (network stems) microbenchmarks, per ISA level, 1 and 2
// threads, NHWC or NCHW input. GFLOP/s counts 2 * MACs of every tap (padding included).
// The GEMM path it replaces is measured end to end instead: `edgecnn profile` with
// EDGECNN_NO_DIRECT_CONV=1.
//
//   edgecnn_conv_small_cin_bench --benchmark_filter='Stem/.*isa:2' --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/cpu_features.hpp"
#include "base/thread_pool.hpp"
#include "kernels/direct/conv_small_cin_f32.hpp"

namespace {

using namespace edgecnn;

struct Shape {
    const char* name;
    int64_t h, w, cin, cout, k, s, pad;
    Activation act;
};

const Shape kShapes[] = {
    {"lraspp_520_3to16_k3s2", 520, 520, 3, 16, 3, 2, 1, Activation::HardSwish},
    {"mbv3_224_3to16_k3s2", 224, 224, 3, 16, 3, 2, 1, Activation::HardSwish},
    {"mbv2_224_3to32_k3s2", 224, 224, 3, 32, 3, 2, 1, Activation::Clip},
    {"resnet_224_3to64_k7s2", 224, 224, 3, 64, 7, 2, 3, Activation::Relu},
    {"squeezenet_224_3to64_k3s2", 224, 224, 3, 64, 3, 2, 0, Activation::Relu},
    {"cin6_56_6to128_k3s1", 56, 56, 6, 128, 3, 1, 1, Activation::Relu},  // wider: two channel passes
    {"cin8_160_8to64_k3s2", 160, 160, 8, 64, 3, 2, 1, Activation::Relu},
};

void BM_Stem(benchmark::State& state) {
    const Shape& s = kShapes[state.range(0)];
    const int threads = int(state.range(1));
    const Isa isa = Isa(state.range(2));
    const bool nchw = state.range(3) != 0;
    set_isa_override(isa);
    if (active_isa() != isa) {
        state.SkipWithError("ISA not available");
        set_isa_override(std::nullopt);
        return;
    }
    ConvSmallCinParams p;
    p.h = s.h, p.w = s.w, p.c_in = s.cin, p.c_out = s.cout, p.kh = p.kw = s.k;
    p.stride_h = p.stride_w = s.s;
    p.pad_t = p.pad_l = p.pad_b = p.pad_r = s.pad;
    p.out_h = (s.h + 2 * s.pad - s.k) / s.s + 1;
    p.out_w = (s.w + 2 * s.pad - s.k) / s.s + 1;
    p.nchw_input = nchw;
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    std::vector<float> x(static_cast<size_t>(s.h * s.w * s.cin)), w(static_cast<size_t>(s.cout * s.cin * s.k * s.k)),
        b(static_cast<size_t>(s.cout)), y(static_cast<size_t>(p.out_h * p.out_w * s.cout));
    for (auto* v : {&x, &w, &b})
        for (auto& e : *v) e = d(rng);
    const ConvSmallCinPacked packed = pack_conv_small_cin_f32(w.data(), b.data(), s.cout, s.cin, s.k, s.k);
    const ActivationParams act{s.act, 0.f, 6.f};
    std::unique_ptr<ThreadPool> pool = threads > 1 ? std::make_unique<ThreadPool>(threads) : nullptr;
    for (auto _ : state) {
        conv_small_cin_f32(p, x.data(), packed, y.data(), nullptr, act, pool.get());
        benchmark::ClobberMemory();
    }
    const double macs = double(p.out_h * p.out_w * s.cout * s.cin * s.k * s.k);
    state.counters["GFLOP/s"] =
        benchmark::Counter(2 * macs * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
    state.SetLabel(std::string(s.name) + " " + isa_name(isa) + (nchw ? " nchw" : " nhwc"));
    set_isa_override(std::nullopt);
}

void args(benchmark::internal::Benchmark* b) {
    b->ArgNames({"shape", "threads", "isa", "nchw"});
    const int n = int(sizeof kShapes / sizeof kShapes[0]);
    for (int isa : {int(Isa::Avx512), int(Isa::Avx2), int(Isa::Neon)})
        for (int t : {1, 2})
            for (int nchw : {0, 1})
                for (int i = 0; i < n; ++i) b->Args({i, t, isa, nchw});
    b->Args({1, 1, int(Isa::Scalar), 0});
}

BENCHMARK(BM_Stem)->Name("Stem")->Apply(args)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
