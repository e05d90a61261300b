// Elementwise ops: unary math, broadcasting binary and variadic arithmetic, comparisons,
// boolean logic, Where, Cast/CastLike and Clip. Reference semantics are numpy's (which
// the ONNX spec and its reference implementation follow); float16 and bfloat16 are
// computed in float and rounded back.
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "kernels/reference/eltwise_ref.hpp"
#include "base/convert.hpp"
#include "ops/op.hpp"

namespace edgecnn {
namespace {

using ref::AllTypes;
using ref::dispatch;
using ref::NumericTypes;

bool is_float_type(DType t) { return t == DType::F32 || t == DType::F64 || ref::is_half(t); }

void require_inputs(const std::vector<ValueInfo>& in, size_t n) {
    if (in.size() < n) fail("expects " + std::to_string(n) + " inputs, got " + std::to_string(in.size()));
    for (size_t i = 0; i < n; ++i)
        if (!in[i].present) fail("input " + std::to_string(i) + " is required");
}

// All inputs of an op like Add must share one dtype.
DType same_dtype(const std::vector<ValueInfo>& in) {
    DType t = in[0].dtype;
    for (size_t i = 1; i < in.size(); ++i)
        if (in[i].present && in[i].dtype != t)
            fail("input " + std::to_string(i) + " has type " + dtype_name(in[i].dtype) + " but input 0 has type " +
                 dtype_name(t));
    return t;
}

void require_numeric(DType t, const char* what) {
    if (t == DType::Bool || t == DType::String || dtype_size(t) == 0)
        fail_unsupported(std::string(what) + " of type " + dtype_name(t) + " is not supported");
}

void require_float(DType t, const char* what) {
    if (!is_float_type(t)) fail_unsupported(std::string(what) + " of type " + dtype_name(t) + " is not supported");
}

// C-style truncating integer division that neither traps on x / 0 (an error instead)
// nor on INT_MIN / -1 (wraps).
template <class T>
T int_div(T x, T y) {
    if (y == 0) fail("integer division by zero");
    if constexpr (std::is_signed_v<T>) {
        using U = std::make_unsigned_t<T>;
        if (y == T(-1)) return static_cast<T>(U(0) - U(x));
    }
    return static_cast<T>(x / y);
}

// numpy.maximum / minimum: a NaN in either operand gives NaN.
template <class T>
T max_nan(T x, T y) {
    if constexpr (std::is_floating_point_v<T>) return (x > y || x != x) ? x : y;
    else return x > y ? x : y;
}
template <class T>
T min_nan(T x, T y) {
    if constexpr (std::is_floating_point_v<T>) return (x < y || x != x) ? x : y;
    else return x < y ? x : y;
}

// ---------------------------------------------------------------- arithmetic

enum class Arith { Add, Sub, Mul, Div, Max, Min, Mod, FMod };

// Mod with fmod=0: the result takes the divisor's sign (Python's %).
template <class T>
T py_mod(T x, T y) {
    if constexpr (std::is_floating_point_v<T>) {
        T r = std::fmod(x, y);
        if (r != 0 && ((r < 0) != (y < 0))) r += y;
        return r;
    } else {
        if (y == 0) fail("integer modulo by zero");
        if constexpr (std::is_signed_v<T>) {
            if (y == T(-1)) return T(0);
            T r = static_cast<T>(x % y);
            if (r != 0 && ((r < 0) != (y < 0))) r = static_cast<T>(r + y);
            return r;
        } else {
            return static_cast<T>(x % y);
        }
    }
}

// Mod with fmod=1: the result takes the dividend's sign (C's fmod and %).
template <class T>
T c_mod(T x, T y) {
    if constexpr (std::is_floating_point_v<T>) {
        return std::fmod(x, y);
    } else {
        if (y == 0) fail("integer modulo by zero");
        if constexpr (std::is_signed_v<T>)
            if (y == T(-1)) return T(0);
        return static_cast<T>(x % y);
    }
}

template <class T>
void arith_typed(Arith op, const ref::BroadcastPlan& p, const T* a, const T* b, T* o) {
    switch (op) {
        case Arith::Add: ref::broadcast_binary(p, a, b, o, [](T x, T y) { return T(x + y); }); break;
        case Arith::Sub: ref::broadcast_binary(p, a, b, o, [](T x, T y) { return T(x - y); }); break;
        case Arith::Mul: ref::broadcast_binary(p, a, b, o, [](T x, T y) { return T(x * y); }); break;
        case Arith::Div:
            if constexpr (std::is_floating_point_v<T>)
                ref::broadcast_binary(p, a, b, o, [](T x, T y) { return T(x / y); });
            else
                ref::broadcast_binary(p, a, b, o, [](T x, T y) { return int_div(x, y); });
            break;
        case Arith::Max: ref::broadcast_binary(p, a, b, o, [](T x, T y) { return max_nan(x, y); }); break;
        case Arith::Min: ref::broadcast_binary(p, a, b, o, [](T x, T y) { return min_nan(x, y); }); break;
        case Arith::Mod: ref::broadcast_binary(p, a, b, o, [](T x, T y) { return py_mod(x, y); }); break;
        case Arith::FMod: ref::broadcast_binary(p, a, b, o, [](T x, T y) { return c_mod(x, y); }); break;
    }
}

// Folds the inputs left to right into the output: o = in0 op in1, then o = o op in_k.
// Binary ops (Add..Div) are the two-input case; Max/Min/Sum/Mean are variadic.
class ArithKernel : public OpKernel {
public:
    ArithKernel(Arith op, bool variadic, bool mean) : op_(op), variadic_(variadic), mean_(mean) {}

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        if (variadic_) {
            if (in.empty()) fail("expects at least one input");
            require_inputs(in, in.size());
        } else {
            require_inputs(in, 2);
            if (in.size() != 2) fail("expects 2 inputs, got " + std::to_string(in.size()));
        }
        DType t = same_dtype(in);
        if (mean_) require_float(t, "input");
        else require_numeric(t, "input");
        Shape s = in[0].shape;
        for (size_t i = 1; i < in.size(); ++i) s = broadcast_shapes(s, in[i].shape);
        out[0].dtype = t;
        out[0].shape = s;
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        Tensor& o = *out[0];
        if (ref::is_half(o.dtype())) {
            std::vector<Tensor> wide;
            std::vector<const Tensor*> ptrs;
            for (const Tensor* t : in) wide.push_back(ref::widen_half(*t));
            for (const Tensor& t : wide) ptrs.push_back(&t);
            Tensor tmp(DType::F32, o.shape());
            compute(ptrs, tmp);
            ref::f32_to_half(o.dtype(), tmp.data<float>(), o.raw(), o.numel());
        } else {
            compute(in, o);
        }
    }

private:
    void compute(const std::vector<const Tensor*>& in, Tensor& o) const {
        dispatch(o.dtype(), NumericTypes{}, [&](auto tag) {
            using T = decltype(tag);
            T* po = o.data<T>();
            if (in.size() == 1) {
                // A lone input broadcast to itself: a copy.
                if (o.numel()) std::memcpy(po, in[0]->raw(), o.nbytes());
            } else {
                auto p = ref::make_broadcast_plan(o.shape(), {in[0]->shape(), in[1]->shape()});
                arith_typed<T>(op_, p, in[0]->data<T>(), in[1]->data<T>(), po);
                for (size_t k = 2; k < in.size(); ++k) {
                    auto pk = ref::make_broadcast_plan(o.shape(), {o.shape(), in[k]->shape()});
                    arith_typed<T>(op_, pk, po, in[k]->data<T>(), po);
                }
            }
            if constexpr (std::is_floating_point_v<T>) {
                if (mean_) {
                    const T scale = T(1) / T(in.size());
                    for (int64_t i = 0; i < o.numel(); ++i) po[i] *= scale;
                }
            }
        });
    }

