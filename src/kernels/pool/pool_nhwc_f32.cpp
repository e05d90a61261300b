#include "kernels/pool/pool_nhwc_f32.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "base/cpu_features.hpp"
#include "base/thread_pool.hpp"
#include "kernels/pool/pool_nhwc_f32_internal.hpp"

namespace edgecnn {

using pool_detail::Kind;

namespace {

int64_t first_in(int64_t start, int64_t d, int64_t lo) { return start >= lo ? 0 : (lo - start + d - 1) / d; }
int64_t end_in(int64_t start, int64_t d, int64_t k, int64_t hi) {
    if (start >= hi) return 0;
    return std::min(k, (hi - 1 - start) / d + 1);
}

void rows_scalar(const PoolNhwcParams& p, Kind kind, const float* x, float* y, int64_t n, int64_t oh0, int64_t oh1) {
    const int64_t C = p.c, W = p.w, H = p.h;
    const float* xn = x + n * H * W * C;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
        const int64_t ih0 = oh * p.stride_h - p.pad_t;
        const int64_t ky0 = first_in(ih0, p.dil_h, 0), ky1 = end_in(ih0, p.dil_h, p.kh, H);
        for (int64_t ow = 0; ow < p.out_w; ++ow) {
            const int64_t iw0 = ow * p.stride_w - p.pad_l;
            const int64_t kx0 = first_in(iw0, p.dil_w, 0), kx1 = end_in(iw0, p.dil_w, p.kw, W);
            float* out = y + ((n * p.out_h + oh) * p.out_w + ow) * C;
            std::fill(out, out + C, kind == Kind::Max ? -std::numeric_limits<float>::infinity() : 0.f);
            for (int64_t ky = ky0; ky < ky1; ++ky)
                for (int64_t kx = kx0; kx < kx1; ++kx) {
                    const float* q = xn + ((ih0 + ky * p.dil_h) * W + iw0 + kx * p.dil_w) * C;
                    if (kind == Kind::Max)
                        for (int64_t c = 0; c < C; ++c) out[c] = std::max(out[c], q[c]);
                    else
                        for (int64_t c = 0; c < C; ++c) out[c] += q[c];
                }
            if (kind == Kind::Max) continue;
            int64_t count = std::max<int64_t>(0, ky1 - ky0) * std::max<int64_t>(0, kx1 - kx0);
            if (kind == Kind::AvgIncludePad) {
                const int64_t a = first_in(ih0, p.dil_h, -p.pad_t), b = end_in(ih0, p.dil_h, p.kh, H + p.pad_b);
                const int64_t c = first_in(iw0, p.dil_w, -p.pad_l), d = end_in(iw0, p.dil_w, p.kw, W + p.pad_r);
                count = std::max<int64_t>(0, b - a) * std::max<int64_t>(0, d - c);
            }
            const float scale = count > 0 ? 1.f / float(count) : 0.f;
            for (int64_t c = 0; c < C; ++c) out[c] *= scale;
        }
    }
}

void global_scalar(bool max, int64_t hw, int64_t C, const float* x, float* y, int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) y[c] = max ? -std::numeric_limits<float>::infinity() : 0.f;
    for (int64_t i = 0; i < hw; ++i) {
        const float* q = x + i * C;
        if (max)
            for (int64_t c = c0; c < c1; ++c) y[c] = std::max(y[c], q[c]);
        else
            for (int64_t c = c0; c < c1; ++c) y[c] += q[c];
    }
    if (!max)
        for (int64_t c = c0; c < c1; ++c) y[c] *= 1.f / float(hw);
}

using RowsFn = void (*)(const PoolNhwcParams&, Kind, const float*, float*, int64_t, int64_t, int64_t);
using GlobalFn = void (*)(bool, int64_t, int64_t, const float*, float*, int64_t, int64_t);

RowsFn pick_rows() {
#if defined(__x86_64__) || defined(__i386__)
    switch (active_isa()) {
        case Isa::Avx512: return pool_detail::rows_avx512;
        case Isa::Avx2: return pool_detail::rows_avx2;
        default: break;
    }
#elif defined(__aarch64__)
    if (is_neon(active_isa())) return pool_detail::rows_neon;
#endif
    return rows_scalar;
}

GlobalFn pick_global() {
#if defined(__x86_64__) || defined(__i386__)
    switch (active_isa()) {
        case Isa::Avx512: return pool_detail::global_avx512;
        case Isa::Avx2: return pool_detail::global_avx2;
        default: break;
    }
#elif defined(__aarch64__)
    if (is_neon(active_isa())) return pool_detail::global_neon;
#endif
    return global_scalar;
}

