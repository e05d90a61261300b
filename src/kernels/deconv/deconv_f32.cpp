// Deconvolution driver: weight transpose, ISA dispatch, the portable instantiation, the
// generic col2im scatter, the bias pre-fill and the task split.
#include "kernels/deconv/deconv_f32.hpp"

#include <algorithm>
#include <cstring>

#include "base/cpu_features.hpp"
#include "base/thread_pool.hpp"
#include "kernels/deconv/deconv_f32_kernel.inl"

namespace edgecnn {
namespace deconv_detail {
namespace {

// One-lane vectors: the portable path (and what the tests compare the SIMD ones with).
struct VecScalar {
    using V = float;
    using M = int64_t;  // lanes in use: 0 or 1
    static constexpr int kN = 1;
    static V zero() { return 0.f; }
    static V set1(float a) { return a; }
    static V load(const float* p) { return *p; }
    static V load(const float* p, M m) { return m ? *p : 0.f; }
    static void store(float* p, V v) { *p = v; }
    static void store(float* p, V v, M m) {
        if (m) *p = v;
    }
    static M mask(int64_t n) { return n; }
    static V fmadd(V a, V b, V c) { return a * b + c; }
    static V add(V a, V b) { return a + b; }
    static void interleave2(V a, V b, V& lo, V& hi) {
        lo = a;
        hi = b;
    }
};

bool is_exact2(const Deconv2dParams& p) {
    return p.kh == 2 && p.kw == 2 && p.sh == 2 && p.sw == 2 && p.dh == 1 && p.dw == 1 && p.ph == 0 && p.pw == 0 &&
           p.oh == 2 * p.ih && p.ow == 2 * p.iw;
}

DeconvBlockFn block_fn() {
#if defined(__x86_64__) || defined(_M_X64)
    switch (active_isa()) {
        case Isa::Avx512: return deconv_block_avx512;
        case Isa::Avx2: return deconv_block_avx2;
        default: break;
    }
#elif defined(__aarch64__)
    if (is_neon(active_isa())) return deconv_block_neon;
#endif
    return deconv_block_portable;
}

}  // namespace

void deconv_block_portable(const DeconvJob& j, int64_t n, int64_t co0, int64_t co1, int64_t ih0, int64_t ih1) {
    deconv_block<VecScalar, 4, 8>(j, n, co0, co1, ih0, ih1);
}

void scatter_add_tile(const DeconvJob& j, const float* tile, int64_t ld, int64_t n, int64_t m0, int64_t mr, int64_t ih,
                      int64_t iw0, int64_t cnt) {
    const Deconv2dParams& p = j.p;
    const int64_t kk = p.kh * p.kw;
    for (int64_t r = 0; r < mr; ++r) {
        const int64_t m = m0 + r, co = m / kk, khi = (m % kk) / p.kw, kwi = m % p.kw;
        const int64_t oh = ih * p.sh - p.ph + khi * p.dh;
        if (oh < 0 || oh >= p.oh) continue;
        float* yr = j.y + ((n * p.c_out + co) * p.oh + oh) * p.ow;
        const int64_t off = kwi * p.dw - p.pw;  // ow = iw * sw + off
        // Pixels j in [lo, hi) land inside the row.
        int64_t lo = 0, hi = cnt;
        while (lo < hi && (iw0 + lo) * p.sw + off < 0) ++lo;
        while (hi > lo && (iw0 + hi - 1) * p.sw + off >= p.ow) --hi;
        const float* t = tile + r * ld;
        float* yo = yr + iw0 * p.sw + off;
        for (int64_t c = lo; c < hi; ++c) yo[c * p.sw] += t[c];
    }
}

}  // namespace deconv_detail

std::vector<float> deconv2d_f32_transpose_weights(const float* w, int64_t c_in, int64_t c_out, int64_t kh,
                                                  int64_t kw) {
    const int64_t m = c_out * kh * kw;
    std::vector<float> wt(static_cast<size_t>(m * c_in));
    for (int64_t ci = 0; ci < c_in; ++ci)
        for (int64_t r = 0; r < m; ++r) wt[size_t(r * c_in + ci)] = w[ci * m + r];
    return wt;
}

const char* deconv2d_f32_kernel_name(const Deconv2dParams& p) {
    const bool e = deconv_detail::is_exact2(p);
    switch (active_isa()) {
        case Isa::Avx512: return e ? "deconv2x2s2_f32_avx512" : "deconv_col2im_f32_avx512";
        case Isa::Avx2: return e ? "deconv2x2s2_f32_avx2" : "deconv_col2im_f32_avx2";
#if defined(__aarch64__)
        case Isa::Neon:
        case Isa::NeonDot:
        case Isa::NeonI8mm: return e ? "deconv2x2s2_f32_neon" : "deconv_col2im_f32_neon";
#endif
        default: return e ? "deconv2x2s2_f32" : "deconv_col2im_f32";
    }
}

void deconv2d_f32(const Deconv2dParams& p, const float* x, const float* wt, const float* bias, float* y,
                  ThreadPool* pool) {
    using namespace deconv_detail;
    if (p.n <= 0 || p.c_out <= 0 || p.oh <= 0 || p.ow <= 0) return;
    DeconvJob j;
    j.p = p;
    j.x = x;
    j.wt = wt;
    j.bias = bias;
    j.y = y;
    j.exact2 = is_exact2(p);
    const int threads = pool ? pool->size() : 1;
    auto run = [&](int64_t tasks, auto&& fn) {
        if (pool && tasks > 1) pool->parallel_for(tasks, fn);
        else
            for (int64_t t = 0; t < tasks; ++t) fn(t);
    };
    const int64_t out_plane = p.oh * p.ow;
    if (!j.exact2) {
        // Y starts as the bias; the tiles add into it.
        run(p.n * p.c_out, [&](int64_t t) {
            std::fill_n(y + t * out_plane, out_plane, bias ? bias[t % p.c_out] : 0.f);
        });
    }
    if (p.ih <= 0 || p.iw <= 0) return;
    const DeconvBlockFn fn = block_fn();
    // Different input rows never write the same output row when the vertical stride
    // covers the dilated kernel height.
    const bool disjoint = p.sh >= (p.kh - 1) * p.dh + 1;
    const int64_t macs_per_row = p.c_out * p.kh * p.kw * p.c_in * p.iw;
    if (disjoint) {
        // Blocks of input rows: several tasks per thread, each at least ~100k MACs.
        int64_t rows = std::max<int64_t>(1, 100000 / std::max<int64_t>(1, macs_per_row));
        if (threads > 1) rows = std::min(rows, std::max<int64_t>(1, p.n * p.ih / (4 * threads)));
        rows = std::min(rows, p.ih);
        const int64_t blocks = (p.ih + rows - 1) / rows;
        run(p.n * blocks, [&](int64_t t) {
            const int64_t n = t / blocks, b = t % blocks;
            fn(j, n, 0, p.c_out, b * rows, std::min(p.ih, (b + 1) * rows));
        });
    } else {
        // Overlapping taps: tasks own whole output channels.
        const int64_t cb = threads > 1 ? std::max<int64_t>(1, p.c_out / (4 * threads)) : p.c_out;
        const int64_t blocks = (p.c_out + cb - 1) / cb;
        run(p.n * blocks, [&](int64_t t) {
            const int64_t n = t / blocks, b = t % blocks;
            fn(j, n, b * cb, std::min(p.c_out, (b + 1) * cb), 0, p.ih);
        });
    }
}

}  // namespace edgecnn
