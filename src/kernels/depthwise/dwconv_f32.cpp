#include "kernels/depthwise/dwconv_f32.hpp"

#include <algorithm>
#include <tuple>
#include <stdexcept>
#include <string>

#include "base/cpu_features.hpp"
#include "base/thread_pool.hpp"
#include "kernels/depthwise/dwconv_f32_internal.hpp"
#include "kernels/conv_interior.hpp"

namespace edgecnn {

using dwconv_detail::Job;

namespace {

constexpr int64_t kChannelAlign = 16;

void rows_scalar(const Job& j, int64_t n, int64_t oh0, int64_t oh1, int64_t c0, int64_t c1) {
    const DwConvParams& p = j.p;
    const int64_t C = p.c, H = p.h, W = p.w;
    const float* xn = j.x + n * H * W * C;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
        const int64_t ih0 = oh * p.stride_h - p.pad_t;
        float* yrow = j.y + ((n * p.out_h + oh) * p.out_w) * C;
        for (int64_t ow = 0; ow < p.out_w; ++ow) {
            const int64_t iw0 = ow * p.stride_w - p.pad_l;
            float* out = yrow + ow * C;
            for (int64_t ch = c0; ch < c1; ++ch) out[ch] = j.bias[ch];
            for (int64_t ky = 0; ky < p.kh; ++ky) {
                const int64_t ih = ih0 + ky * p.dil_h;
                if (ih < 0 || ih >= H) continue;
                for (int64_t kx = 0; kx < p.kw; ++kx) {
                    const int64_t iw = iw0 + kx * p.dil_w;
                    if (iw < 0 || iw >= W) continue;
                    const float* in = xn + (ih * W + iw) * C;
                    const float* wt = j.w + (ky * p.kw + kx) * j.c_pad;
                    for (int64_t ch = c0; ch < c1; ++ch) out[ch] += in[ch] * wt[ch];
                }
            }
            if (j.act.kind != Activation::None)
                for (int64_t ch = c0; ch < c1; ++ch) out[ch] = apply_activation(out[ch], j.act);
        }
    }
}

using RowsFn = void (*)(const Job&, int64_t, int64_t, int64_t, int64_t, int64_t);

// Splits (batch, output rows, channel groups) into tasks: enough for the claim-one-at-a-
// time pool to balance (about 4 per thread), rows first; channel groups (multiples of 16
// channels) only when the map is too short to give every thread rows (7x7x960 and such).
void run_tasks(const Job& j, RowsFn rows, ThreadPool* pool) {
    const DwConvParams& p = j.p;
    const int threads = pool ? pool->size() : 1;
    if (threads <= 1) {
        for (int64_t n = 0; n < p.n; ++n) rows(j, n, 0, p.out_h, 0, p.c);
        return;
    }
    const int64_t want = int64_t(threads) * 4;
    const int64_t total_rows = p.n * p.out_h;
    int64_t row_blocks_per_image, rows_per_task, groups = 1, ch_per_group = p.c;
    if (total_rows >= want) {
        row_blocks_per_image = std::max<int64_t>(1, (want + p.n - 1) / p.n);
        rows_per_task = (p.out_h + row_blocks_per_image - 1) / row_blocks_per_image;
    } else {
        rows_per_task = 1;
        const int64_t blocks16 = (p.c + kChannelAlign - 1) / kChannelAlign;
        groups = std::min(blocks16, (want + total_rows - 1) / total_rows);
        ch_per_group = ((blocks16 + groups - 1) / groups) * kChannelAlign;
        groups = (p.c + ch_per_group - 1) / ch_per_group;
    }
    row_blocks_per_image = (p.out_h + rows_per_task - 1) / rows_per_task;
    const int64_t tasks = p.n * row_blocks_per_image * groups;
    pool->parallel_for(tasks, [&](int64_t t) {
        const int64_t g = t % groups;
        const int64_t rb = (t / groups) % row_blocks_per_image;
        const int64_t n = t / (groups * row_blocks_per_image);
        const int64_t oh0 = rb * rows_per_task, oh1 = std::min(p.out_h, oh0 + rows_per_task);
        const int64_t c0 = g * ch_per_group, c1 = std::min(p.c, c0 + ch_per_group);
        rows(j, n, oh0, oh1, c0, c1);
    });
}

void check(const DwConvParams& p, const DwConvPacked& packed) {
    if (p.n < 0 || p.h <= 0 || p.w <= 0 || p.c <= 0 || p.kh <= 0 || p.kw <= 0 || p.stride_h <= 0 ||
        p.stride_w <= 0 || p.dil_h <= 0 || p.dil_w <= 0 || p.pad_t < 0 || p.pad_l < 0 || p.out_h < 0 ||
        p.out_w < 0)
        throw std::invalid_argument("dwconv_f32_nhwc: invalid parameters");
    if (packed.c != p.c || packed.kh != p.kh || packed.kw != p.kw)
        throw std::invalid_argument("dwconv_f32_nhwc: packed weights are for c=" + std::to_string(packed.c) +
                                    " " + std::to_string(packed.kh) + "x" + std::to_string(packed.kw) +
                                    ", called with c=" + std::to_string(p.c) + " " + std::to_string(p.kh) +
                                    "x" + std::to_string(p.kw));
}

Job make_job(const DwConvParams& p, const float* x, const DwConvPacked& packed, float* y,
             const ActivationParams& act, const float* zero_row) {
    Job j{p, x, packed.weights.data(), packed.bias.data(), packed.c_pad, y, zero_row, act, 0, 0};
    std::tie(j.ow_lo, j.ow_hi) = conv_interior_columns(p.w, p.kw, p.stride_w, p.dil_w, p.pad_l, p.out_w);
    return j;
}

}  // namespace