    Arith op_;
    bool variadic_;
    bool mean_;
};

OpFactory arith_factory(Arith op, bool variadic = false, bool mean = false) {
    return [=](const OpAttrs& a) -> std::unique_ptr<OpKernel> {
        // Opset < 7 binary ops had explicit broadcast attributes; only numpy broadcasting is supported.
        if (a.has("broadcast") || a.has("axis")) fail_unsupported("legacy (opset < 7) 'broadcast'/'axis' attributes");
        a.ignore("consumed_inputs");
        return std::make_unique<ArithKernel>(op, variadic, mean);
    };
}

std::unique_ptr<OpKernel> make_mod(const OpAttrs& a) {
    const int64_t fmod = a.get_int("fmod", 0);
    if (fmod != 0 && fmod != 1) fail("attribute 'fmod' must be 0 or 1");
    return std::make_unique<ArithKernel>(fmod ? Arith::FMod : Arith::Mod, false, false);
}

class BitShiftKernel : public OpKernel {
public:
    explicit BitShiftKernel(bool left) : left_(left) {}

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        require_inputs(in, 2);
        DType t = same_dtype(in);
        require_dtype(t, {DType::U8, DType::U16, DType::U32, DType::U64}, "input");
        out[0].dtype = t;
        out[0].shape = broadcast_shapes(in[0].shape, in[1].shape);
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        auto p = ref::make_broadcast_plan(out[0]->shape(), {in[0]->shape(), in[1]->shape()});
        dispatch(in[0]->dtype(), ref::TypeList<uint8_t, uint16_t, uint32_t, uint64_t>{}, [&](auto tag) {
            using T = decltype(tag);
            constexpr T bits = T(sizeof(T) * 8);
            // Shifting by the width or more is undefined in C++; every bit is shifted out.
            if (left_)
                ref::broadcast_binary(p, in[0]->data<T>(), in[1]->data<T>(), out[0]->data<T>(),
                                      [](T x, T y) { return y >= bits ? T(0) : T(x << y); });
            else
                ref::broadcast_binary(p, in[0]->data<T>(), in[1]->data<T>(), out[0]->data<T>(),
                                      [](T x, T y) { return y >= bits ? T(0) : T(x >> y); });
        });
    }

private:
    bool left_;
};

