// Activation functions, PRelu, Softmax and LogSoftmax. Each pointwise activation is a
// generic lambda run over float, double, and float16/bfloat16 (through float); the
// numerically touchy ones (Sigmoid, Softplus, Elu) use the forms that neither overflow
// nor cancel.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/reference/eltwise_ref.hpp"
#include "base/convert.hpp"
#include "ops/op.hpp"

namespace edgecnn {
namespace {

bool is_float_type(DType t) { return t == DType::F32 || t == DType::F64 || ref::is_half(t); }

void require_input(const std::vector<ValueInfo>& in, size_t i) {
    if (in.size() <= i || !in[i].present) fail("input " + std::to_string(i) + " is required");
}

// A pointwise activation; `Ints` also admits signed integer inputs (Relu from opset 14).
template <class F, bool Ints>
class ActivationKernel : public OpKernel {
public:
    explicit ActivationKernel(F f) : f_(f) {}

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        require_input(in, 0);
        DType t = in[0].dtype;
        bool ok = is_float_type(t) ||
                  (Ints && (t == DType::I8 || t == DType::I16 || t == DType::I32 || t == DType::I64));
        if (!ok) fail_unsupported("input of type " + dtype_name(t) + " is not supported");
        out[0].dtype = t;
        out[0].shape = in[0].shape;
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const int64_t n = out[0]->numel();
        if (ref::map_float(in[0]->dtype(), in[0]->raw(), out[0]->raw(), n, f_)) return;
        if constexpr (Ints) {
            ref::dispatch(in[0]->dtype(), ref::TypeList<int8_t, int16_t, int32_t, int64_t>{}, [&](auto tag) {
                using T = decltype(tag);
                const T* x = in[0]->data<T>();
                T* y = out[0]->data<T>();
                for (int64_t i = 0; i < n; ++i) y[i] = convert_value<T>(f_(x[i]));
            });
        }
    }

private:
    F f_;
};

template <bool Ints = false, class F>
std::unique_ptr<OpKernel> activation(F f) {
    return std::make_unique<ActivationKernel<F, Ints>>(f);
}

// Opset < 6 versions carried a 'consumed_inputs' attribute that means nothing at inference.
void ignore_legacy(const OpAttrs& a) { a.ignore("consumed_inputs"); }

template <class T>
T sigmoid(T x) {
    // Both branches keep exp's argument <= 0, so nothing overflows.
    if (x >= 0) return T(1) / (T(1) + std::exp(-x));
    T e = std::exp(x);
    return e / (T(1) + e);
}

// ---------------------------------------------------------------- PRelu

class PReluKernel : public OpKernel {
public:
    explicit PReluKernel(int64_t opset = 7) : legacy_(opset < 7) {}
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        require_input(in, 0);
        require_input(in, 1);
        DType t = in[0].dtype;
        if (in[1].dtype != t)
            fail("input 1 (slope) has type " + dtype_name(in[1].dtype) + " but X has type " + dtype_name(t));
        if (!is_float_type(t) && t != DType::I32 && t != DType::I64 && t != DType::I8 && t != DType::I16)
            fail_unsupported("input of type " + dtype_name(t) + " is not supported");
        // Before opset 7 a 1-D slope of C values is per channel (axis 1), not numpy-aligned.
        per_channel_ = legacy_ && in[1].shape.size() == 1 && in[0].shape.size() >= 2 &&
                       in[1].shape[0] == in[0].shape[1] && in[0].shape[1] != in[0].shape.back();
        // The slope broadcasts to X, never the other way round.
        if (!per_channel_ && broadcast_shapes(in[0].shape, in[1].shape) != in[0].shape)
            fail("slope of shape " + shape_str(in[1].shape) + " does not broadcast to X of shape " +
                 shape_str(in[0].shape));
        out[0].dtype = t;
        out[0].shape = in[0].shape;
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        Tensor& o = *out[0];
        const bool half = ref::is_half(o.dtype());
        Tensor x = half ? ref::widen_half(*in[0]) : *in[0];
        Tensor s = half ? ref::widen_half(*in[1]) : *in[1];
        if (per_channel_) {
            Shape cs(x.rank(), 1);
            cs[1] = s.numel();
            s = s.reshaped(cs);
        }
        Tensor res = half ? Tensor(DType::F32, o.shape()) : o;
        auto p = ref::make_broadcast_plan(o.shape(), {x.shape(), s.shape()});
        ref::dispatch(x.dtype(), ref::SignedTypes{}, [&](auto tag) {
            using T = decltype(tag);
            ref::broadcast_binary(p, x.data<T>(), s.data<T>(), res.data<T>(),
                                  [](T v, T a) { return v < 0 ? T(a * v) : v; });
        });
        if (half) ref::f32_to_half(o.dtype(), res.data<float>(), o.raw(), o.numel());
    }

private:
    bool legacy_;
    bool per_channel_ = false;
};

// ---------------------------------------------------------------- Softmax / LogSoftmax

