// Reductions (Reduce*), ArgMax/ArgMin and TopK. Float reductions accumulate in double
// and integer ones in 64 bits; float16/bfloat16 are widened to float first.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>
#include <type_traits>

#include "kernels/reference/eltwise_ref.hpp"
#include "base/convert.hpp"
#include "ops/op.hpp"

namespace edgecnn {
namespace {

using ref::dispatch;
using ref::NumericTypes;

void require_input(const std::vector<ValueInfo>& in, size_t i) {
    if (in.size() <= i || !in[i].present) fail("input " + std::to_string(i) + " is required");
}

void require_numeric(DType t) {
    if (t == DType::Bool || t == DType::String || dtype_size(t) == 0)
        fail_unsupported("input of type " + dtype_name(t) + " is not supported");
}

// Sizes of the dims before `axis`, at `axis`, and after it.
struct AxisSplit {
    int64_t outer = 1, n = 1, inner = 1;
};
AxisSplit split_at(const Shape& s, int64_t axis) {
    AxisSplit r;
    for (int64_t d = 0; d < int64_t(s.size()); ++d) {
        if (d < axis) r.outer *= s[d];
        else if (d == axis) r.n = s[d];
        else r.inner *= s[d];
    }
    return r;
}

// ---------------------------------------------------------------- Reduce*

enum class Red { Sum, Mean, Max, Min, Prod, L1, L2, SumSquare, LogSum, LogSumExp };

// Accumulator type: double for floats, 64-bit of the same signedness for integers.
template <class T>
using Acc = std::conditional_t<std::is_floating_point_v<T>, double,
                               std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;

// Walks a contiguous input whose dims are flagged reduced/kept and calls
// step(acc, x, out_index) for every element, where acc is the accumulator of the
// output element it reduces into. The input is first simplified: size-1 dims dropped
// and neighbouring dims with the same flag merged, so that the innermost loop is a
// contiguous run either folded into one accumulator or added element-wise to a row of
// accumulators.
template <class T, class A, class Step>
void reduce_walk(const T* x, const Shape& shape, const std::vector<bool>& reduced, A* acc, Step step) {
    std::vector<int64_t> dims;
    std::vector<bool> red;
    for (size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == 1) continue;
        if (!dims.empty() && red.back() == reduced[d]) dims.back() *= shape[d];
        else {
            dims.push_back(shape[d]);
            red.push_back(reduced[d]);
        }
    }
    if (dims.empty()) {
        dims.push_back(1);
        red.push_back(true);
    }
    const size_t m = dims.size();
    std::vector<int64_t> ostride(m, 0);
    int64_t os = 1;
    for (size_t d = m; d-- > 0;)
        if (!red[d]) {
            ostride[d] = os;
            os *= dims[d];
        }
    int64_t total = 1;
    for (int64_t d : dims) total *= d;
    if (total == 0) return;
    const int64_t len = dims[m - 1];
    const int64_t rows = total / len;
    const bool inner_reduced = red[m - 1];
    std::vector<int64_t> idx(m, 0);
    int64_t o = 0;
    for (int64_t r = 0; r < rows; ++r) {
        const T* row = x + r * len;
        if (inner_reduced) {
            A a = acc[o];
            for (int64_t i = 0; i < len; ++i) a = step(a, row[i], o);
            acc[o] = a;
        } else {
            for (int64_t i = 0; i < len; ++i) acc[o + i] = step(acc[o + i], row[i], o + i);
        }
        for (size_t d = m - 1; d-- > 0;) {
            if (++idx[d] < dims[d]) {
                o += ostride[d];
                break;
            }
            o -= ostride[d] * (dims[d] - 1);
            idx[d] = 0;
        }
    }
}

template <class T>
void reduce_typed(Red op, const T* x, const Shape& shape, const std::vector<bool>& reduced, T* out,
                  int64_t out_numel) {
    using A = Acc<T>;
    int64_t count = 1;
    for (size_t d = 0; d < shape.size(); ++d)
        if (reduced[d]) count *= shape[d];
    A init = A(0);
    if (op == Red::Prod) init = A(1);
    if (op == Red::Max) init = std::is_floating_point_v<A> ? -std::numeric_limits<A>::infinity() : A(std::numeric_limits<T>::lowest());
    if (op == Red::Min) init = std::is_floating_point_v<A> ? std::numeric_limits<A>::infinity() : A(std::numeric_limits<T>::max());
    std::vector<A> acc(size_t(out_numel), init);
    A* a = acc.data();
    auto absv = [](T v) -> A {
        if constexpr (std::is_unsigned_v<T>) return A(v);
        else return v < 0 ? A(0) - A(v) : A(v);
    };
    switch (op) {
        case Red::Sum:
        case Red::Mean:
        case Red::LogSum: reduce_walk(x, shape, reduced, a, [](A s, T v, int64_t) { return A(s + A(v)); }); break;
        case Red::Prod: reduce_walk(x, shape, reduced, a, [](A s, T v, int64_t) { return A(s * A(v)); }); break;
        case Red::Max:
            // NaN propagates, as in numpy.max.
            reduce_walk(x, shape, reduced, a, [](A s, T v, int64_t) { return (A(v) > s || v != v) ? A(v) : s; });
            break;
        case Red::Min:
            reduce_walk(x, shape, reduced, a, [](A s, T v, int64_t) { return (A(v) < s || v != v) ? A(v) : s; });
            break;
        case Red::L1:
            reduce_walk(x, shape, reduced, a, [&](A s, T v, int64_t) { return A(s + absv(v)); });
            break;
        case Red::L2:
        case Red::SumSquare:
            reduce_walk(x, shape, reduced, a, [](A s, T v, int64_t) { return A(s + A(v) * A(v)); });
            break;
        case Red::LogSumExp: {
            // log(sum(exp(x))) = m + log(sum(exp(x - m))) with m the max, so exp never overflows.
            std::vector<double> mx(size_t(out_numel), -std::numeric_limits<double>::infinity());
            reduce_walk(x, shape, reduced, mx.data(),
                        [](double s, T v, int64_t) { return double(v) > s ? double(v) : s; });
            for (double& m : mx)
                if (!std::isfinite(m)) m = 0;  // all -inf (or empty): no shift needed
            std::vector<double> sum(size_t(out_numel), 0.0);
            reduce_walk(x, shape, reduced, sum.data(),
                        [&](double s, T v, int64_t o) { return s + std::exp(double(v) - mx[size_t(o)]); });
            for (int64_t i = 0; i < out_numel; ++i) out[i] = convert_value<T>(mx[size_t(i)] + std::log(sum[size_t(i)]));
            return;
        }
    }
    for (int64_t i = 0; i < out_numel; ++i) {
        const A s = a[i];
        switch (op) {
            case Red::Mean: out[i] = convert_value<T>(double(s) / double(count)); break;
            case Red::L2: out[i] = convert_value<T>(std::sqrt(double(s))); break;
            case Red::LogSum: out[i] = convert_value<T>(std::log(double(s))); break;
            default: out[i] = convert_value<T>(s); break;
        }
    }
}

class ReduceKernel : public OpKernel {
public:
    // axes_input: the op version takes axes as optional input 1 (ReduceSum from 13, the
    // others from 18); otherwise `attr_axes` holds the attribute (empty when absent).
    ReduceKernel(Red op, bool keepdims, bool noop_empty, bool axes_input, std::vector<int64_t> attr_axes)
        : op_(op), keepdims_(keepdims), noop_(noop_empty), axes_input_(axes_input), attr_axes_(std::move(attr_axes)) {}

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        require_input(in, 0);
        require_numeric(in[0].dtype);
        const Tensor* axes = nullptr;
        if (axes_input_ && in.size() > 1 && in[1].present) {
            if (in[1].dtype != DType::I64) fail("input 1 (axes) must be int64, not " + dtype_name(in[1].dtype));
            if (in[1].shape.size() > 1) fail("input 1 (axes) must be 1-D, got shape " + shape_str(in[1].shape));
            if (!in[1].data) return false;
            axes = in[1].data;
        }
        const Shape& s = in[0].shape;
        std::vector<bool> reduced;
        const bool identity = resolve(s, axes, reduced);
        Shape os;
        for (size_t d = 0; d < s.size(); ++d) {
            if (identity || !reduced[d]) os.push_back(s[d]);
            else if (keepdims_) os.push_back(1);
        }
        out[0].dtype = in[0].dtype;
        out[0].shape = os;
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        Tensor& o = *out[0];
        std::vector<bool> reduced;
        if (resolve(in[0]->shape(), axes_input_ && in.size() > 1 ? in[1] : nullptr, reduced)) {
            if (o.numel()) std::memcpy(o.raw(), in[0]->raw(), o.nbytes());
            return;
        }
        const bool half = ref::is_half(o.dtype());
        Tensor x = half ? ref::widen_half(*in[0]) : *in[0];
        Tensor res = half ? Tensor(DType::F32, o.shape()) : o;
        dispatch(x.dtype(), NumericTypes{}, [&](auto tag) {
            using T = decltype(tag);
            reduce_typed<T>(op_, x.data<T>(), x.shape(), reduced, res.data<T>(), res.numel());
        });
        if (half) ref::f32_to_half(o.dtype(), res.data<float>(), o.raw(), o.numel());
    }

private:
    // Flags the reduced dims of `shape`; returns true when the op is an identity
    // (empty axes with noop_with_empty_axes). Empty axes otherwise mean all dims.
    bool resolve(const Shape& shape, const Tensor* axes_tensor, std::vector<bool>& reduced) const {
        const std::vector<int64_t> axes = axes_tensor ? axes_tensor->to_i64() : attr_axes_;
        if (axes.empty() && noop_) return true;
        reduced.assign(shape.size(), axes.empty());
        for (int64_t a : axes) reduced[size_t(normalize_axis(a, int64_t(shape.size())))] = true;
        return false;
    }