std::unique_ptr<OpKernel> make_bitshift(const OpAttrs& a) {
    const std::string dir = a.get_string("direction");
    if (dir != "LEFT" && dir != "RIGHT") fail("attribute 'direction'='" + dir + "' must be LEFT or RIGHT");
    return std::make_unique<BitShiftKernel>(dir == "LEFT");
}

// IsNaN / IsInf: float in, bool out.
class FloatClassKernel : public OpKernel {
public:
    FloatClassKernel(bool nan, bool neg_inf, bool pos_inf) : nan_(nan), neg_(neg_inf), pos_(pos_inf) {}

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        require_inputs(in, 1);
        require_float(in[0].dtype, "input");
        out[0].dtype = DType::Bool;
        out[0].shape = in[0].shape;
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        Tensor x = ref::is_half(in[0]->dtype()) ? ref::widen_half(*in[0]) : *in[0];
        bool* y = out[0]->data<bool>();
        dispatch(x.dtype(), ref::FloatTypes{}, [&](auto tag) {
            using T = decltype(tag);
            const T* px = x.data<T>();
            for (int64_t i = 0; i < x.numel(); ++i) {
                const T v = px[i];
                y[i] = nan_ ? std::isnan(v) : std::isinf(v) && (v < 0 ? neg_ : pos_);
            }
        });
    }

private:
    bool nan_, neg_, pos_;
};

// ---------------------------------------------------------------- Pow

template <class T>
T int_pow(T base, int64_t e) {
    if (e < 0) {  // only |base| == 1 has a non-zero integer result
        if (base == T(1)) return T(1);
        if constexpr (std::is_signed_v<T>)
            if (base == T(-1)) return (e & 1) ? T(-1) : T(1);
        return T(0);
    }
    using U = std::make_unsigned_t<T>;
    U result = 1, b = static_cast<U>(base);  // unsigned: wrap on overflow instead of UB
    while (e) {
        if (e & 1) result = U(result * b);
        b = U(b * b);
        e >>= 1;
    }
    return static_cast<T>(result);
}

