#include "kernels/direct/conv_small_cin_f32.hpp"

#include <algorithm>
#include <tuple>
#include <stdexcept>
#include <string>

#include "base/cpu_features.hpp"
#include "base/thread_pool.hpp"
#include "kernels/direct/conv_small_cin_f32_internal.hpp"
#include "kernels/conv_interior.hpp"

namespace edgecnn {

using small_cin_detail::Job;

namespace {

constexpr int64_t kChannelAlign = 16;

// The plain loops every vector kernel is tested against: each tap checked against the image.
void rows_scalar(const Job& j, int64_t n, int64_t oh0, int64_t oh1) {
    const ConvSmallCinParams& p = j.p;
    const float* xn = j.x + n * j.simg;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
        const int64_t ih0 = oh * p.stride_h - p.pad_t;
        for (int64_t ow = 0; ow < p.out_w; ++ow) {
            const int64_t iw0 = ow * p.stride_w - p.pad_l;
            const int64_t o = ((n * p.out_h + oh) * p.out_w + ow) * p.c_out;
            float* out = j.y + o;
            for (int64_t co = 0; co < p.c_out; ++co) {
                float acc = 0.f;
                for (int64_t ky = 0; ky < p.kh; ++ky) {
                    const int64_t ih = ih0 + ky * p.dil_h;
                    if (ih < 0 || ih >= p.h) continue;
                    for (int64_t kx = 0; kx < p.kw; ++kx) {
                        const int64_t iw = iw0 + kx * p.dil_w;
                        if (iw < 0 || iw >= p.w) continue;
                        const float* in = xn + ih * j.sr + iw * j.sx;
                        const float* wt = j.w + ((ky * p.kw + kx) * p.c_in) * j.c_pad + co;
                        for (int64_t ci = 0; ci < p.c_in; ++ci) acc += in[ci * j.sc] * wt[ci * j.c_pad];
                    }
                }
                acc += j.bias[co];
                if (j.r) acc += j.r[o + co];
                out[co] = apply_activation(acc, j.act);
            }
        }
    }
}

using RowsFn = void (*)(const Job&, int64_t, int64_t, int64_t);

// (batch, output rows) in about 4 tasks per thread, so the claim-one-at-a-time pool balances.
void run_tasks(const Job& j, RowsFn rows, ThreadPool* pool) {
    const ConvSmallCinParams& p = j.p;
    const int threads = pool ? pool->size() : 1;
    if (threads <= 1) {
        for (int64_t n = 0; n < p.n; ++n) rows(j, n, 0, p.out_h);
        return;
    }
    const int64_t want = int64_t(threads) * 4;
    const int64_t blocks_per_image = std::min(p.out_h, std::max<int64_t>(1, (want + p.n - 1) / p.n));
    const int64_t rows_per_task = (p.out_h + blocks_per_image - 1) / blocks_per_image;
    const int64_t blocks = (p.out_h + rows_per_task - 1) / rows_per_task;
    pool->parallel_for(p.n * blocks, [&](int64_t t) {
        const int64_t n = t / blocks, oh0 = (t % blocks) * rows_per_task;
        rows(j, n, oh0, std::min(p.out_h, oh0 + rows_per_task));
    });
}

void check(const ConvSmallCinParams& p, const ConvSmallCinPacked& packed) {
    if (p.n < 0 || p.h <= 0 || p.w <= 0 || p.c_in <= 0 || p.c_out <= 0 || p.kh <= 0 || p.kw <= 0 ||
        p.stride_h <= 0 || p.stride_w <= 0 || p.dil_h <= 0 || p.dil_w <= 0 || p.pad_t < 0 || p.pad_l < 0 ||
        p.out_h < 0 || p.out_w < 0)
        throw std::invalid_argument("conv_small_cin_f32: invalid parameters");
    if (p.c_in > kConvSmallCinMax)
        throw std::invalid_argument("conv_small_cin_f32: c_in=" + std::to_string(p.c_in) + " exceeds " +
                                    std::to_string(kConvSmallCinMax));
    if (packed.c_in != p.c_in || packed.c_out != p.c_out || packed.kh != p.kh || packed.kw != p.kw)
        throw std::invalid_argument(
            std::string("conv_small_cin_f32: packed weights are for ") + std::to_string(packed.c_out) + "x" +
            std::to_string(packed.c_in) + "x" + std::to_string(packed.kh) + "x" + std::to_string(packed.kw) +
            ", called with " + std::to_string(p.c_out) + "x" + std::to_string(p.c_in) + "x" +
            std::to_string(p.kh) + "x" + std::to_string(p.kw));
}

// tap_off must hold kw*c_in entries and outlive the call.
Job make_job(const ConvSmallCinParams& p, const float* x, const ConvSmallCinPacked& packed, float* y,
             const float* residual, const ActivationParams& act, int64_t* tap_off) {
    Job j{};
    j.p = p, j.x = x, j.w = packed.weights.data(), j.bias = packed.bias.data(), j.c_pad = packed.c_pad;
    j.y = y, j.r = residual, j.act = act;
    if (p.nchw_input) j.sx = 1, j.sc = p.h * p.w, j.sr = p.w, j.simg = p.c_in * p.h * p.w;
    else j.sx = p.c_in, j.sc = 1, j.sr = p.w * p.c_in, j.simg = p.h * p.w * p.c_in;
    j.contiguous = true;
    for (int64_t kx = 0; kx < p.kw; ++kx)
        for (int64_t ci = 0; ci < p.c_in; ++ci) {
            const int64_t t = kx * p.c_in + ci;
            tap_off[t] = kx * p.dil_w * j.sx + ci * j.sc;
            j.contiguous = j.contiguous && tap_off[t] == t;
        }
    j.tap_off = tap_off;
    std::tie(j.ow_lo, j.ow_hi) = conv_interior_columns(p.w, p.kw, p.stride_w, p.dil_w, p.pad_l, p.out_w);
    return j;
}

void run(const ConvSmallCinParams& p, const float* x, const ConvSmallCinPacked& packed, float* y,
         const float* residual, const ActivationParams& act, ThreadPool* pool, RowsFn rows) {
    // Grows once per thread (plans allocate nothing per run); the caller's thread owns it
    // and workers only read it while the caller waits in parallel_for.
    thread_local std::vector<int64_t> tap_off;
    if (tap_off.size() < static_cast<size_t>(p.kw * p.c_in)) tap_off.resize(static_cast<size_t>(p.kw * p.c_in));
    const Job j = make_job(p, x, packed, y, residual, act, tap_off.data());
    run_tasks(j, rows, pool);
}

}  // namespace

