// 2-D resize driver: ISA dispatch, the portable row kernels, the task split and the
// per-task row cache.
#include "kernels/resize/resize_f32.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/cpu_features.hpp"
#include "base/thread_pool.hpp"
#include "kernels/resize/resize_f32_kernel.inl"

namespace edgecnn {
namespace resize_detail {
namespace {
// One-lane vectors: the portable path.
struct VecScalar {
    using V = float;
    static constexpr int kN = 1;
    static V load(const float* p) { return *p; }
    static void store(float* p, V v) { *p = v; }
    static V set1(float a) { return a; }
    static V mul(V a, V b) { return a * b; }
    static V fmadd(V a, V b, V c) { return a * b + c; }
    static V gather(const float* base, const int32_t* idx) { return base[*idx]; }
};
}  // namespace
RowFns row_fns_portable() { return make_row_fns<VecScalar>(); }
}  // namespace resize_detail

namespace {

resize_detail::RowFns row_fns() {
#if defined(__x86_64__) || defined(_M_X64)
    switch (active_isa()) {
        case Isa::Avx512: return resize_detail::row_fns_avx512();
        case Isa::Avx2: return resize_detail::row_fns_avx2();
        default: break;
    }
#elif defined(__aarch64__)
    if (is_neon(active_isa())) return resize_detail::row_fns_neon();
#endif
    return resize_detail::row_fns_portable();
}

// Output rows [r0, r1) of one plane.
void linear_rows(const Resize2dPlan& p, const resize_detail::RowFns& f, const float* src, float* dst, int64_t r0,
                 int64_t r1, float* cache) {
    const int64_t ow = p.ow;
    // Two cached horizontally resampled source rows; tag = source row index or -1.
    float* buf[2] = {cache, cache + ow};
    int64_t tag[2] = {-1, -1};
    auto row = [&](int64_t sy, int64_t avoid) -> const float* {
        for (int i = 0; i < 2; ++i)
            if (tag[i] == sy) return buf[i];
        // Evict the slot not holding `avoid` (the other row of the pair being blended).
        const int slot = tag[0] == avoid && avoid >= 0 ? 1 : 0;
        f.hlinear(src + sy * p.iw, p.x0.data(), p.x1.data(), p.wx0.data(), p.wx1.data(), buf[slot], ow);
        tag[slot] = sy;
        return buf[slot];
    };
    for (int64_t oy = r0; oy < r1; ++oy) {
        float* d = dst + oy * ow;
        const int64_t sa = p.y0[size_t(oy)], sb = p.y1[size_t(oy)];
        const float wa = p.wy0[size_t(oy)], wb = p.wy1[size_t(oy)];
        if (sa == sb || wb == 0.f) {
            const float w = sa == sb ? wa + wb : wa;
            const float* a = row(sa, -1);
            if (w == 1.f) std::memcpy(d, a, size_t(ow) * sizeof(float));
            else f.vblend(a, a, w, 0.f, d, ow);
            continue;
        }
        const float* a = row(sa, -1);
        const float* b = row(sb, sa);
        f.vblend(a, b, wa, wb, d, ow);
    }
}

void nearest_rows(const Resize2dPlan& p, const resize_detail::RowFns& f, const float* src, float* dst, int64_t r0,
                  int64_t r1) {
    const int64_t ow = p.ow;
    for (int64_t oy = r0; oy < r1; ++oy) {
        float* d = dst + oy * ow;
        if (oy > r0 && p.y0[size_t(oy)] == p.y0[size_t(oy - 1)]) {
            std::memcpy(d, d - ow, size_t(ow) * sizeof(float));
            continue;
        }
        f.hnearest(src + int64_t(p.y0[size_t(oy)]) * p.iw, p.x0.data(), d, ow);
    }
}

}  // namespace

const char* resize2d_f32_kernel_name(bool linear) {
    switch (active_isa()) {
        case Isa::Avx512: return linear ? "resize_bilinear_f32_avx512" : "resize_nearest_f32_avx512";
        case Isa::Avx2: return linear ? "resize_bilinear_f32_avx2" : "resize_nearest_f32_avx2";
#if defined(__aarch64__)
        case Isa::Neon:
        case Isa::NeonDot:
        case Isa::NeonI8mm: return linear ? "resize_bilinear_f32_neon" : "resize_nearest_f32_neon";
#endif
        default: return linear ? "resize_bilinear_f32" : "resize_nearest_f32";
    }
}

void resize2d_f32(const Resize2dPlan& p, const float* x, float* y, ThreadPool* pool) {
    if (p.planes <= 0 || p.oh <= 0 || p.ow <= 0) return;
    const resize_detail::RowFns f = row_fns();
    // Blocks of output rows: about 64 KiB of output each, at least 4 tasks per thread
    // where the tensor allows, so the claim-one-at-a-time pool balances.
    const int threads = pool ? pool->size() : 1;
    const int64_t total_rows = p.planes * p.oh;
    int64_t rows = std::max<int64_t>(1, (16 * 1024) / p.ow);
    if (threads > 1) rows = std::min(rows, std::max<int64_t>(1, total_rows / (4 * threads)));
    rows = std::min(rows, p.oh);
    const int64_t blocks = (p.oh + rows - 1) / rows;
    const int64_t tasks = p.planes * blocks;
    auto task = [&](int64_t t) {
        const int64_t plane = t / blocks, b = t % blocks;
        const int64_t r0 = b * rows, r1 = std::min(p.oh, r0 + rows);
        const float* src = x + plane * p.ih * p.iw;
        float* dst = y + plane * p.oh * p.ow;
        if (p.linear) {
            std::vector<float> cache(size_t(2 * p.ow));
            linear_rows(p, f, src, dst, r0, r1, cache.data());
        } else {
            nearest_rows(p, f, src, dst, r0, r1);
        }
    };
    if (pool && tasks > 1) pool->parallel_for(tasks, task);
    else
        for (int64_t t = 0; t < tasks; ++t) task(t);
}

}  // namespace edgecnn
