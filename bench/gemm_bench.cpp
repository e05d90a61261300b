// FP32 and BF16 GEMM microbenchmark on the shapes of real CNN layers (1x1 convolutions in NHWC:
// M = pixels, K = Cin, N = Cout), with the fused bias + Relu epilogue a Conv has.
// Counters (rates, hence the "/s" Google Benchmark appends): GFLOP (2*M*N*K per run, so
// "GFLOP=230/s" reads 230 GFLOP/s) and pct_peak, the share of one core's FP32 peak
// (EDGECNN_PEAK_GFLOPS, default 260 = Zen 5 at 4.1 GHz, two 512-bit FMA pipes) — for runs
// on 2 threads pct_peak is still relative to ONE core. 1-thread rates use CPU time, 2-thread
// rates wall time.
//
//   edgecnn_gemm_bench [--benchmark_filter=avx512.*resnet] [--benchmark_repetitions=5
//                       --benchmark_report_aggregates_only=true]
// On a shared machine quote the `_median` rows of repeated runs. gemm_bf16/ rows (where the
// CPU has AVX512-BF16) count the same FLOPs against the same FP32 peak, so pct_peak up to
// 200 is possible there: compare them with the gemm_f32/avx512 row of the same shape.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/cpu_features.hpp"
#include "base/thread_pool.hpp"
#include "kernels/gemm/gemm_bf16.hpp"
#include "kernels/gemm/gemm_f32.hpp"

using namespace edgecnn;

namespace {

struct Shape {
    const char* name;
    int64_t M, K, N;
};

const Shape kShapes[] = {
    {"resnet50_conv2_1x1", 3136, 64, 256},   {"resnet50_conv3_1x1", 784, 128, 512},
    {"resnet50_conv4_1x1", 196, 256, 1024},  {"resnet50_conv5_1x1", 49, 2048, 512},
    {"mobilenet_v2_first", 12544, 32, 16},   {"mobilenet_v2_proj24", 3136, 144, 24},
    {"mobilenet_v2_proj64", 196, 384, 64},   {"square_512", 512, 512, 512},
    // lraspp_mobilenet_v3_large at 520x520: the 16->64 expansion over the whole 260x260 map
    // (17 MB out) and over one band of 8 rows (the working set a fused block would keep).
    {"lraspp_expand_260x260", 67600, 16, 64}, {"lraspp_expand_8rows", 2080, 16, 64},
    // Its 33x33 stage: the 160->960 expansion and the 960->160 projection.
    {"lraspp_expand_33x33", 1089, 160, 960}, {"lraspp_project_33x33", 1089, 960, 160},
};

double peak_gflops() {
    const char* env = std::getenv("EDGECNN_PEAK_GFLOPS");
    return env ? std::atof(env) : 260.0;
}

// Random A, B, bias for `s`; `pack(B)` packs B ([N, K]) and `run(packed, A, C, ep, pool)`
// is one GEMM call with a bias + Relu epilogue, timed; rates as counters.
template <class Pack, class Run>
void time_gemm(benchmark::State& state, Shape s, int threads, Pack&& pack, Run&& run) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    std::vector<float> A(static_cast<size_t>(s.M * s.K)), B(static_cast<size_t>(s.K * s.N)),
        bias(static_cast<size_t>(s.N)), C(static_cast<size_t>(s.M * s.N));
    for (float& v : A) v = dist(rng);
    for (float& v : B) v = dist(rng);
    for (float& v : bias) v = dist(rng);
    const auto packed = pack(B.data());
    std::unique_ptr<ThreadPool> pool = threads > 1 ? std::make_unique<ThreadPool>(threads) : nullptr;
    GemmEpilogue ep;
    ep.bias = bias.data();
    ep.act.kind = Activation::Relu;
    for (auto _ : state) {
        run(packed, A.data(), C.data(), ep, pool.get());
        benchmark::DoNotOptimize(C.data());
        benchmark::ClobberMemory();
    }
    const double flop = 2.0 * double(s.M) * double(s.N) * double(s.K);
    state.counters["GFLOP"] = benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["pct_peak"] =
        benchmark::Counter(flop * 1e-9 * 100.0 / peak_gflops(), benchmark::Counter::kIsIterationInvariantRate);
}

void bm_gemm(benchmark::State& state, Shape s, int threads, Isa isa) {
    set_isa_override(isa);
    if (active_isa() != isa) {
        set_isa_override(std::nullopt);
        state.SkipWithError("ISA not available on this CPU");
        return;
    }
    time_gemm(
        state, s, threads, [&](const float* B) { return pack_gemm_b_f32(B, s.K, s.N, s.K, /*b_is_nk=*/true, isa); },
        [&](const PackedGemmB& p, const float* A, float* C, const GemmEpilogue& ep, ThreadPool* pool) {
            gemm_f32(s.M, A, s.K, p, C, s.N, ep, pool);
        });
    set_isa_override(std::nullopt);
}

void bm_gemm_bf16(benchmark::State& state, Shape s, int threads) {
    if (!bf16_gemm_available()) {
        state.SkipWithError("no AVX512-BF16 on this CPU");
        return;
    }
    time_gemm(
        state, s, threads, [&](const float* B) { return pack_gemm_b_bf16(B, s.K, s.N, s.K, /*b_is_nk=*/true); },
        [&](const PackedGemmBBf16& p, const float* A, float* C, const GemmEpilogue& ep, ThreadPool* pool) {
            gemm_bf16(s.M, A, s.K, p, C, s.N, ep, pool);
        });
}

}  // namespace

int main(int argc, char** argv) {
    for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Scalar})
        for (const Shape& s : kShapes)
            for (int threads : {1, 2}) {
                const std::string name = std::string("gemm_f32/") + isa_name(isa) + "/" + s.name + "_M" +
                                         std::to_string(s.M) + "_K" + std::to_string(s.K) + "_N" +
                                         std::to_string(s.N) + "/threads:" + std::to_string(threads);
                auto* b = benchmark::RegisterBenchmark(name.c_str(), bm_gemm, s, threads, isa);
                b->Unit(benchmark::kMicrosecond)->MinTime(0.2);
                // One thread: rates from the thread's CPU time, which holds up while other
                // processes share the cores. Two threads: wall time (the caller's CPU time
                // would miss the worker's share).
                if (threads > 1) b->UseRealTime();
            }
    for (const Shape& s : kShapes)
        for (int threads : {1, 2}) {
            const std::string name = std::string("gemm_bf16/avx512bf16/") + s.name + "_M" + std::to_string(s.M) +
                                     "_K" + std::to_string(s.K) + "_N" + std::to_string(s.N) +
                                     "/threads:" + std::to_string(threads);
            auto* b = benchmark::RegisterBenchmark(name.c_str(), bm_gemm_bf16, s, threads);
            b->Unit(benchmark::kMicrosecond)->MinTime(0.2);
            if (threads > 1) b->UseRealTime();
        }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