template <class T, class E>
T pow_one(T x, E y) {
    if constexpr (std::is_same_v<T, float> && std::is_same_v<E, float>) return std::pow(x, y);
    else if constexpr (std::is_integral_v<T> && std::is_integral_v<E>) return int_pow<T>(x, int64_t(y));
    else return convert_value<T>(std::pow(double(x), double(y)));
}

class PowKernel : public OpKernel {
public:
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        require_inputs(in, 2);
        require_dtype(in[0].dtype, {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I32, DType::I64},
                      "input 0 (X)");
        require_numeric(in[1].dtype, "input 1 (Y)");
        out[0].dtype = in[0].dtype;
        out[0].shape = broadcast_shapes(in[0].shape, in[1].shape);
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        Tensor x = ref::is_half(in[0]->dtype()) ? ref::widen_half(*in[0]) : *in[0];
        Tensor y = ref::is_half(in[1]->dtype()) ? ref::widen_half(*in[1]) : *in[1];
        Tensor& o = *out[0];
        Tensor res = ref::is_half(o.dtype()) ? Tensor(DType::F32, o.shape()) : o;
        auto p = ref::make_broadcast_plan(o.shape(), {x.shape(), y.shape()});
        dispatch(x.dtype(), ref::TypeList<float, double, int32_t, int64_t>{}, [&](auto xt) {
            using T = decltype(xt);
            const T* px = x.data<T>();
            T* po = res.data<T>();
            if constexpr (std::is_floating_point_v<T>) {
                // x*x is exactly pow(x, 2) and far cheaper (LayerNorm-style graphs square a lot).
                if (y.numel() == 1 && y.to_f64()[0] == 2.0) {
                    for (int64_t i = 0; i < o.numel(); ++i) po[i] = px[i] * px[i];
                    return;
                }
            }
            dispatch(y.dtype(), NumericTypes{}, [&](auto yt) {
                using E = decltype(yt);
                ref::broadcast_binary(p, px, y.data<E>(), po, [](T a, E b) { return pow_one<T, E>(a, b); });
            });
        });
        if (ref::is_half(o.dtype())) ref::f32_to_half(o.dtype(), res.data<float>(), o.raw(), o.numel());
    }
};

// ---------------------------------------------------------------- comparison and logic

enum class Cmp { Eq, Lt, Gt, Le, Ge };

class CompareKernel : public OpKernel {
public:
    explicit CompareKernel(Cmp op) : op_(op) {}

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        require_inputs(in, 2);
        DType t = same_dtype(in);
        if (t == DType::String || dtype_size(t) == 0)
            fail_unsupported("input of type " + dtype_name(t) + " is not supported");
        out[0].dtype = DType::Bool;
        out[0].shape = broadcast_shapes(in[0].shape, in[1].shape);
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        Tensor a = ref::is_half(in[0]->dtype()) ? ref::widen_half(*in[0]) : *in[0];
        Tensor b = ref::is_half(in[1]->dtype()) ? ref::widen_half(*in[1]) : *in[1];
        Tensor& o = *out[0];
        auto p = ref::make_broadcast_plan(o.shape(), {a.shape(), b.shape()});
        bool* po = o.data<bool>();
        dispatch(a.dtype(), AllTypes{}, [&](auto tag) {
            using T = decltype(tag);
            const T* pa = a.data<T>();
            const T* pb = b.data<T>();
            switch (op_) {
                case Cmp::Eq: ref::broadcast_binary(p, pa, pb, po, [](T x, T y) { return x == y; }); break;
                case Cmp::Lt: ref::broadcast_binary(p, pa, pb, po, [](T x, T y) { return x < y; }); break;
                case Cmp::Gt: ref::broadcast_binary(p, pa, pb, po, [](T x, T y) { return x > y; }); break;
                case Cmp::Le: ref::broadcast_binary(p, pa, pb, po, [](T x, T y) { return x <= y; }); break;
                case Cmp::Ge: ref::broadcast_binary(p, pa, pb, po, [](T x, T y) { return x >= y; }); break;
            }
        });
    }

private:
    Cmp op_;
};

enum class Logic { And, Or, Xor };

