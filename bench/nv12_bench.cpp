// NV12 camera frame → model input: the fused pass (conversion + bilinear resize +
// normalisation) for 1920x1080 → 256x256 (and 640x480 → 520x520), on each ISA level, and
// the per-pixel float reference for scale.
//   build/bench/edgecnn_nv12_bench
#include <benchmark/benchmark.h>

#include <random>

#include "base/cpu_features.hpp"
#include "vision/nv12.hpp"

using namespace edgecnn;
using namespace edgecnn::vision;

namespace {
YuvImage frame(int w, int h) {
    YuvImage f;
    f.width = w;
    f.height = h;
    f.data.resize(YuvImage::frame_bytes(w, h));
    std::mt19937 rng(1);
    for (auto& b : f.data) b = uint8_t(rng() & 0xff);
    return f;
}

void BM_Nv12Fused(benchmark::State& st) {
    const Isa isa = Isa(st.range(0));
    bool have = false;
    for (Isa i : supported_isas()) have = have || i == isa;
    if (!have) {
        st.SkipWithError("ISA not available on this CPU");
        return;
    }
    set_isa_override(isa);
    YuvImage f = frame(int(st.range(1)), int(st.range(2)));
    Preprocess p;
    p.mean = {0.485f, 0.456f, 0.406f};
    p.std = {0.229f, 0.224f, 0.225f};
    Shape s{1, 3, st.range(4), st.range(3)};
    for (auto _ : st) benchmark::DoNotOptimize(yuv_to_tensor(f, p, s).tensor.raw());
    set_isa_override(std::nullopt);
    st.SetLabel(isa_name(isa));
    st.counters["out_px_per_s"] = benchmark::Counter(double(st.range(3) * st.range(4)), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Nv12Reference(benchmark::State& st) {
    YuvImage f = frame(1920, 1080);
    Preprocess p;
    Geometry g = make_geometry(1920, 1080, 256, 256, ResizeMode::Stretch);
    std::vector<float> out(3 * 256 * 256);
    for (auto _ : st) {
        for (int c = 0; c < 3; ++c)
            for (int y = 0; y < 256; ++y)
                for (int x = 0; x < 256; ++x) out[size_t((c * 256 + y) * 256 + x)] = yuv_reference_sample(f, p, g, x, y, c, 3);
        benchmark::DoNotOptimize(out.data());
    }
}
}  // namespace

// Args: ISA, frame W, frame H, tensor W, tensor H.
BENCHMARK(BM_Nv12Fused)
    ->Args({int(Isa::Scalar), 1920, 1080, 256, 256})
    ->Args({int(Isa::Avx2), 1920, 1080, 256, 256})
    ->Args({int(Isa::Avx2), 640, 480, 520, 520})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Nv12Reference)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