ConvSmallCinPacked pack_conv_small_cin_f32(const float* w, const float* bias, int64_t c_out, int64_t c_in,
                                           int64_t kh, int64_t kw) {
    ConvSmallCinPacked r;
    r.c_in = c_in, r.c_out = c_out, r.kh = kh, r.kw = kw;
    r.c_pad = (c_out + kChannelAlign - 1) / kChannelAlign * kChannelAlign;
    r.weights.assign(static_cast<size_t>(kh * kw * c_in * r.c_pad), 0.f);
    r.bias.assign(static_cast<size_t>(r.c_pad), 0.f);
    for (int64_t co = 0; co < c_out; ++co) {
        for (int64_t ci = 0; ci < c_in; ++ci)
            for (int64_t ky = 0; ky < kh; ++ky)
                for (int64_t kx = 0; kx < kw; ++kx)
                    r.weights[static_cast<size_t>(((ky * kw + kx) * c_in + ci) * r.c_pad + co)] =
                        w[((co * c_in + ci) * kh + ky) * kw + kx];
        if (bias) r.bias[static_cast<size_t>(co)] = bias[co];
    }
    return r;
}

void conv_small_cin_f32_scalar(const ConvSmallCinParams& p, const float* x, const ConvSmallCinPacked& packed,
                               float* y, const float* residual, const ActivationParams& act, ThreadPool* pool) {
    check(p, packed);
    if (p.n == 0 || p.out_h == 0 || p.out_w == 0) return;
    run(p, x, packed, y, residual, act, pool, rows_scalar);
}

void conv_small_cin_f32(const ConvSmallCinParams& p, const float* x, const ConvSmallCinPacked& packed, float* y,
                        const float* residual, const ActivationParams& act, ThreadPool* pool) {
    check(p, packed);
    if (p.n == 0 || p.out_h == 0 || p.out_w == 0) return;
    RowsFn rows = rows_scalar;
#if defined(__x86_64__) || defined(__i386__)
    const Isa isa = active_isa();
    if (isa == Isa::Avx512) rows = small_cin_detail::rows_avx512;
    else if (isa == Isa::Avx2) rows = small_cin_detail::rows_avx2;
#elif defined(__aarch64__)
    if (is_neon(active_isa())) rows = small_cin_detail::rows_neon;
#endif
    run(p, x, packed, y, residual, act, pool, rows);
}

}  // namespace edgecnn