class LogicKernel : public OpKernel {
public:
    explicit LogicKernel(Logic op) : op_(op) {}

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        require_inputs(in, 2);
        for (size_t i = 0; i < 2; ++i)
            if (in[i].dtype != DType::Bool)
                fail("input " + std::to_string(i) + " must be bool, not " + dtype_name(in[i].dtype));
        out[0].dtype = DType::Bool;
        out[0].shape = broadcast_shapes(in[0].shape, in[1].shape);
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        auto p = ref::make_broadcast_plan(out[0]->shape(), {in[0]->shape(), in[1]->shape()});
        const bool* a = in[0]->data<bool>();
        const bool* b = in[1]->data<bool>();
        bool* o = out[0]->data<bool>();
        switch (op_) {
            case Logic::And: ref::broadcast_binary(p, a, b, o, [](bool x, bool y) { return x && y; }); break;
            case Logic::Or: ref::broadcast_binary(p, a, b, o, [](bool x, bool y) { return x || y; }); break;
            case Logic::Xor: ref::broadcast_binary(p, a, b, o, [](bool x, bool y) { return x != y; }); break;
        }
    }

private:
    Logic op_;
};

class NotKernel : public OpKernel {
public:
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        require_inputs(in, 1);
        if (in[0].dtype != DType::Bool) fail("input must be bool, not " + dtype_name(in[0].dtype));
        out[0].dtype = DType::Bool;
        out[0].shape = in[0].shape;
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const bool* x = in[0]->data<bool>();
        bool* y = out[0]->data<bool>();
        for (int64_t i = 0; i < out[0]->numel(); ++i) y[i] = !x[i];
    }
};

// ---------------------------------------------------------------- unary math

// A float-only unary op (Sqrt, Exp, ...): f is generic over float and double.
template <class F>
class UnaryFloatKernel : public OpKernel {
public:
    explicit UnaryFloatKernel(F f) : f_(f) {}
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        require_inputs(in, 1);
        require_float(in[0].dtype, "input");
        out[0].dtype = in[0].dtype;
        out[0].shape = in[0].shape;
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        ref::map_float(in[0]->dtype(), in[0]->raw(), out[0]->raw(), out[0]->numel(), f_);
    }

private:
    F f_;
};

template <class F>
OpFactory unary_float(F f) {
    return [f](const OpAttrs& a) -> std::unique_ptr<OpKernel> {
        a.ignore("consumed_inputs");  // opset < 6, meaningless at inference
        return std::make_unique<UnaryFloatKernel<F>>(f);
    };
}

// A unary op over float and integer types (Abs, Neg, Sign); `signed_only` rejects
// unsigned integers where the spec does (Neg).
template <class F>
class UnaryNumericKernel : public OpKernel {
public:
    UnaryNumericKernel(F f, bool signed_only) : f_(f), signed_only_(signed_only) {}
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        require_inputs(in, 1);
        DType t = in[0].dtype;
        require_numeric(t, "input");
        if (signed_only_ && (t == DType::U8 || t == DType::U16 || t == DType::U32 || t == DType::U64))
            fail_unsupported("input of type " + dtype_name(t) + " is not supported");
        out[0].dtype = t;
        out[0].shape = in[0].shape;
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const int64_t n = out[0]->numel();
        if (ref::map_float(in[0]->dtype(), in[0]->raw(), out[0]->raw(), n, f_)) return;
        dispatch(in[0]->dtype(), ref::IntTypes{}, [&](auto tag) {
            using T = decltype(tag);
            const T* x = in[0]->data<T>();
            T* y = out[0]->data<T>();
            for (int64_t i = 0; i < n; ++i) y[i] = convert_value<T>(f_(x[i]));
        });
    }

private:
    F f_;
    bool signed_only_;
};

template <class F>
OpFactory unary_numeric(F f, bool signed_only = false) {
    return [f, signed_only](const OpAttrs& a) -> std::unique_ptr<OpKernel> {
        a.ignore("consumed_inputs");
        return std::make_unique<UnaryNumericKernel<F>>(f, signed_only);
    };
}

// ---------------------------------------------------------------- Where