DwConvPacked pack_dwconv_f32(const float* w, const float* bias, int64_t c, int64_t kh, int64_t kw) {
    DwConvPacked r;
    r.c = c;
    r.kh = kh;
    r.kw = kw;
    r.c_pad = (c + kChannelAlign - 1) / kChannelAlign * kChannelAlign;
    r.weights.assign(static_cast<size_t>(kh * kw * r.c_pad), 0.f);
    r.bias.assign(static_cast<size_t>(r.c_pad), 0.f);
    for (int64_t ch = 0; ch < c; ++ch) {
        for (int64_t t = 0; t < kh * kw; ++t) r.weights[static_cast<size_t>(t * r.c_pad + ch)] = w[ch * kh * kw + t];
        if (bias) r.bias[static_cast<size_t>(ch)] = bias[ch];
    }
    return r;
}

void dwconv_f32_nhwc_scalar(const DwConvParams& p, const float* x, const DwConvPacked& packed, float* y,
                            const ActivationParams& act, ThreadPool* pool) {
    check(p, packed);
    if (p.n == 0 || p.out_h == 0 || p.out_w == 0) return;
    const Job j = make_job(p, x, packed, y, act, nullptr);
    run_tasks(j, rows_scalar, pool);
}

void dwconv_f32_nhwc(const DwConvParams& p, const float* x, const DwConvPacked& packed, float* y,
                     const ActivationParams& act, ThreadPool* pool) {
    check(p, packed);
    if (p.n == 0 || p.out_h == 0 || p.out_w == 0) return;
    RowsFn rows = rows_scalar;
#if defined(__x86_64__) || defined(__i386__)
    const Isa isa = active_isa();
    if (p.kh <= 64) {
        if (isa == Isa::Avx512) rows = dwconv_detail::rows_avx512;
        else if (isa == Isa::Avx2) rows = dwconv_detail::rows_avx2;
    }
#elif defined(__aarch64__)
    if (p.kh <= 64 && is_neon(active_isa())) rows = dwconv_detail::rows_neon;
#endif
    // Rows above/below the image read this instead of branching per tap. The caller's
    // thread owns it; workers only read it while the caller waits in parallel_for.
    thread_local std::vector<float> zeros;
    const size_t row = static_cast<size_t>(p.w * p.c);
    if (rows != rows_scalar && zeros.size() < row) zeros.assign(row, 0.f);
    const Job j = make_job(p, x, packed, y, act, zeros.data());
    run_tasks(j, rows, pool);
}

}  // namespace edgecnn