// One-hot of the first maximum along the axis.
template <class T>
void hardmax_rows(const T* in, T* out, int64_t outer, int64_t n, int64_t inner) {
    std::vector<int64_t> best(static_cast<size_t>(inner));
    for (int64_t o = 0; o < outer; ++o) {
        const T* x = in + o * n * inner;
        T* y = out + o * n * inner;
        std::fill(best.begin(), best.end(), int64_t(0));
        for (int64_t k = 1; k < n; ++k)
            for (int64_t i = 0; i < inner; ++i)
                if (x[k * inner + i] > x[best[size_t(i)] * inner + i]) best[size_t(i)] = k;
        for (int64_t k = 0; k < n; ++k)
            for (int64_t i = 0; i < inner; ++i) y[k * inner + i] = best[size_t(i)] == k ? T(1) : T(0);
    }
}

template <class T>
void softmax_rows(const T* in, T* out, int64_t outer, int64_t n, int64_t inner, bool log) {
    const T neg_inf = -std::numeric_limits<T>::infinity();
    std::vector<T> mx(static_cast<size_t>(inner)), sum(static_cast<size_t>(inner));
    for (int64_t o = 0; o < outer; ++o) {
        const T* x = in + o * n * inner;
        T* y = out + o * n * inner;
        // The reduced axis is strided by `inner`; walking it outermost keeps every inner
        // loop contiguous.
        std::fill(mx.begin(), mx.end(), neg_inf);
        std::fill(sum.begin(), sum.end(), T(0));
        for (int64_t k = 0; k < n; ++k)
            for (int64_t i = 0; i < inner; ++i) mx[i] = std::max(mx[i], x[k * inner + i]);
        for (int64_t k = 0; k < n; ++k)
            for (int64_t i = 0; i < inner; ++i) {
                T e = std::exp(x[k * inner + i] - mx[i]);
                if (!log) y[k * inner + i] = e;
                sum[i] += e;
            }
        if (log) {
            // (x - max) - log(sum), not x - (max + log(sum)): the latter loses the small
            // log term against a large max.
            for (int64_t i = 0; i < inner; ++i) sum[i] = std::log(sum[i]);
            for (int64_t k = 0; k < n; ++k)
                for (int64_t i = 0; i < inner; ++i) y[k * inner + i] = (x[k * inner + i] - mx[i]) - sum[i];
        } else {
            for (int64_t i = 0; i < inner; ++i) sum[i] = T(1) / sum[i];
            for (int64_t k = 0; k < n; ++k)
                for (int64_t i = 0; i < inner; ++i) y[k * inner + i] *= sum[i];
        }
    }
}

class SoftmaxKernel : public OpKernel {
public:
    // coerce_2d: opset < 13, where the input is flattened to [prod(:axis), prod(axis:)]
    // and normalised over the second dim.
    enum class Mode { Soft, LogSoft, Hard };
    SoftmaxKernel(int64_t axis, bool coerce_2d, Mode mode) : axis_(axis), coerce_(coerce_2d), mode_(mode) {}

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        require_input(in, 0);
        if (!is_float_type(in[0].dtype)) fail_unsupported("input of type " + dtype_name(in[0].dtype) + " is not supported");
        const int64_t rank = int64_t(in[0].shape.size());
        if (coerce_) {
            // Opset < 13 allows axis == rank (everything in the outer dim).
            if (axis_ < -rank || axis_ > rank)
                fail("axis " + std::to_string(axis_) + " is out of range for rank " + std::to_string(rank));
        } else {
            normalize_axis(axis_, rank);
        }
        out[0].dtype = in[0].dtype;
        out[0].shape = in[0].shape;
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Shape& s = in[0]->shape();
        const int64_t rank = int64_t(s.size());
        const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
        int64_t outer = 1, n = 1, inner = 1;
        for (int64_t d = 0; d < rank; ++d) {
            if (d < axis) outer *= s[d];
            else if (d == axis || coerce_) n *= s[d];
            else inner *= s[d];
        }
        if (outer * n * inner == 0) return;
        Tensor& o = *out[0];
        const bool half = ref::is_half(o.dtype());
        Tensor x = half ? ref::widen_half(*in[0]) : *in[0];
        Tensor res = half ? Tensor(DType::F32, o.shape()) : o;
        ref::dispatch(x.dtype(), ref::FloatTypes{}, [&](auto tag) {
            using T = decltype(tag);
            if (mode_ == Mode::Hard) hardmax_rows<T>(x.data<T>(), res.data<T>(), outer, n, inner);
            else softmax_rows<T>(x.data<T>(), res.data<T>(), outer, n, inner, mode_ == Mode::LogSoft);
        });
        if (half) ref::f32_to_half(o.dtype(), res.data<float>(), o.raw(), o.numel());
    }

private:
    int64_t axis_;
    bool coerce_;
    Mode mode_;
};

OpFactory softmax_factory(SoftmaxKernel::Mode mode) {
    return [mode](const OpAttrs& a) -> std::unique_ptr<OpKernel> {
        const bool coerce = a.opset() < 13;
        return std::make_unique<SoftmaxKernel>(a.get_int("axis", coerce ? 1 : -1), coerce, mode);
    };
}

}  // namespace