class WhereKernel : public OpKernel {
public:
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        require_inputs(in, 3);
        if (in[0].dtype != DType::Bool) fail("input 0 (condition) must be bool, not " + dtype_name(in[0].dtype));
        if (in[1].dtype != in[2].dtype)
            fail("inputs X and Y have different types " + dtype_name(in[1].dtype) + " and " +
                 dtype_name(in[2].dtype));
        if (dtype_size(in[1].dtype) == 0) fail_unsupported("input of type " + dtype_name(in[1].dtype));
        out[0].dtype = in[1].dtype;
        out[0].shape = broadcast_shapes(broadcast_shapes(in[0].shape, in[1].shape), in[2].shape);
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        Tensor& o = *out[0];
        auto p = ref::make_broadcast_plan(o.shape(), {in[0]->shape(), in[1]->shape(), in[2]->shape()});
        const bool* c = in[0]->data<bool>();
        // Where only moves elements, so any dtype is handled as raw words of its size.
        auto go = [&](auto tag) {
            using W = decltype(tag);
            ref::broadcast_ternary(p, c, static_cast<const W*>(in[1]->raw()), static_cast<const W*>(in[2]->raw()),
                                   static_cast<W*>(o.raw()), [](bool s, W x, W y) { return s ? x : y; });
        };
        switch (dtype_size(o.dtype())) {
            case 1: go(uint8_t{}); break;
            case 2: go(uint16_t{}); break;
            case 4: go(uint32_t{}); break;
            case 8: go(uint64_t{}); break;
            default: fail_unsupported("Where on type " + dtype_name(o.dtype()));
        }
    }
};

// ---------------------------------------------------------------- Cast

bool castable(DType t) { return t != DType::String && dtype_size(t) != 0; }

// Converts `src` into `dst` (same element count). float16/bfloat16 go through float.
void cast_tensor(const Tensor& src, Tensor& dst) {
    const int64_t n = src.numel();
    if (src.dtype() == dst.dtype()) {
        if (n) std::memcpy(dst.raw(), src.raw(), src.nbytes());
        return;
    }
    if (ref::is_half(src.dtype())) {
        cast_tensor(ref::widen_half(src), dst);
        return;
    }
    if (ref::is_half(dst.dtype())) {
        Tensor tmp(DType::F32, src.shape());
        cast_tensor(src, tmp);
        ref::f32_to_half(dst.dtype(), tmp.data<float>(), dst.raw(), n);
        return;
    }
    dispatch(src.dtype(), AllTypes{}, [&](auto st) {
        using S = decltype(st);
        const S* x = src.data<S>();
        dispatch(dst.dtype(), AllTypes{}, [&](auto dt) {
            using D = decltype(dt);
            D* y = dst.data<D>();
            for (int64_t i = 0; i < n; ++i) y[i] = convert_value<D>(x[i]);
        });
    });
}

class CastKernel : public OpKernel {
public:
    // like_input: CastLike, whose target type is input 1's type.
    CastKernel(DType to, bool like_input) : to_(to), like_(like_input) {}

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        require_inputs(in, like_ ? 2 : 1);
        DType to = like_ ? in[1].dtype : to_;
        if (!castable(in[0].dtype)) fail_unsupported("casting from type " + dtype_name(in[0].dtype));
        if (!castable(to)) fail_unsupported("casting to type " + dtype_name(to));
        out[0].dtype = to;
        out[0].shape = in[0].shape;
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        cast_tensor(*in[0], *out[0]);
    }

private:
    DType to_;
    bool like_;
};

std::unique_ptr<OpKernel> make_cast(const OpAttrs& a) {
    int64_t to = a.get_int("to");
    a.ignore("saturate");  // only affects float8 targets, which are not supported
    // Codes the engine cannot hold (string, float8, complex) are reported by infer() as
    // unsupported, like any other unsupported dtype.
    DType t = to >= 0 && to < 64 && dtype_known(int(to)) ? DType(to) : DType::String;
    return std::make_unique<CastKernel>(t, false);
}

// ---------------------------------------------------------------- Clip

