// Elementwise kernels written once over a SIMD traits struct T (simd_f32.inl),
// instantiated by eltwise_f32_avx2.cpp / eltwise_f32_avx512.cpp.
#pragma once
#include "kernels/eltwise/eltwise_f32_internal.hpp"
#include "kernels/eltwise/simd_f32.inl"

namespace edgecnn {
namespace {

template <class T, BinaryOp OP>
inline typename T::V vbinary(typename T::V a, typename T::V b) {
    if constexpr (OP == BinaryOp::Add) return T::add(a, b);
    else if constexpr (OP == BinaryOp::Sub) return T::sub(a, b);
    else if constexpr (OP == BinaryOp::Mul) return T::mul(a, b);
    else if constexpr (OP == BinaryOp::Div) return T::div(a, b);
    else if constexpr (OP == BinaryOp::Max) return T::max(a, b);
    else return T::min(a, b);
}

template <class T, bool kClamp>
inline typename T::V elt_act(typename T::V v, const VAct<T>& a) {
    if constexpr (kClamp) return T::min(T::max(v, a.lo), a.hi);
    else return vactivate<T>(v, a);
}

// One output run of n elements; AV/BV: operand contiguous (else one broadcast value).
template <class T, BinaryOp OP, bool AV, bool BV, bool kClamp>
void binary_run(const float* a, const float* b, float* y, int64_t n, const VAct<T>& act) {
    using V = typename T::V;
    constexpr int64_t N = T::kN;
    const V sa = AV ? T::zero() : T::set1(*a);
    const V sb = BV ? T::zero() : T::set1(*b);
    int64_t i = 0;
    for (; i + 2 * N <= n; i += 2 * N) {
        const V a0 = AV ? T::load(a + i) : sa, a1 = AV ? T::load(a + i + N) : sa;
        const V b0 = BV ? T::load(b + i) : sb, b1 = BV ? T::load(b + i + N) : sb;
        T::store(y + i, elt_act<T, kClamp>(vbinary<T, OP>(a0, b0), act));
        T::store(y + i + N, elt_act<T, kClamp>(vbinary<T, OP>(a1, b1), act));
    }
    for (; i + N <= n; i += N) {
        const V a0 = AV ? T::load(a + i) : sa;
        const V b0 = BV ? T::load(b + i) : sb;
        T::store(y + i, elt_act<T, kClamp>(vbinary<T, OP>(a0, b0), act));
    }
    if (i < n) {
        const auto m = T::mask(n - i);
        const V a0 = AV ? T::load(a + i, m) : sa;
        const V b0 = BV ? T::load(b + i, m) : sb;
        T::store(y + i, elt_act<T, kClamp>(vbinary<T, OP>(a0, b0), act), m);
    }
}

template <class T, BinaryOp OP, bool AV, bool BV, bool kClamp>
void binary_range_t(const eltwise_detail::BinaryJob& j, int64_t e0, int64_t e1) {
    const VAct<T> act(j.act);
    int64_t r = e0 / j.inner, i = e0 - r * j.inner;
    for (int64_t e = e0; e < e1; ++r, i = 0) {
        const int64_t len = (j.inner - i) < (e1 - e) ? (j.inner - i) : (e1 - e);
        const int64_t o = r / j.mid, m = r - o * j.mid;
        const float* a = j.a.p + o * j.a.s_outer + m * j.a.s_mid + (AV ? i : 0);
        const float* b = j.b.p + o * j.b.s_outer + m * j.b.s_mid + (BV ? i : 0);
        binary_run<T, OP, AV, BV, kClamp>(a, b, j.y + e, len, act);
        e += len;
    }
}

template <class T, BinaryOp OP>
void binary_op(const eltwise_detail::BinaryJob& j, int64_t e0, int64_t e1) {
    const bool av = j.a.s_inner != 0, bv = j.b.s_inner != 0;
    const bool clamp = VAct<T>(j.act).is_clamp();
#define EDGECNN_ELT_CASE(AV, BV)                                                  \
    if (av == AV && bv == BV) {                                                   \
        if (clamp) binary_range_t<T, OP, AV, BV, true>(j, e0, e1);               \
        else binary_range_t<T, OP, AV, BV, false>(j, e0, e1);                    \
        return;                                                                   \
    }
    EDGECNN_ELT_CASE(true, true)
    EDGECNN_ELT_CASE(true, false)
    EDGECNN_ELT_CASE(false, true)
    EDGECNN_ELT_CASE(false, false)
#undef EDGECNN_ELT_CASE
}

template <class T>
void binary_dispatch(const eltwise_detail::BinaryJob& j, int64_t e0, int64_t e1) {
    switch (j.op) {
        case BinaryOp::Add: binary_op<T, BinaryOp::Add>(j, e0, e1); break;
        case BinaryOp::Sub: binary_op<T, BinaryOp::Sub>(j, e0, e1); break;
        case BinaryOp::Mul: binary_op<T, BinaryOp::Mul>(j, e0, e1); break;
        case BinaryOp::Div: binary_op<T, BinaryOp::Div>(j, e0, e1); break;
        case BinaryOp::Max: binary_op<T, BinaryOp::Max>(j, e0, e1); break;
        case BinaryOp::Min: binary_op<T, BinaryOp::Min>(j, e0, e1); break;
    }
}

template <class T, Activation K>
void unary_t(const float* x, float* y, int64_t n, const VAct<T>& act) {
    using V = typename T::V;
    constexpr int64_t N = T::kN;
    int64_t i = 0;
    for (; i + 2 * N <= n; i += 2 * N) {
        const V v0 = T::load(x + i), v1 = T::load(x + i + N);
        T::store(y + i, vactivate_fixed<T, K>(v0, act));
        T::store(y + i + N, vactivate_fixed<T, K>(v1, act));
    }
    for (; i + N <= n; i += N) T::store(y + i, vactivate_fixed<T, K>(T::load(x + i), act));
    if (i < n) {
        const auto m = T::mask(n - i);
        T::store(y + i, vactivate_fixed<T, K>(T::load(x + i, m), act), m);
    }
}

template <class T>
void unary(const float* x, float* y, int64_t n, const ActivationParams& a) {
    const VAct<T> act(a);
    dispatch_activation(a.kind, [&](auto tag) { unary_t<T, decltype(tag)::kind>(x, y, n, act); });
}

}  // namespace
}  // namespace edgecnn