void register_activation_ops(OpRegistry& r) {
    r.add("Relu", [](const OpAttrs& a) {
        ignore_legacy(a);
        // x < 0 rather than max(x, 0) so that NaN passes through, as in numpy.maximum.
        return activation<true>([](auto x) { return x < 0 ? decltype(x)(0) : x; });
    });
    r.add("LeakyRelu", [](const OpAttrs& a) {
        ignore_legacy(a);
        const float alpha = a.get_float("alpha", 0.01f);
        return activation([alpha](auto x) { return x < 0 ? decltype(x)(alpha) * x : x; });
    });
    r.add("Sigmoid", [](const OpAttrs& a) {
        ignore_legacy(a);
        return activation([](auto x) { return sigmoid(x); });
    });
    r.add("HardSigmoid", [](const OpAttrs& a) {
        ignore_legacy(a);
        const float alpha = a.get_float("alpha", 0.2f), beta = a.get_float("beta", 0.5f);
        return activation([alpha, beta](auto x) {
            using T = decltype(x);
            T v = T(alpha) * x + T(beta);
            return v < 0 ? T(0) : (v > 1 ? T(1) : v);
        });
    });
    r.add("HardSwish", [](const OpAttrs&) {
        return activation([](auto x) {
            using T = decltype(x);
            T v = x / T(6) + T(0.5);
            return x * (v < 0 ? T(0) : (v > 1 ? T(1) : v));
        });
    });
    r.add("Tanh", [](const OpAttrs& a) {
        ignore_legacy(a);
        return activation([](auto x) { return std::tanh(x); });
    });
    r.add("Elu", [](const OpAttrs& a) {
        ignore_legacy(a);
        const float alpha = a.get_float("alpha", 1.f);
        return activation([alpha](auto x) { return x < 0 ? decltype(x)(alpha) * std::expm1(x) : x; });
    });
    r.add("Selu", [](const OpAttrs& a) {
        ignore_legacy(a);
        const float alpha = a.get_float("alpha", 1.67326319217681884765625f);
        const float gamma = a.get_float("gamma", 1.05070102214813232421875f);
        return activation([alpha, gamma](auto x) {
            using T = decltype(x);
            return x > 0 ? T(gamma) * x : T(gamma) * T(alpha) * std::expm1(x);
        });
    });
    r.add("Celu", [](const OpAttrs& a) {
        const float alpha = a.get_float("alpha", 1.f);
        if (alpha == 0.f) fail("attribute 'alpha' must not be 0");
        return activation([alpha](auto x) {
            using T = decltype(x);
            return x > 0 ? x : T(alpha) * std::expm1(x / T(alpha));
        });
    });
    r.add("ThresholdedRelu", [](const OpAttrs& a) {
        const float alpha = a.get_float("alpha", 1.f);
        return activation([alpha](auto x) { return x > decltype(x)(alpha) ? x : decltype(x)(0); });
    });
    r.add("Softplus", [](const OpAttrs&) {
        // log(1 + e^x) without overflow for large x or loss of precision for very negative x.
        return activation([](auto x) {
            using T = decltype(x);
            return x > 0 ? x + std::log1p(std::exp(-x)) : T(std::log1p(std::exp(x)));
        });
    });
    r.add("Shrink", [](const OpAttrs& a) {
        const float bias = a.get_float("bias", 0.f), lambd = a.get_float("lambd", 0.5f);
        return activation([bias, lambd](auto x) {
            using T = decltype(x);
            return x < T(-lambd) ? x + T(bias) : (x > T(lambd) ? x - T(bias) : T(0));
        });
    });
    r.add("Softsign", [](const OpAttrs&) {
        return activation([](auto x) { return x / (decltype(x)(1) + std::abs(x)); });
    });
    r.add("Gelu", [](const OpAttrs& a) -> std::unique_ptr<OpKernel> {
        const std::string approx = a.get_string("approximate", "none");
        if (approx == "none")
            return activation([](auto x) {
                using T = decltype(x);
                return T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752440)));
            });
        if (approx == "tanh")
            return activation([](auto x) {
                using T = decltype(x);
                const T k = T(0.79788456080286535588);  // sqrt(2 / pi)
                return T(0.5) * x * (T(1) + std::tanh(k * (x + T(0.044715) * x * x * x)));
            });
        fail("attribute 'approximate'='" + approx + "' must be 'none' or 'tanh'");
    }, 20);
    r.add("PRelu", [](const OpAttrs& a) -> std::unique_ptr<OpKernel> {
        ignore_legacy(a);
        return std::make_unique<PReluKernel>(a.opset());
    });
    r.add("Softmax", softmax_factory(SoftmaxKernel::Mode::Soft));
    r.add("LogSoftmax", softmax_factory(SoftmaxKernel::Mode::LogSoft));
    r.add("Hardmax", softmax_factory(SoftmaxKernel::Mode::Hard));
}

}  // namespace edgecnn