    Red op_;
    bool keepdims_, noop_, axes_input_;
    std::vector<int64_t> attr_axes_;
};

OpFactory reduce_factory(Red op, bool is_sum) {
    return [op, is_sum](const OpAttrs& a) -> std::unique_ptr<OpKernel> {
        const bool keepdims = a.get_int("keepdims", 1) != 0;
        const bool noop = a.get_int("noop_with_empty_axes", 0) != 0;
        const bool axes_input = a.opset() >= (is_sum ? 13 : 18);
        std::vector<int64_t> axes;
        if (!axes_input) axes = a.get_ints("axes", {});
        else if (a.has("axes")) fail("attribute 'axes' is not allowed from this opset on (axes is an input)");
        return std::make_unique<ReduceKernel>(op, keepdims, noop, axes_input, axes);
    };
}

// ---------------------------------------------------------------- ArgMax / ArgMin

class ArgKernel : public OpKernel {
public:
    ArgKernel(bool is_max, int64_t axis, bool keepdims, bool last)
        : max_(is_max), axis_(axis), keepdims_(keepdims), last_(last) {}

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        require_input(in, 0);
        require_numeric(in[0].dtype);
        const Shape& s = in[0].shape;
        const int64_t axis = normalize_axis(axis_, int64_t(s.size()));
        if (s[size_t(axis)] == 0) fail("cannot take ArgMax/ArgMin over an empty axis");
        Shape os;
        for (int64_t d = 0; d < int64_t(s.size()); ++d) {
            if (d != axis) os.push_back(s[size_t(d)]);
            else if (keepdims_) os.push_back(1);
        }
        out[0].dtype = DType::I64;
        out[0].shape = os;
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        Tensor x = ref::is_half(in[0]->dtype()) ? ref::widen_half(*in[0]) : *in[0];
        const AxisSplit sp = split_at(x.shape(), normalize_axis(axis_, int64_t(x.rank())));
        int64_t* y = out[0]->data<int64_t>();
        dispatch(x.dtype(), NumericTypes{}, [&](auto tag) {
            using T = decltype(tag);
            const T* px = x.data<T>();
            std::vector<T> best(size_t(sp.inner));
            for (int64_t o = 0; o < sp.outer; ++o) {
                const T* base = px + o * sp.n * sp.inner;
                int64_t* yi = y + o * sp.inner;
                for (int64_t i = 0; i < sp.inner; ++i) {
                    best[size_t(i)] = base[i];
                    yi[i] = 0;
                }
                // Axis outermost so every inner loop runs over contiguous memory.
                for (int64_t k = 1; k < sp.n; ++k) {
                    const T* row = base + k * sp.inner;
                    for (int64_t i = 0; i < sp.inner; ++i) {
                        const T v = row[i], b = best[size_t(i)];
                        const bool better = max_ ? (last_ ? v >= b : v > b) : (last_ ? v <= b : v < b);
                        if (better) {
                            best[size_t(i)] = v;
                            yi[i] = k;
                        }
                    }
                }
            }
        });
    }