class ClipKernel : public OpKernel {
public:
    // attr_bounds: opset < 11, where min/max are float attributes rather than inputs.
    ClipKernel(bool attr_bounds, float lo, float hi) : attr_bounds_(attr_bounds), lo_(lo), hi_(hi) {}

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        require_inputs(in, 1);
        DType t = in[0].dtype;
        require_numeric(t, "input");
        if (attr_bounds_) require_float(t, "input");
        for (size_t i = 1; i < in.size() && i < 3; ++i) {
            if (!in[i].present) continue;
            const char* name = i == 1 ? "input 1 (min)" : "input 2 (max)";
            if (in[i].dtype != t) fail(std::string(name) + " has type " + dtype_name(in[i].dtype) + ", not " + dtype_name(t));
            if (shape_numel(in[i].shape) != 1) fail(std::string(name) + " must be a scalar, got shape " + shape_str(in[i].shape));
        }
        out[0].dtype = t;
        out[0].shape = in[0].shape;
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        auto bound = [&](size_t i) -> const Tensor* { return i < in.size() ? in[i] : nullptr; };
        Tensor& o = *out[0];
        const int64_t n = o.numel();
        if (ref::is_half(o.dtype())) {
            float lo = attr_bounds_ ? lo_ : -std::numeric_limits<float>::infinity();
            float hi = attr_bounds_ ? hi_ : std::numeric_limits<float>::infinity();
            if (bound(1)) lo = float(bound(1)->to_f64()[0]);
            if (bound(2)) hi = float(bound(2)->to_f64()[0]);
            ref::map_float(o.dtype(), in[0]->raw(), o.raw(), n, [lo, hi](float x) { return clip(x, lo, hi); });
            return;
        }
        dispatch(o.dtype(), NumericTypes{}, [&](auto tag) {
            using T = decltype(tag);
            T lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
            if constexpr (std::is_floating_point_v<T>) {
                lo = -std::numeric_limits<T>::infinity();
                hi = std::numeric_limits<T>::infinity();
            }
            if (attr_bounds_) {
                if constexpr (std::is_floating_point_v<T>) {
                    lo = T(lo_);
                    hi = T(hi_);
                }
            } else {
                if (bound(1)) lo = bound(1)->data<T>()[0];
                if (bound(2)) hi = bound(2)->data<T>()[0];
            }
            const T* x = in[0]->data<T>();
            T* y = o.data<T>();
            for (int64_t i = 0; i < n; ++i) y[i] = clip(x[i], lo, hi);
        });
    }

private:
    // numpy.clip: min first, then max (so min > max gives max); NaN passes through.
    template <class T>
    static T clip(T x, T lo, T hi) {
        T v = x < lo ? lo : x;
        return v > hi ? hi : v;
    }

    bool attr_bounds_;
    float lo_, hi_;
};

std::unique_ptr<OpKernel> make_clip(const OpAttrs& a) {
    a.ignore("consumed_inputs");
    if (a.opset() < 11) {
        float lo = a.get_float("min", -std::numeric_limits<float>::infinity());
        float hi = a.get_float("max", std::numeric_limits<float>::infinity());
        return std::make_unique<ClipKernel>(true, lo, hi);
    }
    return std::make_unique<ClipKernel>(false, 0.f, 0.f);
}

}  // namespace

