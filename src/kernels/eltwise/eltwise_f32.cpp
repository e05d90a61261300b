#include "kernels/eltwise/eltwise_f32.hpp"

#include <algorithm>
#include <stdexcept>

#include "base/cpu_features.hpp"
#include "base/thread_pool.hpp"
#include "kernels/eltwise/eltwise_f32_internal.hpp"

namespace edgecnn {

using eltwise_detail::BinaryJob;

namespace {

template <BinaryOp OP>
inline float scalar_op(float a, float b) {
    if constexpr (OP == BinaryOp::Add) return a + b;
    else if constexpr (OP == BinaryOp::Sub) return a - b;
    else if constexpr (OP == BinaryOp::Mul) return a * b;
    else if constexpr (OP == BinaryOp::Div) return a / b;
    else if constexpr (OP == BinaryOp::Max) return std::max(a, b);
    else return std::min(a, b);
}

template <BinaryOp OP>
void binary_scalar_t(const BinaryJob& j, int64_t e0, int64_t e1) {
    const bool none = j.act.kind == Activation::None;
    int64_t r = e0 / j.inner, i = e0 - r * j.inner;
    for (int64_t e = e0; e < e1; ++r, i = 0) {
        const int64_t len = std::min(j.inner - i, e1 - e);
        const int64_t o = r / j.mid, m = r - o * j.mid;
        const float* a = j.a.p + o * j.a.s_outer + m * j.a.s_mid + i * j.a.s_inner;
        const float* b = j.b.p + o * j.b.s_outer + m * j.b.s_mid + i * j.b.s_inner;
        float* y = j.y + e;
        const int64_t sa = j.a.s_inner, sb = j.b.s_inner;
        for (int64_t k = 0; k < len; ++k) y[k] = scalar_op<OP>(a[k * sa], b[k * sb]);
        if (!none)
            for (int64_t k = 0; k < len; ++k) y[k] = apply_activation(y[k], j.act);
        e += len;
    }
}

void binary_scalar(const BinaryJob& j, int64_t e0, int64_t e1) {
    switch (j.op) {
        case BinaryOp::Add: binary_scalar_t<BinaryOp::Add>(j, e0, e1); break;
        case BinaryOp::Sub: binary_scalar_t<BinaryOp::Sub>(j, e0, e1); break;
        case BinaryOp::Mul: binary_scalar_t<BinaryOp::Mul>(j, e0, e1); break;
        case BinaryOp::Div: binary_scalar_t<BinaryOp::Div>(j, e0, e1); break;
        case BinaryOp::Max: binary_scalar_t<BinaryOp::Max>(j, e0, e1); break;
        case BinaryOp::Min: binary_scalar_t<BinaryOp::Min>(j, e0, e1); break;
    }
}

void unary_scalar(const float* x, float* y, int64_t n, const ActivationParams& act) {
    for (int64_t i = 0; i < n; ++i) y[i] = apply_activation(x[i], act);
}

void transpose_scalar(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t r0, int64_t r1, int64_t c0,
                      int64_t c1) {
    constexpr int64_t B = 8;
    for (int64_t c = c0; c < c1; c += B)
        for (int64_t r = r0; r < r1; r += B)
            for (int64_t cc = c; cc < std::min(c + B, c1); ++cc)
                for (int64_t rr = r; rr < std::min(r + B, r1); ++rr) y[cc * ldy + rr] = x[rr * ldx + cc];
}

using BinaryFn = void (*)(const BinaryJob&, int64_t, int64_t);
using UnaryFn = void (*)(const float*, float*, int64_t, const ActivationParams&);
using TransposeFn = void (*)(const float*, int64_t, float*, int64_t, int64_t, int64_t, int64_t, int64_t);

BinaryFn pick_binary() {
#if defined(__x86_64__) || defined(__i386__)
    switch (active_isa()) {
        case Isa::Avx512: return eltwise_detail::binary_avx512;
        case Isa::Avx2: return eltwise_detail::binary_avx2;
        default: break;
    }
#elif defined(__aarch64__)
    if (is_neon(active_isa())) return eltwise_detail::binary_neon;
#endif
    return binary_scalar;
}

UnaryFn pick_unary() {
#if defined(__x86_64__) || defined(__i386__)
    switch (active_isa()) {
        case Isa::Avx512: return eltwise_detail::unary_avx512;
        case Isa::Avx2: return eltwise_detail::unary_avx2;
        default: break;
    }
#elif defined(__aarch64__)
    if (is_neon(active_isa())) return eltwise_detail::unary_neon;
#endif
    return unary_scalar;
}

TransposeFn pick_transpose() {
#if defined(__x86_64__) || defined(__i386__)
    if (active_isa() != Isa::Scalar) return eltwise_detail::transpose_avx2;
#elif defined(__aarch64__)
    if (is_neon(active_isa())) return eltwise_detail::transpose_neon;
#endif
    return transpose_scalar;
}

bool expensive(Activation a) {
    return a == Activation::Sigmoid || a == Activation::Silu || a == Activation::Tanh;
}

// Splits [0, total) into chunks for the pool when the work pays for the hand-off:
// about 4 chunks per thread, each at least `min_chunk` elements (a multiple of 64).
template <class F>
void split(int64_t total, int64_t min_chunk, ThreadPool* pool, F&& fn) {
    const int threads = pool ? pool->size() : 1;
    if (threads <= 1 || total < 2 * min_chunk) {
        fn(int64_t(0), total);
        return;
    }
    int64_t chunk = std::max(min_chunk, (total + threads * 4 - 1) / (threads * 4));
    chunk = (chunk + 63) / 64 * 64;
    const int64_t tasks = (total + chunk - 1) / chunk;
    pool->parallel_for(tasks, [&](int64_t t) { fn(t * chunk, std::min(total, (t + 1) * chunk)); });
}

}  // namespace

void binary_f32(BinaryOp op, int64_t outer, int64_t mid, int64_t inner, const EltOperand& a, const EltOperand& b,
                float* y, const ActivationParams& act, ThreadPool* pool) {
    if (outer < 0 || mid < 0 || inner < 0 || (a.s_inner != 0 && a.s_inner != 1) || (b.s_inner != 0 && b.s_inner != 1))
        throw std::invalid_argument("binary_f32: invalid shape or inner stride");
    const int64_t total = outer * mid * inner;
    if (total == 0) return;
    const BinaryJob j{op, mid, inner, a, b, y, act};
    const BinaryFn fn = pick_binary();
    split(total, expensive(act.kind) ? 8192 : 32768, pool, [&](int64_t e0, int64_t e1) { fn(j, e0, e1); });
}

void binary_same_f32(BinaryOp op, const float* a, const float* b, float* y, int64_t n, const ActivationParams& act,
                     ThreadPool* pool) {
    binary_f32(op, 1, 1, n, {a, 0, 0, 1}, {b, 0, 0, 1}, y, act, pool);
}

void binary_scalar_f32(BinaryOp op, const float* a, float s, bool scalar_first, float* y, int64_t n,
                       const ActivationParams& act, ThreadPool* pool) {
    const EltOperand va{a, 0, 0, 1}, vs{&s, 0, 0, 0};
    if (scalar_first) binary_f32(op, 1, 1, n, vs, va, y, act, pool);
    else binary_f32(op, 1, 1, n, va, vs, y, act, pool);
}

void binary_channel_f32(BinaryOp op, const float* x, const float* v, bool per_image, bool vector_first, float* y,
                        int64_t n, int64_t hw, int64_t c, const ActivationParams& act, ThreadPool* pool) {
    const EltOperand vx{x, hw * c, c, 1}, vv{v, per_image ? c : 0, 0, 1};
    if (vector_first) binary_f32(op, n, hw, c, vv, vx, y, act, pool);
    else binary_f32(op, n, hw, c, vx, vv, y, act, pool);
}

void activation_f32(const float* x, float* y, int64_t n, const ActivationParams& act, ThreadPool* pool) {
    if (n <= 0) return;
    if (act.kind == Activation::None) {
        if (x != y) std::copy(x, x + n, y);
        return;
    }
    const UnaryFn fn = pick_unary();
    split(n, expensive(act.kind) ? 8192 : 32768, pool, [&](int64_t e0, int64_t e1) { fn(x + e0, y + e0, e1 - e0, act); });
}

namespace {

// Per image, the [rows, cols] matrix x becomes [cols, rows] in y; tasks split the larger
// of the two dims in blocks of 64.
void transpose_images(const float* x, float* y, int64_t n, int64_t rows, int64_t cols, ThreadPool* pool) {
    if (n <= 0 || rows <= 0 || cols <= 0) return;
    const TransposeFn fn = pick_transpose();
    const int64_t image = rows * cols;
    const bool split_rows = rows >= cols;
    const int64_t dim = split_rows ? rows : cols;
    constexpr int64_t kBlock = 64;
    const int64_t blocks = (dim + kBlock - 1) / kBlock;
    auto task = [&](int64_t t) {
        const int64_t b = t / blocks, lo = (t % blocks) * kBlock, hi = std::min(dim, lo + kBlock);
        const float* xb = x + b * image;
        float* yb = y + b * image;
        if (split_rows) fn(xb, cols, yb, rows, lo, hi, 0, cols);
        else fn(xb, cols, yb, rows, 0, rows, lo, hi);
    };
    const int threads = pool ? pool->size() : 1;
    if (threads > 1 && n * image >= 32768) pool->parallel_for(n * blocks, task);
    else
        for (int64_t t = 0; t < n * blocks; ++t) task(t);
}

}  // namespace

void nchw_to_nhwc_f32(const float* x, float* y, int64_t n, int64_t c, int64_t hw, ThreadPool* pool) {
    transpose_images(x, y, n, c, hw, pool);
}

void nhwc_to_nchw_f32(const float* x, float* y, int64_t n, int64_t c, int64_t hw, ThreadPool* pool) {
    transpose_images(x, y, n, hw, c, pool);
}

}  // namespace edgecnn