private:
    bool max_;
    int64_t axis_;
    bool keepdims_, last_;
};

OpFactory arg_factory(bool is_max) {
    return [is_max](const OpAttrs& a) -> std::unique_ptr<OpKernel> {
        return std::make_unique<ArgKernel>(is_max, a.get_int("axis", 0), a.get_int("keepdims", 1) != 0,
                                           a.get_int("select_last_index", 0) != 0);
    };
}

// ---------------------------------------------------------------- TopK

class TopKKernel : public OpKernel {
public:
    // attr_k >= 0: opset < 10, where k is an attribute; otherwise k is input 1.
    TopKKernel(int64_t attr_k, int64_t axis, bool largest) : attr_k_(attr_k), axis_(axis), largest_(largest) {}

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        require_input(in, 0);
        require_numeric(in[0].dtype);
        int64_t k = attr_k_;
        if (attr_k_ < 0) {
            require_input(in, 1);
            if (in[1].dtype != DType::I64) fail("input 1 (K) must be int64, not " + dtype_name(in[1].dtype));
            if (shape_numel(in[1].shape) != 1) fail("input 1 (K) must hold one value, got shape " + shape_str(in[1].shape));
            if (!in[1].data) return false;
            k = in[1].data->to_i64()[0];
        }
        const Shape& s = in[0].shape;
        const int64_t axis = normalize_axis(axis_, int64_t(s.size()));
        if (k < 0 || k > s[size_t(axis)])
            fail("k=" + std::to_string(k) + " is out of range for axis " + std::to_string(axis) + " of shape " +
                 shape_str(s));
        Shape os = s;
        os[size_t(axis)] = k;
        if (out.size() < 2) fail("expects 2 outputs (Values, Indices)");
        out[0].dtype = in[0].dtype;
        out[0].shape = os;
        out[1].dtype = DType::I64;
        out[1].shape = os;
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Tensor& src = *in[0];
        Tensor x = ref::is_half(src.dtype()) ? ref::widen_half(src) : src;
        const int64_t axis = normalize_axis(axis_, int64_t(x.rank()));
        const AxisSplit sp = split_at(x.shape(), axis);
        const int64_t k = out[0] ? out[0]->dim(size_t(axis)) : out[1]->dim(size_t(axis));
        const size_t es = dtype_size(src.dtype());
        const auto* sbytes = static_cast<const unsigned char*>(src.raw());
        std::vector<int64_t> order(size_t(sp.n));
        dispatch(x.dtype(), NumericTypes{}, [&](auto tag) {
            using T = decltype(tag);
            const T* px = x.data<T>();
            std::vector<T> vals(size_t(sp.n));
            // Ties go to the lower index; NaN counts as larger than any number so the
            // order stays strict-weak (std::partial_sort needs that to be safe).
            auto greater = [](T a, T b) {
                if constexpr (std::is_floating_point_v<T>) {
                    if (std::isnan(a)) return !std::isnan(b);
                    if (std::isnan(b)) return false;
                }
                return a > b;
            };
            auto before = [&](int64_t i, int64_t j) {
                const T a = vals[size_t(i)], b = vals[size_t(j)];
                if (largest_ ? greater(a, b) : greater(b, a)) return true;
                if (largest_ ? greater(b, a) : greater(a, b)) return false;
                return i < j;
            };
            for (int64_t o = 0; o < sp.outer; ++o)
                for (int64_t i = 0; i < sp.inner; ++i) {
                    const int64_t base = o * sp.n * sp.inner + i;
                    for (int64_t j = 0; j < sp.n; ++j) vals[size_t(j)] = px[base + j * sp.inner];
                    std::iota(order.begin(), order.end(), int64_t(0));
                    std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
                    const int64_t obase = o * k * sp.inner + i;
                    for (int64_t j = 0; j < k; ++j) {
                        const int64_t src_idx = base + order[size_t(j)] * sp.inner;
                        const int64_t dst_idx = obase + j * sp.inner;
                        // Values are copied from the original buffer, exact for any dtype.
                        if (out[0])
                            std::memcpy(static_cast<unsigned char*>(out[0]->raw()) + size_t(dst_idx) * es,
                                        sbytes + size_t(src_idx) * es, es);
                        if (out[1]) out[1]->data<int64_t>()[dst_idx] = order[size_t(j)];
                    }
                }
        });
    }

