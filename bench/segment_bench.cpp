// The segmentation stream's per-frame CPU work outside inference, for lraspp at 520x520 on
// 640x480 frames: the argmax over 21 class planes (each ISA level, and the earlier
// whole-map plane-by-plane loop for comparison), the colour overlay, and the preprocessing
// (bilinear resize + normalise, on 1 and 2 threads), and the model's last step: the 8x
// bilinear upsampling of 21x65x65 logits to 520x520 followed by the argmax, as two passes
// (resize2d_f32 writes the 23 MB map, the argmax reads it) and fused (resize2d_argmax_f32,
// what `--task segment` runs since it appends the ArgMax to the model).
//   build/bench/edgecnn_segment_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>

#include "base/cpu_features.hpp"
#include "base/thread_pool.hpp"
#include "kernels/resize/resize_f32.hpp"
#include "vision/draw.hpp"
#include "vision/postprocess/segment.hpp"
#include "vision/preprocess.hpp"

using namespace edgecnn;
using namespace edgecnn::vision;

namespace {
constexpr int64_t K = 21, H = 520, W = 520;

Tensor scores() {
    Tensor t(DType::F32, Shape{1, K, H, W});
    std::mt19937 rng(1);
    std::normal_distribution<float> d(0.f, 2.f);
    float* x = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) x[i] = d(rng);
    return t;
}

bool have(Isa isa) {
    for (Isa i : supported_isas())
        if (i == isa) return true;
    return false;
}

void BM_SegmentArgmax(benchmark::State& st) {
    const Isa isa = Isa(st.range(0));
    if (!have(isa)) {
        st.SkipWithError("ISA not available on this CPU");
        return;
    }
    set_isa_override(isa);
    Tensor t = scores();
    for (auto _ : st) benchmark::DoNotOptimize(segment_labels(t, true, 0.5f).labels.data());
    set_isa_override(std::nullopt);
}
BENCHMARK(BM_SegmentArgmax)->Arg(int(Isa::Scalar))->Arg(int(Isa::Avx2))->Unit(benchmark::kMillisecond);

// The loop segment_labels used before the blocked kernels: every plane over the whole map,
// so the running best values and labels (2 MB) go through L2/memory K times.
void BM_SegmentArgmaxWholePlanes(benchmark::State& st) {
    Tensor t = scores();
    const float* x = t.data<float>();
    const int64_t hw = H * W;
    std::vector<int> lab(static_cast<size_t>(hw));
    for (auto _ : st) {
        std::vector<float> best(x, x + hw);
        std::fill(lab.begin(), lab.end(), 0);
        for (int64_t k = 1; k < K; ++k) {
            const float* plane = x + k * hw;
            for (int64_t i = 0; i < hw; ++i) {
                const bool better = plane[i] > best[size_t(i)];
                best[size_t(i)] = better ? plane[i] : best[size_t(i)];
                lab[size_t(i)] = better ? int(k) : lab[size_t(i)];
            }
        }
        benchmark::DoNotOptimize(lab.data());
    }
}
BENCHMARK(BM_SegmentArgmaxWholePlanes)->Unit(benchmark::kMillisecond);

void BM_SegmentOverlay640x480(benchmark::State& st) {
    Tensor t = scores();
    LabelMap m = segment_labels(t, true, 0.5f);
    Image photo(640, 480, 3, 100);
    Geometry g = make_geometry(640, 480, int(W), int(H), ResizeMode::Stretch);
    for (auto _ : st) {
        Image img = photo;  // the task draws on a copy of the frame
        overlay_labels(img, m.labels, m.width, m.height, g, 0.5f, 0);
        benchmark::DoNotOptimize(img.pixels.data());
    }
}
BENCHMARK(BM_SegmentOverlay640x480)->Unit(benchmark::kMillisecond);

void BM_Preprocess640x480To520(benchmark::State& st) {
    Image photo(640, 480, 3);
    std::mt19937 rng(2);
    for (auto& b : photo.pixels) b = uint8_t(rng() & 0xff);
    Preprocess p;
    p.mean = {0.485f, 0.456f, 0.406f};
    p.std = {0.229f, 0.224f, 0.225f};
    p.scale = 1.f / 255.f;
    ThreadPool pool(int(st.range(0)));
    for (auto _ : st) benchmark::DoNotOptimize(to_tensor(photo, p, Shape{1, 3, H, W}, &pool).tensor.raw());
}
BENCHMARK(BM_Preprocess640x480To520)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

// The bilinear half_pixel plan of 65x65 -> 520x520 (what the Resize op makes for lraspp).
Resize2dPlan upsample_plan() {
    Resize2dPlan p;
    p.linear = true;
    p.planes = K;
    p.ih = p.iw = 65;
    p.oh = H;
    p.ow = W;
    auto axis = [](int64_t in, int64_t out, std::vector<int32_t>& i0, std::vector<int32_t>& i1, std::vector<float>& w0,
                   std::vector<float>& w1) {
        for (int64_t j = 0; j < out; ++j) {
            const double x = std::max(0.0, (double(j) + 0.5) * double(in) / double(out) - 0.5);
            const int64_t a = std::min<int64_t>(int64_t(x), in - 1), b = std::min<int64_t>(a + 1, in - 1);
            i0.push_back(int32_t(a));
            i1.push_back(int32_t(b));
            w1.push_back(float(x - double(a)));
            w0.push_back(1.f - w1.back());
        }
    };
    axis(65, H, p.y0, p.y1, p.wy0, p.wy1);
    axis(65, W, p.x0, p.x1, p.wx0, p.wx1);
    return p;
}

Tensor logits() {
    Tensor t(DType::F32, Shape{1, K, 65, 65});
    std::mt19937 rng(3);
    std::normal_distribution<float> d(0.f, 2.f);
    float* x = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) x[i] = d(rng);
    return t;
}

void BM_UpsampleThenArgmax65To520(benchmark::State& st) {
    ThreadPool pool(int(st.range(0)));
    const Resize2dPlan p = upsample_plan();
    Tensor x = logits(), y(DType::F32, Shape{1, K, H, W});
    for (auto _ : st) {
        resize2d_f32(p, x.data<float>(), y.data<float>(), &pool);
        benchmark::DoNotOptimize(segment_labels(y, true, 0.5f).labels.data());
    }
}
BENCHMARK(BM_UpsampleThenArgmax65To520)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

void BM_UpsampleArgmaxFused65To520(benchmark::State& st) {
    ThreadPool pool(int(st.range(0)));
    const Resize2dPlan p = upsample_plan();
    Tensor x = logits(), labels(DType::I64, Shape{1, 1, H, W});
    for (auto _ : st) {
        resize2d_argmax_f32(p, K, x.data<float>(), labels.data<int64_t>(), &pool);
        benchmark::DoNotOptimize(labels.raw());
    }
}
BENCHMARK(BM_UpsampleArgmaxFused65To520)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
}  // namespace

BENCHMARK_MAIN();
