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
    static V select_lt(V a, V b, V x, V y) { return a < b ? x : y; }
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

// Output rows of one plane, one at a time, in increasing order: two cached horizontally
// resampled source rows (tag = source row index or -1), output rows are vertical blends
// of them. The plain resize and the fused resize-argmax make their rows here, so both
// compute every value with the same operations in the same order.
class LinearRowMaker {
public:
    LinearRowMaker(const Resize2dPlan& p, const resize_detail::RowFns& f, const float* src, float* cache)
        : p_(p), f_(f), src_(src), buf_{cache, cache + p.ow} {}

    // Output row oy is a copy of `a` (copy) or vblend(a, b, wa, wb).
    struct Blend {
        const float *a, *b;
        float wa, wb;
        bool copy;
    };
    Blend blend(int64_t oy) {
        const int64_t sa = p_.y0[size_t(oy)], sb = p_.y1[size_t(oy)];
        const float wa = p_.wy0[size_t(oy)], wb = p_.wy1[size_t(oy)];
        if (sa == sb || wb == 0.f) {
            const float w = sa == sb ? wa + wb : wa;
            const float* a = row(sa, -1);
            return {a, a, w, 0.f, w == 1.f};
        }
        const float* a = row(sa, -1);
        const float* b = row(sb, sa);
        return {a, b, wa, wb, false};
    }

    void make(int64_t oy, float* d) {
        const Blend r = blend(oy);
        if (r.copy) std::memcpy(d, r.a, size_t(p_.ow) * sizeof(float));
        else f_.vblend(r.a, r.b, r.wa, r.wb, d, p_.ow);
    }

    // Folds output row oy of class k into the running argmax (best, idx).
    void fold_argmax(int64_t oy, float k, float* best, float* idx) {
        const Blend r = blend(oy);
        if (r.copy) f_.argmax_update(r.a, best, idx, k, p_.ow);
        else f_.vblend_argmax(r.a, r.b, r.wa, r.wb, best, idx, k, p_.ow);
    }

private:
    const float* row(int64_t sy, int64_t avoid) {
        for (int i = 0; i < 2; ++i)
            if (tag_[i] == sy) return buf_[i];
        // Evict the slot not holding `avoid` (the other row of the pair being blended).
        const int slot = tag_[0] == avoid && avoid >= 0 ? 1 : 0;
        f_.hlinear(src_ + sy * p_.iw, p_.x0.data(), p_.x1.data(), p_.wx0.data(), p_.wx1.data(), buf_[slot], p_.ow);
        tag_[slot] = sy;
        return buf_[slot];
    }

    const Resize2dPlan& p_;
    const resize_detail::RowFns& f_;
    const float* src_;
    float* buf_[2];
    int64_t tag_[2] = {-1, -1};
};

// Output rows [r0, r1) of one plane.
void linear_rows(const Resize2dPlan& p, const resize_detail::RowFns& f, const float* src, float* dst, int64_t r0,
                 int64_t r1, float* cache) {
    LinearRowMaker m(p, f, src, cache);
    for (int64_t oy = r0; oy < r1; ++oy) m.make(oy, dst + oy * p.ow);
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

void resize2d_argmax_f32(const Resize2dPlan& p, int64_t classes, const float* x, int64_t* labels, ThreadPool* pool) {
    if (classes <= 0 || p.planes <= 0 || p.planes % classes || p.oh <= 0 || p.ow <= 0) return;
    const resize_detail::RowFns f = row_fns();
    const int64_t images = p.planes / classes, ow = p.ow;
    // Blocks of output rows, at least 4 per thread where the image allows.
    const int threads = pool ? pool->size() : 1;
    int64_t rows = std::max<int64_t>(1, (images * p.oh) / (4 * threads));
    rows = std::min<int64_t>(rows, 32);
    const int64_t blocks = (p.oh + rows - 1) / rows;
    auto task = [&](int64_t t) {
        const int64_t img = t / blocks, b = t % blocks;
        const int64_t r0 = b * rows, r1 = std::min(p.oh, r0 + rows);
        const float* src = x + img * classes * p.ih * p.iw;
        // Per class its own two-row cache; then one output row of values (nearest), the
        // running maximum and its class.
        std::vector<float> scratch(size_t((p.linear ? 2 * classes : 0) + 3) * size_t(ow));
        float* value = scratch.data() + (p.linear ? 2 * classes * ow : 0);
        float* best = value + ow;
        float* idx = best + ow;
        std::vector<LinearRowMaker> makers;
        if (p.linear)
            for (int64_t k = 0; k < classes; ++k)
                makers.emplace_back(p, f, src + k * p.ih * p.iw, scratch.data() + 2 * k * ow);
        for (int64_t oy = r0; oy < r1; ++oy) {
            std::fill(idx, idx + ow, 0.f);
            for (int64_t k = 0; k < classes; ++k) {
                if (p.linear) {
                    if (k == 0) makers[0].make(oy, best);
                    else makers[size_t(k)].fold_argmax(oy, float(k), best, idx);
                } else {
                    f.hnearest(src + (k * p.ih + p.y0[size_t(oy)]) * p.iw, p.x0.data(), k == 0 ? best : value, ow);
                    if (k > 0) f.argmax_update(value, best, idx, float(k), ow);
                }
            }
            int64_t* out = labels + (img * p.oh + oy) * ow;
            for (int64_t j = 0; j < ow; ++j) out[j] = int64_t(idx[j]);
        }
    };
    const int64_t tasks = images * blocks;
    if (pool && tasks > 1) pool->parallel_for(tasks, task);
    else
        for (int64_t t = 0; t < tasks; ++t) task(t);
}

}  // namespace edgecnn