private:
    int64_t attr_k_;
    int64_t axis_;
    bool largest_;
};

std::unique_ptr<OpKernel> make_topk(const OpAttrs& a) {
    const int64_t axis = a.get_int("axis", -1);
    const bool largest = a.get_int("largest", 1) != 0;
    // Outputs are always sorted, which `sorted=0` (order unspecified) permits.
    a.ignore("sorted");
    int64_t k = -1;
    if (a.opset() < 10) {
        k = a.get_int("k");
        if (k < 0) fail("attribute 'k' must be non-negative");
    }
    return std::make_unique<TopKKernel>(k, axis, largest);
}

}  // namespace

void register_reduce_ops(OpRegistry& r) {
    r.add("ReduceSum", reduce_factory(Red::Sum, true));
    r.add("ReduceMean", reduce_factory(Red::Mean, false));
    r.add("ReduceMax", reduce_factory(Red::Max, false));
    r.add("ReduceMin", reduce_factory(Red::Min, false));
    r.add("ReduceProd", reduce_factory(Red::Prod, false));
    r.add("ReduceL1", reduce_factory(Red::L1, false));
    r.add("ReduceL2", reduce_factory(Red::L2, false));
    r.add("ReduceSumSquare", reduce_factory(Red::SumSquare, false));
    r.add("ReduceLogSum", reduce_factory(Red::LogSum, false));
    r.add("ReduceLogSumExp", reduce_factory(Red::LogSumExp, false));
    r.add("ArgMax", arg_factory(true));
    r.add("ArgMin", arg_factory(false));
    r.add("TopK", make_topk);
}

}  // namespace edgecnn