void register_elementwise_ops(OpRegistry& r) {
    r.add("Add", arith_factory(Arith::Add));
    r.add("Sub", arith_factory(Arith::Sub));
    r.add("Mul", arith_factory(Arith::Mul));
    r.add("Div", arith_factory(Arith::Div));
    r.add("Max", arith_factory(Arith::Max, true));
    r.add("Min", arith_factory(Arith::Min, true));
    r.add("Sum", arith_factory(Arith::Add, true));
    r.add("Mean", arith_factory(Arith::Add, true, true));
    r.add("Mod", make_mod);
    r.add("BitShift", make_bitshift);
    r.add("IsNaN", [](const OpAttrs&) -> std::unique_ptr<OpKernel> {
        return std::make_unique<FloatClassKernel>(true, false, false);
    });
    r.add("IsInf", [](const OpAttrs& a) -> std::unique_ptr<OpKernel> {
        return std::make_unique<FloatClassKernel>(false, a.get_int("detect_negative", 1) != 0,
                                                  a.get_int("detect_positive", 1) != 0);
    });
    r.add("Pow", [](const OpAttrs&) -> std::unique_ptr<OpKernel> { return std::make_unique<PowKernel>(); });

    r.add("Equal", [](const OpAttrs&) -> std::unique_ptr<OpKernel> { return std::make_unique<CompareKernel>(Cmp::Eq); });
    r.add("Less", [](const OpAttrs&) -> std::unique_ptr<OpKernel> { return std::make_unique<CompareKernel>(Cmp::Lt); });
    r.add("Greater", [](const OpAttrs&) -> std::unique_ptr<OpKernel> { return std::make_unique<CompareKernel>(Cmp::Gt); });
    r.add("LessOrEqual",
          [](const OpAttrs&) -> std::unique_ptr<OpKernel> { return std::make_unique<CompareKernel>(Cmp::Le); });
    r.add("GreaterOrEqual",
          [](const OpAttrs&) -> std::unique_ptr<OpKernel> { return std::make_unique<CompareKernel>(Cmp::Ge); });
    r.add("And", [](const OpAttrs&) -> std::unique_ptr<OpKernel> { return std::make_unique<LogicKernel>(Logic::And); });
    r.add("Or", [](const OpAttrs&) -> std::unique_ptr<OpKernel> { return std::make_unique<LogicKernel>(Logic::Or); });
    r.add("Xor", [](const OpAttrs&) -> std::unique_ptr<OpKernel> { return std::make_unique<LogicKernel>(Logic::Xor); });
    r.add("Not", [](const OpAttrs&) -> std::unique_ptr<OpKernel> { return std::make_unique<NotKernel>(); });

    r.add("Sqrt", unary_float([](auto x) { return std::sqrt(x); }));
    r.add("Exp", unary_float([](auto x) { return std::exp(x); }));
    r.add("Log", unary_float([](auto x) { return std::log(x); }));
    r.add("Erf", unary_float([](auto x) { return std::erf(x); }));
    r.add("Reciprocal", unary_float([](auto x) { return decltype(x)(1) / x; }));
    r.add("Floor", unary_float([](auto x) { return std::floor(x); }));
    r.add("Ceil", unary_float([](auto x) { return std::ceil(x); }));
    // Round half to even, as numpy.round does (the default FP rounding mode).
    r.add("Round", unary_float([](auto x) { return std::nearbyint(x); }));
    r.add("Sin", unary_float([](auto x) { return std::sin(x); }));
    r.add("Cos", unary_float([](auto x) { return std::cos(x); }));
    r.add("Tan", unary_float([](auto x) { return std::tan(x); }));
    r.add("Asin", unary_float([](auto x) { return std::asin(x); }));
    r.add("Acos", unary_float([](auto x) { return std::acos(x); }));
    r.add("Atan", unary_float([](auto x) { return std::atan(x); }));
    r.add("Sinh", unary_float([](auto x) { return std::sinh(x); }));
    r.add("Cosh", unary_float([](auto x) { return std::cosh(x); }));
    r.add("Asinh", unary_float([](auto x) { return std::asinh(x); }));
    r.add("Acosh", unary_float([](auto x) { return std::acosh(x); }));
    r.add("Atanh", unary_float([](auto x) { return std::atanh(x); }));
    r.add("Abs", unary_numeric([](auto x) {
              if constexpr (std::is_unsigned_v<decltype(x)>) return x;
              else return decltype(x)(x < 0 ? -x : x);
          }));
    r.add("Neg", unary_numeric([](auto x) { return decltype(x)(-x); }, true));
    r.add("Sign", unary_numeric([](auto x) {
              if constexpr (std::is_unsigned_v<decltype(x)>) return decltype(x)(x > 0);
              else return decltype(x)((x > 0) - (x < 0));
          }));

    r.add("Where", [](const OpAttrs&) -> std::unique_ptr<OpKernel> { return std::make_unique<WhereKernel>(); });
    r.add("Cast", make_cast);
    r.add("CastLike", [](const OpAttrs& a) -> std::unique_ptr<OpKernel> {
        a.ignore("saturate");
        return std::make_unique<CastKernel>(DType::Undefined, true);
    }, 15);
    r.add("Clip", make_clip);
}

}  // namespace edgecnn
