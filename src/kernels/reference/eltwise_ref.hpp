// Reference building blocks for elementwise work: numpy-style broadcast iteration over
// raw buffers, compile-time dispatch from a DType to its C++ element type, and float16 /
// bfloat16 handling by widening to float. Plain loops whose innermost run is contiguous
// (or a broadcast scalar) so that the compiler can vectorize them.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "base/dtype.hpp"
#include "base/tensor.hpp"

namespace edgecnn::ref {

// ---- dtype dispatch ----

template <class... Ts>
struct TypeList {};

using FloatTypes = TypeList<float, double>;
using IntTypes = TypeList<int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t>;
using SignedTypes = TypeList<float, double, int8_t, int16_t, int32_t, int64_t>;
using NumericTypes =
    TypeList<float, double, int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t>;
using AllTypes =
    TypeList<float, double, int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t, bool>;

// Calls f(T{}) for the T of `TypeList` whose DType is `t`; returns false if none matches.
template <class F, class... Ts>
bool dispatch(DType t, TypeList<Ts...>, F&& f) {
    return ((DTypeOf<Ts>::value == t && (f(Ts{}), true)) || ...);
}

inline bool is_half(DType t) { return t == DType::F16 || t == DType::BF16; }

// Widens float16/bfloat16 storage to float, and narrows back (round to nearest even).
void half_to_f32(DType t, const void* in, float* out, int64_t n);
void f32_to_half(DType t, const float* in, void* out, int64_t n);
// A float32 copy of a float16/bfloat16 tensor.
Tensor widen_half(const Tensor& t);

// Applies f to every element of a floating-point buffer: float and double directly,
// float16/bfloat16 through float. f is generic (called with float or double).
// Returns false for any other dtype.
template <class F>
bool map_float(DType t, const void* in, void* out, int64_t n, F&& f) {
    switch (t) {
        case DType::F32: {
            const float* x = static_cast<const float*>(in);
            float* y = static_cast<float*>(out);
            for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
            return true;
        }
        case DType::F64: {
            const double* x = static_cast<const double*>(in);
            double* y = static_cast<double*>(out);
            for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
            return true;
        }
        case DType::F16:
        case DType::BF16: {
            const uint16_t* x = static_cast<const uint16_t*>(in);
            uint16_t* y = static_cast<uint16_t*>(out);
            const bool h = t == DType::F16;
            for (int64_t i = 0; i < n; ++i) {
                float v = f(h ? half_to_float(x[i]) : bf16_to_float(x[i]));
                y[i] = h ? float_to_half(v) : float_to_bf16(v);
            }
            return true;
        }
        default: return false;
    }
}

// ---- broadcasting ----

// How to walk inputs broadcast to one row-major output: dims of size 1 are dropped and
// neighbouring dims merged wherever every input stays linear across them, so that the
// common cases (same shape, scalar, per-channel) become one or two long loops.
struct BroadcastPlan {
    std::vector<int64_t> dims;                  // merged output dims, at least one
    std::vector<std::vector<int64_t>> strides;  // per input: element stride per merged dim, 0 = repeated
    int64_t numel = 0;
};

// Every input shape must broadcast to `out` (the caller has checked with broadcast_shapes).
BroadcastPlan make_broadcast_plan(const Shape& out, const std::vector<Shape>& ins);

// Calls row(out_offset, in_offsets, len) for each innermost run of the output.
template <size_t N, class F>
void broadcast_rows(const BroadcastPlan& p, F&& row) {
    if (p.numel == 0) return;
    const size_t m = p.dims.size();
    const int64_t len = p.dims[m - 1];
    const int64_t rows = p.numel / len;
    std::vector<int64_t> idx(m, 0);
    std::array<int64_t, N> off{};
    for (int64_t r = 0; r < rows; ++r) {
        row(r * len, off, len);
        for (size_t d = m - 1; d-- > 0;) {
            if (++idx[d] < p.dims[d]) {
                for (size_t k = 0; k < N; ++k) off[k] += p.strides[k][d];
                break;
            }
            for (size_t k = 0; k < N; ++k) off[k] -= p.strides[k][d] * (p.dims[d] - 1);
            idx[d] = 0;
        }
    }
}

// o[i] = f(a[i'], b[i'']) over the broadcast plan of (a, b). `o` may alias `a` when a
// has the output's shape (used to fold variadic ops in place).
template <class A, class B, class O, class F>
void broadcast_binary(const BroadcastPlan& p, const A* a, const B* b, O* o, F&& f) {
    const int64_t sa = p.strides[0].back(), sb = p.strides[1].back();
    broadcast_rows<2>(p, [&](int64_t oo, const std::array<int64_t, 2>& io, int64_t n) {
        const A* pa = a + io[0];
        const B* pb = b + io[1];
        O* po = o + oo;
        if (sa == 1 && sb == 1) {
            for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
        } else if (sa == 0 && sb == 1) {
            const A x = *pa;
            for (int64_t i = 0; i < n; ++i) po[i] = f(x, pb[i]);
        } else if (sa == 1 && sb == 0) {
            const B y = *pb;
            for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], y);
        } else {
            for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i * sa], pb[i * sb]);
        }
    });
}

// o[i] = f(a[.], b[.], c[.]) over the broadcast plan of (a, b, c).
template <class A, class B, class C, class O, class F>
void broadcast_ternary(const BroadcastPlan& p, const A* a, const B* b, const C* c, O* o, F&& f) {
    const int64_t sa = p.strides[0].back(), sb = p.strides[1].back(), sc = p.strides[2].back();
    broadcast_rows<3>(p, [&](int64_t oo, const std::array<int64_t, 3>& io, int64_t n) {
        const A* pa = a + io[0];
        const B* pb = b + io[1];
        const C* pc = c + io[2];
        O* po = o + oo;
        if (sa == 1 && sb == 1 && sc == 1) {
            for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i], pc[i]);
        } else {
            for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i * sa], pb[i * sb], pc[i * sc]);
        }
    });
}

}  // namespace edgecnn::ref