void run_pool(const PoolNhwcParams& p, Kind kind, const float* x, float* y, ThreadPool* pool) {
    // An empty output (no images, no channels: valid ONNX) has nothing to compute.
    if (p.n >= 0 && p.c >= 0 && p.out_h >= 0 && p.out_w >= 0 && (p.n == 0 || p.c == 0 || p.out_h == 0 || p.out_w == 0))
        return;
    if (p.n < 0 || p.h <= 0 || p.w <= 0 || p.c <= 0 || p.kh <= 0 || p.kw <= 0 || p.stride_h <= 0 ||
        p.stride_w <= 0 || p.dil_h <= 0 || p.dil_w <= 0 || p.pad_t < 0 || p.pad_l < 0 || p.pad_b < 0 ||
        p.pad_r < 0 || p.out_h < 0 || p.out_w < 0)
        throw std::invalid_argument("pool_f32_nhwc: invalid parameters");
    if (p.n == 0 || p.out_h == 0 || p.out_w == 0) return;
    const RowsFn rows = pick_rows();
    const int threads = pool ? pool->size() : 1;
    // Rows per task: about 4 tasks per thread, and at least ~16K output values each.
    const int64_t row_values = p.out_w * p.c;
    int64_t rows_per_task = p.out_h;
    if (threads > 1) {
        const int64_t want = int64_t(threads) * 4;
        const int64_t blocks = std::max<int64_t>(1, (want + p.n - 1) / p.n);
        rows_per_task = std::max((p.out_h + blocks - 1) / blocks, (int64_t(16384) + row_values - 1) / row_values);
        rows_per_task = std::min(rows_per_task, p.out_h);
    }
    const int64_t per_image = (p.out_h + rows_per_task - 1) / rows_per_task;
    auto task = [&](int64_t t) {
        const int64_t n = t / per_image, oh0 = (t % per_image) * rows_per_task;
        rows(p, kind, x, y, n, oh0, std::min(p.out_h, oh0 + rows_per_task));
    };
    if (threads > 1 && p.n * per_image > 1) pool->parallel_for(p.n * per_image, task);
    else
        for (int64_t t = 0; t < p.n * per_image; ++t) task(t);
}

void run_global(bool max, int64_t n, int64_t hw, int64_t c, const float* x, float* y, ThreadPool* pool) {
    if (n >= 0 && c >= 0 && (n == 0 || c == 0)) return;  // empty output
    if (n < 0 || hw <= 0 || c <= 0) throw std::invalid_argument("global_pool_f32_nhwc: invalid shape");
    const GlobalFn fn = pick_global();
    const int threads = pool ? pool->size() : 1;
    // Channel groups of >= 64 (a multiple of 16) when the work is worth splitting.
    int64_t groups = 1;
    if (threads > 1 && n * hw * c >= 32768) {
        const int64_t want = std::max<int64_t>(1, (int64_t(threads) * 4 + n - 1) / n);
        groups = std::max<int64_t>(1, std::min(want, c / 64));
    }
    const int64_t per_group = ((c + groups - 1) / groups + 15) / 16 * 16;
    groups = (c + per_group - 1) / per_group;
    auto task = [&](int64_t t) {
        const int64_t b = t / groups, c0 = (t % groups) * per_group;
        fn(max, hw, c, x + b * hw * c, y + b * c, c0, std::min(c, c0 + per_group));
    };
    if (threads > 1 && n * groups > 1) pool->parallel_for(n * groups, task);
    else
        for (int64_t t = 0; t < n * groups; ++t) task(t);
}

}  // namespace

void maxpool_f32_nhwc(const PoolNhwcParams& p, const float* x, float* y, ThreadPool* pool) {
    run_pool(p, Kind::Max, x, y, pool);
}

void avgpool_f32_nhwc(const PoolNhwcParams& p, const float* x, float* y, bool count_include_pad, ThreadPool* pool) {
    run_pool(p, count_include_pad ? Kind::AvgIncludePad : Kind::Avg, x, y, pool);
}

void global_avgpool_f32_nhwc(int64_t n, int64_t hw, int64_t c, const float* x, float* y, ThreadPool* pool) {
    run_global(false, n, hw, c, x, y, pool);
}

void global_maxpool_f32_nhwc(int64_t n, int64_t hw, int64_t c, const float* x, float* y, ThreadPool* pool) {
    run_global(true, n, hw, c, x, y, pool);
}

}  // namespace edgecnn
