// Shape and data-movement ops. Nothing here computes on element values except Range,
// NonZero and the Dropout/Pad constants, so kernels move bytes (dtype_size) and work for
// every storable dtype: float, int64 shape tensors, bool masks alike.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "base/thread_pool.hpp"
#include "kernels/eltwise/eltwise_f32.hpp"
#include "ops/op.hpp"

namespace edgecnn {

namespace {

// ---------------------------------------------------------------- small helpers

std::string num(int64_t v) { return std::to_string(v); }

size_t storable_size(DType t, const std::string& what) {
    size_t es = dtype_size(t);
    if (es == 0) fail_unsupported(what + " of type " + dtype_name(t) + " is not supported");
    return es;
}

bool has_in(const std::vector<ValueInfo>& in, size_t i) { return i < in.size() && in[i].present; }

const ValueInfo& need_in(const std::vector<ValueInfo>& in, size_t i, const std::string& name) {
    if (!has_in(in, i)) fail("required input " + num(int64_t(i)) + " '" + name + "' is missing");
    if (in[i].dtype != DType::Undefined) storable_size(in[i].dtype, "input '" + name + "'");
    return in[i];
}

void need_outputs(const std::vector<ValueInfo>& out, size_t n) {
    if (out.size() < n) fail("expected at least " + num(int64_t(n)) + " output(s), got " + num(int64_t(out.size())));
}

void set_out(std::vector<ValueInfo>& out, size_t i, DType t, Shape s) {
    if (i < out.size() && out[i].present) {
        out[i].dtype = t;
        out[i].shape = std::move(s);
    }
}

// Integer values of a shape-like input (int32/int64 per the spec; other integer types
// are accepted because they convert exactly).
std::vector<int64_t> int_values(const Tensor& t, const std::string& name) {
    switch (t.dtype()) {
        case DType::I64: case DType::I32: case DType::I16: case DType::I8:
        case DType::U8: case DType::U16: case DType::U32: case DType::U64:
            return t.to_i64();
        default:
            fail("input '" + name + "' must be an integer tensor, not " + dtype_name(t.dtype()));
    }
}

void require_1d(const Shape& s, const std::string& name) {
    if (s.size() != 1) fail("input '" + name + "' must be 1-D, got shape " + shape_str(s));
}

// A scalar `v` converted to `t` and stored in `dst` (dtype_size(t) bytes).
void store_scalar(double v, DType t, void* dst) {
    switch (t) {
        case DType::F32: { float x = float(v); std::memcpy(dst, &x, 4); break; }
        case DType::F64: std::memcpy(dst, &v, 8); break;
        case DType::F16: { uint16_t x = float_to_half(float(v)); std::memcpy(dst, &x, 2); break; }
        case DType::BF16: { uint16_t x = float_to_bf16(float(v)); std::memcpy(dst, &x, 2); break; }
        case DType::I64: { int64_t x = int64_t(v); std::memcpy(dst, &x, 8); break; }
        case DType::I32: { int32_t x = int32_t(v); std::memcpy(dst, &x, 4); break; }
        case DType::I16: { int16_t x = int16_t(v); std::memcpy(dst, &x, 2); break; }
        case DType::I8: { int8_t x = int8_t(v); std::memcpy(dst, &x, 1); break; }
        case DType::U8: { uint8_t x = uint8_t(v); std::memcpy(dst, &x, 1); break; }
        case DType::U16: { uint16_t x = uint16_t(v); std::memcpy(dst, &x, 2); break; }
        case DType::U32: { uint32_t x = uint32_t(v); std::memcpy(dst, &x, 4); break; }
        case DType::U64: { uint64_t x = uint64_t(v); std::memcpy(dst, &x, 8); break; }
        case DType::Bool: { uint8_t x = v != 0; std::memcpy(dst, &x, 1); break; }
        default: fail_unsupported("a constant of type " + dtype_name(t) + " is not supported");
    }
}

// ---------------------------------------------------------------- copy kernels

// Writes `n` copies of the element at `elem` (es bytes) to dst.
void fill_elems(uint8_t* dst, const uint8_t* elem, int64_t n, size_t es) {
    switch (es) {
        case 1: std::memset(dst, *elem, size_t(n)); return;
        case 2: { uint16_t v; std::memcpy(&v, elem, 2); std::fill_n(reinterpret_cast<uint16_t*>(dst), n, v); return; }
        case 4: { uint32_t v; std::memcpy(&v, elem, 4); std::fill_n(reinterpret_cast<uint32_t*>(dst), n, v); return; }
        case 8: { uint64_t v; std::memcpy(&v, elem, 8); std::fill_n(reinterpret_cast<uint64_t*>(dst), n, v); return; }
        default:
            for (int64_t i = 0; i < n; ++i) std::memcpy(dst + size_t(i) * es, elem, es);
    }
}

template <typename T>
void copy_row_strided(uint8_t* dst, const uint8_t* src, int64_t n, int64_t stride_bytes) {
    T* d = reinterpret_cast<T*>(dst);
    for (int64_t i = 0; i < n; ++i) std::memcpy(d + i, src + i * stride_bytes, sizeof(T));
}

// Copies the view of `src` given by `shape` and signed byte strides into the contiguous
// row-major `dst`. Transpose, Slice, Expand and DepthToSpace are all such views. Dims are
// coalesced first so that contiguous runs become one memcpy.
void copy_view(uint8_t* dst, const uint8_t* src, const Shape& shape, const std::vector<int64_t>& strides,
               size_t es) {
    Shape sh;
    std::vector<int64_t> st;
    for (size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == 0) return;
        if (shape[d] == 1) continue;
        if (!sh.empty() && st.back() == strides[d] * shape[d]) {
            sh.back() *= shape[d];
            st.back() = strides[d];
        } else {
            sh.push_back(shape[d]);
            st.push_back(strides[d]);
        }
    }
    if (sh.empty()) {
        std::memcpy(dst, src, es);
        return;
    }
    const size_t r = sh.size();
    const int64_t inner = sh[r - 1], inner_stride = st[r - 1];
    int64_t outer = 1;
    for (size_t d = 0; d + 1 < r; ++d) outer *= sh[d];
    std::vector<int64_t> idx(r, 0);
    int64_t off = 0;
    const size_t row_bytes = size_t(inner) * es;
    for (int64_t row = 0; row < outer; ++row, dst += row_bytes) {
        const uint8_t* s = src + off;
        if (inner_stride == int64_t(es)) std::memcpy(dst, s, row_bytes);
        else if (inner_stride == 0) fill_elems(dst, s, inner, es);
        else {
            switch (es) {
                case 1: copy_row_strided<uint8_t>(dst, s, inner, inner_stride); break;
                case 2: copy_row_strided<uint16_t>(dst, s, inner, inner_stride); break;
                case 4: copy_row_strided<uint32_t>(dst, s, inner, inner_stride); break;
                case 8: copy_row_strided<uint64_t>(dst, s, inner, inner_stride); break;
                default:
                    for (int64_t i = 0; i < inner; ++i) std::memcpy(dst + size_t(i) * es, s + i * inner_stride, es);
            }
        }
        for (size_t d = r - 1; d-- > 0;) {
            off += st[d];
            if (++idx[d] < sh[d]) break;
            off -= st[d] * sh[d];
            idx[d] = 0;
        }
    }
}

// out[o0,..,on] = in[maps[0][o0], .., maps[n][on]], or `fill` where any map entry is -1.
// Pad and Tile are such per-dimension index maps. The innermost map is split once into
// runs (contiguous copy, repeated element, fill) so each output row is a few memcpys.
void gather_maps(uint8_t* dst, const uint8_t* src, const Shape& in_shape,
                 const std::vector<std::vector<int64_t>>& maps, size_t es, const uint8_t* fill) {
    const size_t r = in_shape.size();
    if (r == 0) {
        std::memcpy(dst, src, es);
        return;
    }
    for (const auto& m : maps)
        if (m.empty()) return;
    struct Run { int kind; int64_t src, len; };  // kind 0 copy, 1 repeat, 2 fill
    std::vector<Run> runs;
    for (int64_t m : maps[r - 1]) {
        Run* last = runs.empty() ? nullptr : &runs.back();
        if (m < 0) {
            if (last && last->kind == 2) ++last->len;
            else runs.push_back({2, 0, 1});
        } else if (last && last->kind == 0 && last->src + last->len == m) {
            ++last->len;
        } else if (last && last->src == m && (last->kind == 1 || (last->kind == 0 && last->len == 1))) {
            last->kind = 1;
            ++last->len;
        } else {
            runs.push_back({0, m, 1});
        }
    }
    std::vector<int64_t> in_strides = strides_of(in_shape);
    const int64_t row_len = int64_t(maps[r - 1].size());
    int64_t rows = 1;
    for (size_t d = 0; d + 1 < r; ++d) rows *= int64_t(maps[d].size());
    std::vector<int64_t> idx(r, 0);
    for (int64_t row = 0; row < rows; ++row, dst += size_t(row_len) * es) {
        int64_t base = 0;
        bool filled = false;
        for (size_t d = 0; d + 1 < r; ++d) {
            int64_t m = maps[d][size_t(idx[d])];
            if (m < 0) { filled = true; break; }
            base += m * in_strides[d];
        }
        if (filled) {
            fill_elems(dst, fill, row_len, es);
        } else {
            uint8_t* o = dst;
            for (const Run& run : runs) {
                if (run.kind == 0) std::memcpy(o, src + size_t(base + run.src) * es, size_t(run.len) * es);
                else if (run.kind == 1) fill_elems(o, src + size_t(base + run.src) * es, run.len, es);
                else fill_elems(o, fill, run.len, es);
                o += size_t(run.len) * es;
            }
        }
        for (size_t d = r - 1; d-- > 0;) {
            if (++idx[d] < int64_t(maps[d].size())) break;
            idx[d] = 0;
        }
    }
}

std::vector<int64_t> byte_strides(const Shape& s, size_t es) {
    std::vector<int64_t> st = strides_of(s);
    for (auto& v : st) v *= int64_t(es);
    return st;
}

int64_t prod(const Shape& s, size_t from, size_t to) {
    int64_t p = 1;
    for (size_t i = from; i < to && i < s.size(); ++i) p *= s[i];
    return p;
}

// Normalises a list of axes against `rank`, rejecting duplicates.
std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, int64_t rank, const std::string& what) {
    std::vector<int64_t> out;
    for (int64_t a : axes) {
        int64_t n = normalize_axis(a, rank);
        if (std::find(out.begin(), out.end(), n) != out.end())
            fail(what + " contains axis " + num(a) + " more than once");
        out.push_back(n);
    }
    return out;
}

// ---------------------------------------------------------------- Concat

class ConcatOp : public OpKernel {
public:
    explicit ConcatOp(const OpAttrs& a) : axis_(a.get_int("axis")), pool_(a.pool()) {}
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        if (in.empty()) fail("Concat needs at least one input");
        const ValueInfo& first = need_in(in, 0, "inputs");
        const int64_t rank = int64_t(first.shape.size());
        if (rank == 0) fail("Concat inputs must have rank >= 1");
        const int64_t axis = normalize_axis(axis_, rank);
        Shape s = first.shape;
        s[size_t(axis)] = 0;
        for (size_t i = 0; i < in.size(); ++i) {
            const ValueInfo& v = need_in(in, i, "inputs");
            if (v.dtype != first.dtype)
                fail("input " + num(int64_t(i)) + " has type " + dtype_name(v.dtype) + ", input 0 has " +
                     dtype_name(first.dtype));
            bool ok = int64_t(v.shape.size()) == rank;
            for (int64_t d = 0; ok && d < rank; ++d)
                if (d != axis && v.shape[size_t(d)] != first.shape[size_t(d)]) ok = false;
            if (!ok)
                fail("input " + num(int64_t(i)) + " of shape " + shape_str(v.shape) +
                     " does not match input 0 of shape " + shape_str(first.shape) + " outside axis " + num(axis));
            s[size_t(axis)] += v.shape[size_t(axis)];
        }
        axis_n_ = axis;
        set_out(out, 0, first.dtype, s);
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        Tensor& y = *out[0];
        const size_t es = dtype_size(y.dtype());
        const int64_t outer = prod(y.shape(), 0, size_t(axis_n_));
        const int64_t inner = prod(y.shape(), size_t(axis_n_) + 1, y.rank());
        uint8_t* dst = static_cast<uint8_t*>(y.raw());
        const size_t out_chunk = size_t(y.dim(size_t(axis_n_)) * inner) * es;
        // Rows [o0, o1) of every input: each output row is complete after one pass, so
        // blocks of rows can go to different threads.
        auto copy_rows = [&](int64_t o0, int64_t o1) {
            size_t pos = 0;
            for (const Tensor* x : in) {
                const size_t chunk = size_t(x->dim(size_t(axis_n_)) * inner) * es;
                const uint8_t* src = static_cast<const uint8_t*>(x->raw());
                for (int64_t o = o0; o < o1 && chunk; ++o)
                    std::memcpy(dst + size_t(o) * out_chunk + pos, src + size_t(o) * chunk, chunk);
                pos += chunk;
            }
        };
        // A channel Concat in NHWC (e.g. SqueezeNet's fire modules: 55x55 pixels x 128
        // channels) is a memory-bound copy that one thread cannot saturate: split it in
        // blocks of at least 64 KB when the session has threads.
        const size_t total = size_t(outer) * out_chunk;
        constexpr size_t kMinBlockBytes = 64 * 1024;
        if (pool_ && pool_->size() > 1 && outer > 1 && total >= 2 * kMinBlockBytes) {
            const int64_t blocks = std::min<int64_t>({outer, int64_t(total / kMinBlockBytes), 4 * pool_->size()});
            pool_->parallel_for(blocks, [&](int64_t b) { copy_rows(outer * b / blocks, outer * (b + 1) / blocks); });
        } else {
            copy_rows(0, outer);
        }
    }

private:
    int64_t axis_, axis_n_ = 0;
    ThreadPool* pool_;
};

// ---------------------------------------------------------------- Split

class SplitOp : public OpKernel {
public:
    explicit SplitOp(const OpAttrs& a) : axis_(a.get_int("axis", 0)) {
        if (a.opset() < 13) {
            if (a.has("split")) split_attr_ = a.get_ints("split");
        } else if (a.has("split")) {
            fail("attribute 'split' is an input since opset 13");
        }
        if (a.has("num_outputs")) {
            if (a.opset() < 18) fail("attribute 'num_outputs' exists only from opset 18");
            num_outputs_ = a.get_int("num_outputs");
            if (num_outputs_ < 1) fail("attribute 'num_outputs' must be >= 1");
        }
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        const ValueInfo& x = need_in(in, 0, "input");
        if (out.empty()) fail("Split needs at least one output");
        const int64_t rank = int64_t(x.shape.size());
        if (rank == 0) fail("Split input must have rank >= 1");
        axis_n_ = normalize_axis(axis_, rank);
        const int64_t dim = x.shape[size_t(axis_n_)];
        const int64_t n = int64_t(out.size());
        std::vector<int64_t> sizes;
        if (has_in(in, 1)) {
            if (!in[1].data) return false;
            require_1d(in[1].shape, "split");
            sizes = int_values(*in[1].data, "split");
        } else if (!split_attr_.empty()) {
            sizes = split_attr_;
        }
        if (!sizes.empty() || (has_in(in, 1))) {
            if (int64_t(sizes.size()) != n)
                fail("'split' has " + num(int64_t(sizes.size())) + " entries for " + num(n) + " outputs");
            int64_t sum = 0;
            for (int64_t s : sizes) {
                if (s < 0) fail("'split' has a negative size " + num(s));
                sum += s;
            }
            if (sum != dim)
                fail("'split' sizes sum to " + num(sum) + " but axis " + num(axis_n_) + " has " + num(dim));
        } else if (num_outputs_ > 0) {
            if (num_outputs_ != n)
                fail("num_outputs=" + num(num_outputs_) + " but the node has " + num(n) + " outputs");
            // Opset 18: chunks of ceil(dim/n), the last one smaller.
            const int64_t chunk = (dim + n - 1) / n;
            int64_t left = dim;
            for (int64_t i = 0; i < n; ++i) {
                sizes.push_back(std::min(chunk, left));
                left -= sizes.back();
            }
        } else {
            if (dim % n != 0)
                fail("axis " + num(axis_n_) + " of size " + num(dim) + " cannot be split equally into " + num(n) +
                     " outputs");
            sizes.assign(size_t(n), dim / n);
        }
        sizes_ = sizes;
        for (size_t i = 0; i < out.size(); ++i) {
            Shape s = x.shape;
            s[size_t(axis_n_)] = sizes[i];
            set_out(out, i, x.dtype, s);
        }
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Tensor& x = *in[0];
        const size_t es = dtype_size(x.dtype());
        const int64_t outer = prod(x.shape(), 0, size_t(axis_n_));
        const int64_t inner = prod(x.shape(), size_t(axis_n_) + 1, x.rank());
        const size_t in_chunk = size_t(x.dim(size_t(axis_n_)) * inner) * es;
        const uint8_t* src = static_cast<const uint8_t*>(x.raw());
        size_t pos = 0;
        for (size_t i = 0; i < out.size(); ++i) {
            const size_t chunk = size_t(sizes_[i] * inner) * es;
            if (out[i]) {
                uint8_t* dst = static_cast<uint8_t*>(out[i]->raw());
                for (int64_t o = 0; o < outer && chunk; ++o)
                    std::memcpy(dst + size_t(o) * chunk, src + size_t(o) * in_chunk + pos, chunk);
            }
            pos += chunk;
        }
    }

private:
    int64_t axis_, axis_n_ = 0, num_outputs_ = 0;
    std::vector<int64_t> split_attr_, sizes_;
};

// ---------------------------------------------------------------- Slice

struct SliceParams {
    Shape out_shape;
    std::vector<int64_t> start, step;  // per input dim
};

SliceParams slice_params(const Shape& shape, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
                         const std::vector<int64_t>& axes_in, const std::vector<int64_t>& steps_in) {
    const int64_t rank = int64_t(shape.size());
    if (starts.size() != ends.size())
        fail("'starts' has " + num(int64_t(starts.size())) + " entries but 'ends' has " + num(int64_t(ends.size())));
    std::vector<int64_t> axes = axes_in;
    if (axes.empty())
        for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
    if (axes.size() != starts.size()) fail("'axes' and 'starts' have different lengths");
    if (!steps_in.empty() && steps_in.size() != starts.size()) fail("'steps' and 'starts' have different lengths");
    axes = normalize_axes(axes, rank, "'axes'");
    SliceParams p;
    p.out_shape = shape;
    p.start.assign(size_t(rank), 0);
    p.step.assign(size_t(rank), 1);
    for (size_t i = 0; i < axes.size(); ++i) {
        const size_t a = size_t(axes[i]);
        const int64_t dim = shape[a];
        const int64_t step = steps_in.empty() ? 1 : steps_in[i];
        if (step == 0) fail("'steps' must not be 0");
        int64_t s = starts[i], e = ends[i];
        // Negative values count from the end; INT64_MIN/INT64_MAX sentinels stay out of range.
        if (s < 0) s += dim;
        if (e < 0) e += dim;
        int64_t count;
        if (step > 0) {
            s = std::clamp<int64_t>(s, 0, dim);
            e = std::clamp<int64_t>(e, 0, dim);
            count = e > s ? 1 + (e - s - 1) / step : 0;
        } else {
            s = std::clamp<int64_t>(s, 0, dim - 1);
            e = std::clamp<int64_t>(e, -1, dim - 1);
            const int64_t astep = step == std::numeric_limits<int64_t>::min() ? std::numeric_limits<int64_t>::max() : -step;
            count = s > e ? 1 + (s - e - 1) / astep : 0;
        }
        p.out_shape[a] = count;
        p.start[a] = count ? s : 0;
        p.step[a] = count > 1 ? step : 1;  // a huge step taking one element must not scale the stride
    }
    return p;
}

class SliceOp : public OpKernel {
public:
    explicit SliceOp(const OpAttrs& a) : legacy_(a.opset() < 10) {
        if (legacy_) {
            starts_ = a.get_ints("starts");
            ends_ = a.get_ints("ends");
            axes_ = a.get_ints("axes", {});
        }
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        const ValueInfo& x = need_in(in, 0, "data");
        std::vector<int64_t> starts = starts_, ends = ends_, axes = axes_, steps;
        if (!legacy_) {
            const ValueInfo& s = need_in(in, 1, "starts");
            const ValueInfo& e = need_in(in, 2, "ends");
            if (!s.data || !e.data || (has_in(in, 3) && !in[3].data) || (has_in(in, 4) && !in[4].data)) return false;
            require_1d(s.shape, "starts");
            require_1d(e.shape, "ends");
            starts = int_values(*s.data, "starts");
            ends = int_values(*e.data, "ends");
            if (has_in(in, 3)) axes = int_values(*in[3].data, "axes");
            if (has_in(in, 4)) steps = int_values(*in[4].data, "steps");
        }
        p_ = slice_params(x.shape, starts, ends, axes, steps);
        set_out(out, 0, x.dtype, p_.out_shape);
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Tensor& x = *in[0];
        const size_t es = dtype_size(x.dtype());
        std::vector<int64_t> st = byte_strides(x.shape(), es);
        int64_t base = 0;
        std::vector<int64_t> vst(st.size());
        for (size_t d = 0; d < st.size(); ++d) {
            base += p_.start[d] * st[d];
            vst[d] = st[d] * p_.step[d];
        }
        if (out[0]->numel() == 0) return;
        copy_view(static_cast<uint8_t*>(out[0]->raw()), static_cast<const uint8_t*>(x.raw()) + base, p_.out_shape,
                  vst, es);
    }

private:
    bool legacy_;
    std::vector<int64_t> starts_, ends_, axes_;
    SliceParams p_;
};

// ---------------------------------------------------------------- Reshape, Flatten, Squeeze, Unsqueeze, Identity

// Ops whose output is the input's bytes under another shape.
class CopyKernel : public OpKernel {
public:
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        if (out[0] && out[0]->nbytes()) std::memcpy(out[0]->raw(), in[0]->raw(), out[0]->nbytes());
    }
};

class ReshapeOp : public CopyKernel {
public:
    explicit ReshapeOp(const OpAttrs& a) : allowzero_(a.get_int("allowzero", 0) != 0) {}
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        const ValueInfo& x = need_in(in, 0, "data");
        const ValueInfo& s = need_in(in, 1, "shape");
        if (!s.data) return false;
        require_1d(s.shape, "shape");
        Shape shape = int_values(*s.data, "shape");
        int64_t infer_at = -1, known = 1;
        bool has_zero = false;
        for (size_t i = 0; i < shape.size(); ++i) {
            if (shape[i] == -1) {
                if (infer_at >= 0) fail("'shape' " + shape_str(shape) + " has more than one -1");
                infer_at = int64_t(i);
                continue;
            }
            if (shape[i] < -1) fail("'shape' " + shape_str(shape) + " has an invalid dimension");
            if (shape[i] == 0 && !allowzero_) {
                if (i >= x.shape.size())
                    fail("'shape' " + shape_str(shape) + " copies dimension " + num(int64_t(i)) + " (0) of input " +
                         shape_str(x.shape) + " which it does not have");
                shape[i] = x.shape[i];
            }
            if (shape[i] == 0) has_zero = true;
            known = shape_numel({known, shape[i]});
        }
        const int64_t total = shape_numel(x.shape);
        if (infer_at >= 0) {
            if (known == 0) {
                if (has_zero && allowzero_) fail("'shape' " + shape_str(shape) + " combines -1 with 0 (allowzero)");
                if (total != 0) fail("cannot infer -1 in 'shape' " + shape_str(shape));
                shape[size_t(infer_at)] = 0;
            } else {
                if (total % known != 0)
                    fail("cannot reshape " + shape_str(x.shape) + " to " + shape_str(shape));
                shape[size_t(infer_at)] = total / known;
            }
        }
        if (shape_numel(shape) != total) fail("cannot reshape " + shape_str(x.shape) + " to " + shape_str(shape));
        set_out(out, 0, x.dtype, shape);
        return true;
    }

private:
    bool allowzero_;
};

class FlattenOp : public CopyKernel {
public:
    explicit FlattenOp(const OpAttrs& a) : axis_(a.get_int("axis", 1)) {}
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        const ValueInfo& x = need_in(in, 0, "input");
        const int64_t r = int64_t(x.shape.size());
        if (axis_ < -r || axis_ > r) fail("axis " + num(axis_) + " is out of range for rank " + num(r));
        const int64_t axis = axis_ < 0 ? axis_ + r : axis_;
        set_out(out, 0, x.dtype, {prod(x.shape, 0, size_t(axis)), prod(x.shape, size_t(axis), size_t(r))});
        return true;
    }

private:
    int64_t axis_;
};

class SqueezeOp : public CopyKernel {
public:
    explicit SqueezeOp(const OpAttrs& a) {
        if (a.has("axes")) {
            if (a.opset() >= 13) fail("attribute 'axes' is an input since opset 13");
            axes_ = a.get_ints("axes");
            has_axes_ = true;
        }
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        const ValueInfo& x = need_in(in, 0, "data");
        std::vector<int64_t> axes = axes_;
        bool has_axes = has_axes_;
        if (has_in(in, 1)) {
            if (!in[1].data) return false;
            axes = int_values(*in[1].data, "axes");
            has_axes = true;
        }
        const int64_t r = int64_t(x.shape.size());
        std::vector<bool> drop(size_t(r), false);
        if (has_axes) {
            for (int64_t a : normalize_axes(axes, r, "'axes'")) {
                if (x.shape[size_t(a)] != 1)
                    fail("cannot squeeze axis " + num(a) + " of size " + num(x.shape[size_t(a)]) + " in shape " +
                         shape_str(x.shape));
                drop[size_t(a)] = true;
            }
        } else {
            for (int64_t d = 0; d < r; ++d) drop[size_t(d)] = x.shape[size_t(d)] == 1;
        }
        Shape s;
        for (int64_t d = 0; d < r; ++d)
            if (!drop[size_t(d)]) s.push_back(x.shape[size_t(d)]);
        set_out(out, 0, x.dtype, s);
        return true;
    }

private:
    std::vector<int64_t> axes_;
    bool has_axes_ = false;
};

class UnsqueezeOp : public CopyKernel {
public:
    explicit UnsqueezeOp(const OpAttrs& a) {
        if (a.has("axes")) {
            if (a.opset() >= 13) fail("attribute 'axes' is an input since opset 13");
            axes_ = a.get_ints("axes");
            has_axes_ = true;
        }
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        const ValueInfo& x = need_in(in, 0, "data");
        std::vector<int64_t> axes = axes_;
        if (has_in(in, 1)) {
            if (!in[1].data) return false;
            axes = int_values(*in[1].data, "axes");
        } else if (!has_axes_) {
            fail("Unsqueeze needs 'axes'");
        }
        const int64_t r = int64_t(x.shape.size()) + int64_t(axes.size());
        std::vector<bool> add(size_t(r), false);
        for (int64_t a : normalize_axes(axes, r, "'axes'")) add[size_t(a)] = true;
        Shape s;
        size_t k = 0;
        for (int64_t d = 0; d < r; ++d) s.push_back(add[size_t(d)] ? 1 : x.shape[k++]);
        set_out(out, 0, x.dtype, s);
        return true;
    }

private:
    std::vector<int64_t> axes_;
    bool has_axes_ = false;
};

class IdentityOp : public CopyKernel {
public:
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        const ValueInfo& x = need_in(in, 0, "input");
        set_out(out, 0, x.dtype, x.shape);
        return true;
    }
};

// Inference-mode Dropout: the output is the input; the optional mask is all true.
class DropoutOp : public OpKernel {
public:
    explicit DropoutOp(const OpAttrs& a) : opset_(a.opset()) {
        a.ignore("seed");  // randomness only matters in training mode
        if (a.opset() < 12) ratio_ = a.get_float("ratio", 0.5f);
        if (a.opset() < 7 && a.get_int("is_test", 0) == 0)
            fail_unsupported("attribute 'is_test'=0 (training mode) is not supported");
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        const ValueInfo& x = need_in(in, 0, "data");
        if (has_in(in, 2) && in[2].data) check_training(*in[2].data, has_in(in, 1) ? in[1].data : nullptr);
        set_out(out, 0, x.dtype, x.shape);
        // Opsets 7-9 give the mask the input's type; from 10 on it is bool.
        set_out(out, 1, opset_ < 10 ? x.dtype : DType::Bool, x.shape);
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        if (in.size() > 2 && in[2]) check_training(*in[2], in.size() > 1 ? in[1] : nullptr);
        if (out[0] && out[0]->nbytes()) std::memcpy(out[0]->raw(), in[0]->raw(), out[0]->nbytes());
        if (out.size() > 1 && out[1] && out[1]->numel()) {
            Tensor& m = *out[1];
            std::vector<uint8_t> one(dtype_size(m.dtype()));
            store_scalar(1.0, m.dtype(), one.data());
            fill_elems(static_cast<uint8_t*>(m.raw()), one.data(), m.numel(), one.size());
        }
    }

private:
    // Training mode with a nonzero ratio would drop random elements: not implemented.
    void check_training(const Tensor& training, const Tensor* ratio) {
        if (training.numel() != 1) fail("input 'training_mode' must be a scalar");
        if (training.to_i64()[0] == 0) return;
        double r = ratio && ratio->numel() == 1 ? ratio->to_f64()[0] : 0.5;
        if (r != 0) fail_unsupported("training_mode=true with a nonzero ratio is not supported");
    }
    int64_t opset_;
    float ratio_ = 0.5f;
};

// ---------------------------------------------------------------- Transpose

class TransposeOp : public OpKernel {
public:
    enum class Fast { None, ToNhwc, ToNchw };
    explicit TransposeOp(const OpAttrs& a) : perm_(a.get_ints("perm", {})), pool_(a.pool()) {}
    std::string kernel_name() const override {
        return fast_ != Fast::None ? "nchw_nhwc_f32" : interleave_u8_ ? "nchw_nhwc_u8" : "reference";
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        const ValueInfo& x = need_in(in, 0, "data");
        const int64_t r = int64_t(x.shape.size());
        perm_n_ = perm_;
        if (perm_n_.empty())
            for (int64_t d = r - 1; d >= 0; --d) perm_n_.push_back(d);
        if (int64_t(perm_n_.size()) != r)
            fail("'perm' has " + num(int64_t(perm_n_.size())) + " entries for an input of rank " + num(r));
        perm_n_ = normalize_axes(perm_n_, r, "'perm'");
        Shape s;
        for (int64_t p : perm_n_) s.push_back(x.shape[size_t(p)]);
        set_out(out, 0, x.dtype, s);
        // The layout conversions at a model's edges (NCHW <-> NHWC) have a blocked kernel.
        fast_ = Fast::None;
        if (x.dtype == DType::F32 && r == 4) {
            if (perm_n_ == std::vector<int64_t>{0, 2, 3, 1}) fast_ = Fast::ToNhwc;
            if (perm_n_ == std::vector<int64_t>{0, 3, 1, 2}) fast_ = Fast::ToNchw;
        }
        // A quantized model's uint8 image input (QuantizeLinear, then to NHWC): the same
        // interleave as float RGB-like inputs below.
        interleave_u8_ = (x.dtype == DType::U8 || x.dtype == DType::I8) && r == 4 &&
                         perm_n_ == std::vector<int64_t>{0, 2, 3, 1} && x.shape[1] <= 4;
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Tensor& x = *in[0];
        if (fast_ == Fast::ToNhwc && x.dim(1) <= 4) {
            interleave(x.data<float>(), out[0]->data<float>(), x);
            return;
        }
        if (interleave_u8_) {
            interleave(static_cast<const uint8_t*>(x.raw()), static_cast<uint8_t*>(out[0]->raw()), x);
            return;
        }
        if (fast_ == Fast::ToNhwc) {
            nchw_to_nhwc_f32(x.data<float>(), out[0]->data<float>(), x.dim(0), x.dim(1), x.dim(2) * x.dim(3), pool_);
            return;
        }
        if (fast_ == Fast::ToNchw) {
            nhwc_to_nchw_f32(x.data<float>(), out[0]->data<float>(), x.dim(0), x.dim(3), x.dim(1) * x.dim(2), pool_);
            return;
        }
        const size_t es = dtype_size(x.dtype());
        std::vector<int64_t> st = byte_strides(x.shape(), es), vst;
        for (int64_t p : perm_n_) vst.push_back(st[size_t(p)]);
        if (out[0]->numel() == 0) return;
        copy_view(static_cast<uint8_t*>(out[0]->raw()), static_cast<const uint8_t*>(x.raw()), out[0]->shape(), vst,
                  es);
    }

private:
    template <class T, int C>
    static void interleave_px(const T* __restrict s, T* __restrict d, int64_t hw, int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p)
            for (int ch = 0; ch < C; ++ch) d[p * C + ch] = s[ch * hw + p];
    }
    // NCHW -> NHWC with few channels (RGB-like inputs): a plain interleave streams better
    // than 8x8 blocks with 3 rows.
    template <class T>
    void interleave(const T* src, T* dst, const Tensor& x) const {
        const int64_t c = x.dim(1), hw = x.dim(2) * x.dim(3);
        if (c == 0 || hw == 0) return;  // empty (the pixel loops below assume 1..4 channels)
        const int64_t chunk = 8192, chunks = (hw + chunk - 1) / chunk;
        auto body = [&](int64_t t) {
            const int64_t b = t / chunks, p0 = (t % chunks) * chunk, p1 = std::min(hw, p0 + chunk);
            const T* s = src + b * c * hw;
            T* d = dst + b * c * hw;
            switch (c) {  // pixel by pixel: each output pixel written once, whole
                case 1: interleave_px<T, 1>(s, d, hw, p0, p1); break;
                case 2: interleave_px<T, 2>(s, d, hw, p0, p1); break;
                case 3: interleave_px<T, 3>(s, d, hw, p0, p1); break;
                case 4: interleave_px<T, 4>(s, d, hw, p0, p1); break;
                default: break;  // not reached: callers pass 1..4 channels
            }
        };
        if (pool_) pool_->parallel_for(x.dim(0) * chunks, body);
        else
            for (int64_t t = 0; t < x.dim(0) * chunks; ++t) body(t);
    }

    std::vector<int64_t> perm_, perm_n_;
    ThreadPool* pool_;
    Fast fast_ = Fast::None;
    bool interleave_u8_ = false;
};

// ---------------------------------------------------------------- Gather, GatherElements

void check_index_dtype(DType t, const std::string& name) {
    if (t != DType::I64 && t != DType::I32)
        fail("input '" + name + "' must be int32 or int64, not " + dtype_name(t));
}

int64_t index_at(const Tensor& t, int64_t i) {
    return t.dtype() == DType::I64 ? t.data<int64_t>()[i] : int64_t(t.data<int32_t>()[i]);
}

class GatherOp : public OpKernel {
public:
    explicit GatherOp(const OpAttrs& a) : axis_(a.get_int("axis", 0)) {}
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        const ValueInfo& x = need_in(in, 0, "data");
        const ValueInfo& idx = need_in(in, 1, "indices");
        check_index_dtype(idx.dtype, "indices");
        const int64_t r = int64_t(x.shape.size());
        if (r == 0) fail("input 'data' must have rank >= 1");
        axis_n_ = normalize_axis(axis_, r);
        Shape s(x.shape.begin(), x.shape.begin() + axis_n_);
        s.insert(s.end(), idx.shape.begin(), idx.shape.end());
        s.insert(s.end(), x.shape.begin() + axis_n_ + 1, x.shape.end());
        set_out(out, 0, x.dtype, s);
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Tensor& x = *in[0];
        const Tensor& idx = *in[1];
        const size_t es = dtype_size(x.dtype());
        const int64_t dim = x.dim(size_t(axis_n_));
        const int64_t outer = prod(x.shape(), 0, size_t(axis_n_));
        const size_t chunk = size_t(prod(x.shape(), size_t(axis_n_) + 1, x.rank())) * es;
        const int64_t n = idx.numel();
        std::vector<int64_t> ix(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) {
            int64_t v = index_at(idx, i);
            if (v < -dim || v >= dim)
                fail("index " + num(v) + " is out of range for axis " + num(axis_n_) + " of size " + num(dim));
            ix[size_t(i)] = v < 0 ? v + dim : v;
        }
        const uint8_t* src = static_cast<const uint8_t*>(x.raw());
        uint8_t* dst = static_cast<uint8_t*>(out[0]->raw());
        if (chunk == 0) return;
        for (int64_t o = 0; o < outer; ++o) {
            const uint8_t* s = src + size_t(o * dim) * chunk;
            for (int64_t i = 0; i < n; ++i, dst += chunk) std::memcpy(dst, s + size_t(ix[size_t(i)]) * chunk, chunk);
        }
    }

private:
    int64_t axis_, axis_n_ = 0;
};

class GatherElementsOp : public OpKernel {
public:
    explicit GatherElementsOp(const OpAttrs& a) : axis_(a.get_int("axis", 0)) {}
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        const ValueInfo& x = need_in(in, 0, "data");
        const ValueInfo& idx = need_in(in, 1, "indices");
        check_index_dtype(idx.dtype, "indices");
        const int64_t r = int64_t(x.shape.size());
        if (r == 0) fail("input 'data' must have rank >= 1");
        if (int64_t(idx.shape.size()) != r)
            fail("'indices' of shape " + shape_str(idx.shape) + " must have the rank of 'data' " + shape_str(x.shape));
        axis_n_ = normalize_axis(axis_, r);
        for (int64_t d = 0; d < r; ++d)
            if (d != axis_n_ && idx.shape[size_t(d)] > x.shape[size_t(d)])
                fail("'indices' of shape " + shape_str(idx.shape) + " exceeds 'data' " + shape_str(x.shape));
        set_out(out, 0, x.dtype, idx.shape);
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Tensor& x = *in[0];
        const Tensor& idx = *in[1];
        const size_t es = dtype_size(x.dtype());
        const size_t r = x.rank();
        const std::vector<int64_t> xs = strides_of(x.shape());
        const int64_t dim = x.dim(size_t(axis_n_));
        const uint8_t* src = static_cast<const uint8_t*>(x.raw());
        uint8_t* dst = static_cast<uint8_t*>(out[0]->raw());
        std::vector<int64_t> pos(r, 0);
        for (int64_t i = 0; i < idx.numel(); ++i) {
            int64_t v = index_at(idx, i);
            if (v < -dim || v >= dim)
                fail("index " + num(v) + " is out of range for axis " + num(axis_n_) + " of size " + num(dim));
            if (v < 0) v += dim;
            int64_t off = 0;
            for (size_t d = 0; d < r; ++d) off += (int64_t(d) == axis_n_ ? v : pos[d]) * xs[d];
            std::memcpy(dst + size_t(i) * es, src + size_t(off) * es, es);
            for (size_t d = r; d-- > 0;) {
                if (++pos[d] < idx.dim(d)) break;
                pos[d] = 0;
            }
        }
    }

private:
    int64_t axis_, axis_n_ = 0;
};

// ---------------------------------------------------------------- Shape, Size

class ShapeOp : public OpKernel {
public:
    explicit ShapeOp(const OpAttrs& a) : start_(a.get_int("start", 0)) {
        if (a.has("end")) {
            end_ = a.get_int("end");
            has_end_ = true;
        }
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        if (!has_in(in, 0)) fail("required input 0 'data' is missing");
        const int64_t r = int64_t(in[0].shape.size());
        auto clampi = [r](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + r : v, 0, r); };
        b_ = clampi(start_);
        e_ = has_end_ ? clampi(end_) : r;
        if (e_ < b_) e_ = b_;
        set_out(out, 0, DType::I64, {e_ - b_});
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        int64_t* y = out[0]->data<int64_t>();
        for (int64_t d = b_; d < e_; ++d) y[d - b_] = in[0]->dim(size_t(d));
    }

private:
    int64_t start_, end_ = 0, b_ = 0, e_ = 0;
    bool has_end_ = false;
};

class SizeOp : public OpKernel {
public:
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        if (!has_in(in, 0)) fail("required input 0 'data' is missing");
        set_out(out, 0, DType::I64, {});
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        out[0]->data<int64_t>()[0] = in[0]->numel();
    }
};

// ---------------------------------------------------------------- Constant, ConstantOfShape

class ConstantOp : public OpKernel {
public:
    explicit ConstantOp(const OpAttrs& a) {
        int count = 0;
        if (a.has("sparse_value")) fail_unsupported("attribute 'sparse_value' is not supported");
        if (a.has("value_string") || a.has("value_strings"))
            fail_unsupported("string constants ('value_string(s)') are not supported");
        if (a.has("value")) {
            auto t = a.get_tensor("value");
            if (!t) fail("attribute 'value' holds no tensor");
            value_ = *t;
            ++count;
        }
        if (a.has("value_float")) { value_ = Tensor::scalar<float>(a.get_float("value_float")); ++count; }
        if (a.has("value_int")) { value_ = Tensor::scalar<int64_t>(a.get_int("value_int")); ++count; }
        if (a.has("value_floats")) {
            auto v = a.get_floats("value_floats");
            value_ = Tensor::from_vector<float>(v, {int64_t(v.size())});
            ++count;
        }
        if (a.has("value_ints")) {
            auto v = a.get_ints("value_ints");
            value_ = Tensor::from_vector<int64_t>(v, {int64_t(v.size())});
            ++count;
        }
        if (count != 1) fail("Constant needs exactly one value attribute, got " + std::to_string(count));
        storable_size(value_.dtype(), "attribute 'value'");
    }
    bool infer(const std::vector<ValueInfo>&, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        set_out(out, 0, value_.dtype(), value_.shape());
        return true;
    }
    void run(const std::vector<const Tensor*>&, const std::vector<Tensor*>& out) override {
        if (value_.nbytes()) std::memcpy(out[0]->raw(), value_.raw(), value_.nbytes());
    }

private:
    Tensor value_;
};

class ConstantOfShapeOp : public OpKernel {
public:
    explicit ConstantOfShapeOp(const OpAttrs& a) {
        if (a.has("value")) {
            auto t = a.get_tensor("value");
            if (!t || t->numel() != 1) fail("attribute 'value' must hold exactly one element");
            value_ = *t;
        } else {
            value_ = Tensor::scalar<float>(0.f);
        }
        storable_size(value_.dtype(), "attribute 'value'");
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        const ValueInfo& s = need_in(in, 0, "input");
        if (!s.data) return false;
        require_1d(s.shape, "input");
        Shape shape = int_values(*s.data, "input");
        for (int64_t d : shape)
            if (d < 0) fail("'input' " + shape_str(shape) + " has a negative dimension");
        set_out(out, 0, value_.dtype(), shape);
        return true;
    }
    void run(const std::vector<const Tensor*>&, const std::vector<Tensor*>& out) override {
        fill_elems(static_cast<uint8_t*>(out[0]->raw()), static_cast<const uint8_t*>(value_.raw()), out[0]->numel(),
                   dtype_size(value_.dtype()));
    }

private:
    Tensor value_;
};

// ---------------------------------------------------------------- Expand, Tile

class ExpandOp : public OpKernel {
public:
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        const ValueInfo& x = need_in(in, 0, "input");
        const ValueInfo& s = need_in(in, 1, "shape");
        if (!s.data) return false;
        require_1d(s.shape, "shape");
        Shape shape = int_values(*s.data, "shape");
        for (int64_t d : shape)
            if (d < 0) fail("'shape' " + shape_str(shape) + " has a negative dimension");
        set_out(out, 0, x.dtype, broadcast_shapes(x.shape, shape));
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Tensor& x = *in[0];
        Tensor& y = *out[0];
        if (y.numel() == 0) return;
        const size_t es = dtype_size(x.dtype());
        const std::vector<int64_t> st = byte_strides(x.shape(), es);
        const size_t lead = y.rank() - x.rank();
        std::vector<int64_t> vst(y.rank(), 0);
        for (size_t d = 0; d < x.rank(); ++d) vst[lead + d] = x.dim(d) == 1 ? 0 : st[d];
        copy_view(static_cast<uint8_t*>(y.raw()), static_cast<const uint8_t*>(x.raw()), y.shape(), vst, es);
    }
};

class TileOp : public OpKernel {
public:
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        const ValueInfo& x = need_in(in, 0, "input");
        const ValueInfo& r = need_in(in, 1, "repeats");
        if (!r.data) return false;
        require_1d(r.shape, "repeats");
        std::vector<int64_t> reps = int_values(*r.data, "repeats");
        if (reps.size() != x.shape.size())
            fail("'repeats' has " + num(int64_t(reps.size())) + " entries for an input of rank " +
                 num(int64_t(x.shape.size())));
        Shape s = x.shape;
        for (size_t d = 0; d < s.size(); ++d) {
            if (reps[d] < 0) fail("'repeats' must be non-negative");
            s[d] = shape_numel({s[d], reps[d]});
        }
        set_out(out, 0, x.dtype, s);
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Tensor& x = *in[0];
        Tensor& y = *out[0];
        if (y.numel() == 0) return;
        std::vector<std::vector<int64_t>> maps(x.rank());
        for (size_t d = 0; d < x.rank(); ++d)
            for (int64_t o = 0; o < y.dim(d); ++o) maps[d].push_back(o % x.dim(d));
        gather_maps(static_cast<uint8_t*>(y.raw()), static_cast<const uint8_t*>(x.raw()), x.shape(), maps,
                    dtype_size(x.dtype()), nullptr);
    }
};

// ---------------------------------------------------------------- Range

class RangeOp : public OpKernel {
public:
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        const ValueInfo& s = need_in(in, 0, "start");
        const ValueInfo& l = need_in(in, 1, "limit");
        const ValueInfo& d = need_in(in, 2, "delta");
        require_dtype(s.dtype, {DType::F32, DType::F64, DType::I16, DType::I32, DType::I64}, "input 'start'");
        if (l.dtype != s.dtype || d.dtype != s.dtype) fail("'start', 'limit' and 'delta' must have one type");
        for (const ValueInfo* v : {&s, &l, &d})
            if (shape_numel(v->shape) != 1) fail("'start', 'limit' and 'delta' must be scalars");
        if (!s.data || !l.data || !d.data) return false;
        int64_t n;
        if (s.dtype == DType::F32 || s.dtype == DType::F64) {
            double a = s.data->to_f64()[0], b = l.data->to_f64()[0], c = d.data->to_f64()[0];
            if (s.dtype == DType::F32) {  // count as the float computation would
                a = float(a); b = float(b); c = float(c);
            }
            if (c == 0) fail("'delta' must not be 0");
            double cnt = std::ceil((b - a) / c);
            if (!(cnt < 9.0e18)) fail("Range has too many elements");
            n = std::max<int64_t>(int64_t(cnt), 0);
        } else {
            int64_t a = s.data->to_i64()[0], b = l.data->to_i64()[0], c = d.data->to_i64()[0];
            if (c == 0) fail("'delta' must not be 0");
            double cnt = std::ceil((double(b) - double(a)) / double(c));
            if (!(cnt < 9.0e18)) fail("Range has too many elements");
            n = std::max<int64_t>(int64_t(cnt), 0);
        }
        set_out(out, 0, s.dtype, {n});
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        Tensor& y = *out[0];
        switch (y.dtype()) {
            case DType::F32: fill<float>(in, y); break;
            case DType::F64: fill<double>(in, y); break;
            case DType::I16: fill<int16_t>(in, y); break;
            case DType::I32: fill<int32_t>(in, y); break;
            default: fill<int64_t>(in, y); break;
        }
    }

private:
    template <typename T>
    static void fill(const std::vector<const Tensor*>& in, Tensor& y) {
        const T a = in[0]->data<T>()[0], c = in[2]->data<T>()[0];
        T* o = y.data<T>();
        for (int64_t i = 0; i < y.numel(); ++i) o[i] = T(a + T(i) * c);
    }
};

// ---------------------------------------------------------------- DepthToSpace, SpaceToDepth

class DepthToSpaceOp : public OpKernel {
public:
    explicit DepthToSpaceOp(const OpAttrs& a) : b_(a.get_int("blocksize")) {
        std::string mode = a.get_string("mode", "DCR");
        if (mode != "DCR" && mode != "CRD") fail("attribute 'mode'='" + mode + "' must be DCR or CRD");
        crd_ = mode == "CRD";
        if (b_ < 1 || b_ > (int64_t(1) << 20)) fail("attribute 'blocksize' must be in [1, 2^20]");
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        const ValueInfo& x = need_in(in, 0, "input");
        if (x.shape.size() != 4) fail("input must be 4-D (NCHW), got " + shape_str(x.shape));
        if (x.shape[1] % (b_ * b_) != 0)
            fail("channels " + num(x.shape[1]) + " are not divisible by blocksize^2 = " + num(b_ * b_));
        set_out(out, 0, x.dtype, {x.shape[0], x.shape[1] / (b_ * b_), x.shape[2] * b_, x.shape[3] * b_});
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Tensor& x = *in[0];
        if (x.numel() == 0) return;
        const size_t es = dtype_size(x.dtype());
        const int64_t n = x.dim(0), c = x.dim(1) / (b_ * b_), h = x.dim(2), w = x.dim(3);
        // View the input as 6-D and read it in output order [N, C', H, b, W, b].
        Shape six;
        std::vector<int64_t> perm;
        if (crd_) { six = {n, c, b_, b_, h, w}; perm = {0, 1, 4, 2, 5, 3}; }
        else { six = {n, b_, b_, c, h, w}; perm = {0, 3, 4, 1, 5, 2}; }
        std::vector<int64_t> st = byte_strides(six, es), vst;
        Shape vshape;
        for (int64_t p : perm) { vshape.push_back(six[size_t(p)]); vst.push_back(st[size_t(p)]); }
        copy_view(static_cast<uint8_t*>(out[0]->raw()), static_cast<const uint8_t*>(x.raw()), vshape, vst, es);
    }

private:
    int64_t b_;
    bool crd_ = false;
};

class SpaceToDepthOp : public OpKernel {
public:
    explicit SpaceToDepthOp(const OpAttrs& a) : b_(a.get_int("blocksize")) {
        if (b_ < 1 || b_ > (int64_t(1) << 20)) fail("attribute 'blocksize' must be in [1, 2^20]");
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        const ValueInfo& x = need_in(in, 0, "input");
        if (x.shape.size() != 4) fail("input must be 4-D (NCHW), got " + shape_str(x.shape));
        if (x.shape[2] % b_ != 0 || x.shape[3] % b_ != 0)
            fail("spatial size " + shape_str(x.shape) + " is not divisible by blocksize " + num(b_));
        set_out(out, 0, x.dtype, {x.shape[0], x.shape[1] * b_ * b_, x.shape[2] / b_, x.shape[3] / b_});
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Tensor& x = *in[0];
        if (x.numel() == 0) return;
        const size_t es = dtype_size(x.dtype());
        const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2) / b_, w = x.dim(3) / b_;
        // Input viewed as [N, C, H', b, W', b], read in output order [N, b, b, C, H', W'].
        Shape six = {n, c, h, b_, w, b_};
        std::vector<int64_t> perm = {0, 3, 5, 1, 2, 4};
        std::vector<int64_t> st = byte_strides(six, es), vst;
        Shape vshape;
        for (int64_t p : perm) { vshape.push_back(six[size_t(p)]); vst.push_back(st[size_t(p)]); }
        copy_view(static_cast<uint8_t*>(out[0]->raw()), static_cast<const uint8_t*>(x.raw()), vshape, vst, es);
    }

private:
    int64_t b_;
};

// ---------------------------------------------------------------- Pad

enum class PadMode { Constant, Reflect, Edge, Wrap };

class PadOp : public OpKernel {
public:
    explicit PadOp(const OpAttrs& a) : legacy_(a.opset() < 11) {
        std::string mode = a.get_string("mode", "constant");
        if (mode == "constant") mode_ = PadMode::Constant;
        else if (mode == "reflect") mode_ = PadMode::Reflect;
        else if (mode == "edge") mode_ = PadMode::Edge;
        else if (mode == "wrap") mode_ = PadMode::Wrap;
        else fail_unsupported("attribute 'mode'='" + mode + "' is not supported");
        if (legacy_) {
            // Pad-1 called it 'paddings'; Pad-2 'pads'.
            pads_ = a.has("pads") ? a.get_ints("pads") : a.get_ints("paddings");
            value_ = a.get_float("value", 0.f);
        }
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        const ValueInfo& x = need_in(in, 0, "data");
        const int64_t r = int64_t(x.shape.size());
        std::vector<int64_t> pads = pads_, axes;
        if (!legacy_) {
            const ValueInfo& p = need_in(in, 1, "pads");
            if (!p.data || (has_in(in, 3) && !in[3].data)) return false;
            require_1d(p.shape, "pads");
            pads = int_values(*p.data, "pads");
            if (has_in(in, 2)) {
                if (in[2].dtype != x.dtype)
                    fail("'constant_value' of type " + dtype_name(in[2].dtype) + " does not match data type " +
                         dtype_name(x.dtype));
                if (shape_numel(in[2].shape) > 1) fail("'constant_value' must be a scalar");
            }
            if (has_in(in, 3)) axes = normalize_axes(int_values(*in[3].data, "axes"), r, "'axes'");
        }
        if (axes.empty())
            for (int64_t d = 0; d < r; ++d) axes.push_back(d);
        if (pads.size() != 2 * axes.size())
            fail("'pads' has " + num(int64_t(pads.size())) + " entries, expected " + num(int64_t(2 * axes.size())));
        begin_.assign(size_t(r), 0);
        Shape s = x.shape;
        const size_t k = axes.size();
        for (size_t i = 0; i < k; ++i) {
            const size_t a = size_t(axes[i]);
            begin_[a] = pads[i];
            if (__builtin_add_overflow(x.shape[a], pads[i], &s[a]) || __builtin_add_overflow(s[a], pads[k + i], &s[a]))
                fail("'pads' " + shape_str(pads) + " overflow axis " + num(int64_t(a)));
            if (s[a] < 0) fail("'pads' " + shape_str(pads) + " crop more than axis " + num(int64_t(a)) + " holds");
            if (mode_ != PadMode::Constant && x.shape[a] == 0 && s[a] > 0)
                fail("cannot pad an empty axis in '" + std::string(mode_ == PadMode::Edge ? "edge" : "reflect") +
                     "' mode");
        }
        storable_size(x.dtype, "input 'data'");
        set_out(out, 0, x.dtype, s);
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Tensor& x = *in[0];
        Tensor& y = *out[0];
        if (y.numel() == 0) return;
        const size_t es = dtype_size(x.dtype());
        std::vector<uint8_t> fill(es, 0);
        if (mode_ == PadMode::Constant) {
            const Tensor* cv = in.size() > 2 ? in[2] : nullptr;
            if (cv && cv->numel() == 1) std::memcpy(fill.data(), cv->raw(), es);
            else if (legacy_) store_scalar(value_, x.dtype(), fill.data());
        }
        std::vector<std::vector<int64_t>> maps(x.rank());
        for (size_t d = 0; d < x.rank(); ++d) {
            const int64_t n = x.dim(d);
            for (int64_t o = 0; o < y.dim(d); ++o) {
                int64_t i = o - begin_[d], m;
                if (i >= 0 && i < n) m = i;
                else if (mode_ == PadMode::Constant) m = -1;
                else if (mode_ == PadMode::Edge) m = i < 0 ? 0 : n - 1;
                else if (mode_ == PadMode::Wrap) m = ((i % n) + n) % n;
                else if (n == 1) m = 0;
                else {  // reflect without repeating the edge, as often as needed
                    const int64_t period = 2 * (n - 1);
                    m = ((i % period) + period) % period;
                    if (m >= n) m = period - m;
                }
                maps[d].push_back(m);
            }
        }
        gather_maps(static_cast<uint8_t*>(y.raw()), static_cast<const uint8_t*>(x.raw()), x.shape(), maps, es,
                    fill.data());
    }

private:
    bool legacy_;
    PadMode mode_ = PadMode::Constant;
    std::vector<int64_t> pads_, begin_;
    float value_ = 0.f;
};

// ---------------------------------------------------------------- NonZero

class NonZeroOp : public OpKernel {
public:
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        need_outputs(out, 1);
        const ValueInfo& x = need_in(in, 0, "X");
        if (x.dtype == DType::F16 || x.dtype == DType::BF16) fail_unsupported("NonZero on float16 is not supported");
        if (!x.data) return false;
        int64_t nz = 0;
        for (double v : x.data->to_f64()) nz += v != 0;
        set_out(out, 0, DType::I64, {int64_t(x.shape.size()), nz});
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Tensor& x = *in[0];
        std::vector<double> v = x.to_f64();
        const int64_t r = int64_t(x.rank());
        const int64_t nz = out[0]->rank() == 2 ? out[0]->dim(1) : 0;
        int64_t* y = out[0]->data<int64_t>();
        std::vector<int64_t> pos(size_t(r), 0);
        int64_t k = 0;
        for (size_t i = 0; i < v.size(); ++i) {
            if (v[i] != 0 && k < nz) {
                for (int64_t d = 0; d < r; ++d) y[d * nz + k] = pos[size_t(d)];
                ++k;
            }
            for (int64_t d = r; d-- > 0;) {
                if (++pos[size_t(d)] < x.dim(size_t(d))) break;
                pos[size_t(d)] = 0;
            }
        }
        if (k != nz) fail("NonZero: the input changed after shape inference");
    }
};

template <typename Op>
OpFactory make() {
    return [](const OpAttrs& a) -> std::unique_ptr<OpKernel> { return std::make_unique<Op>(a); };
}
template <typename Op>
OpFactory make_noattr() {
    return [](const OpAttrs&) -> std::unique_ptr<OpKernel> { return std::make_unique<Op>(); };
}

}  // namespace

void register_tensor_ops(OpRegistry& r) {
    r.add("Concat", make<ConcatOp>());
    r.add("Split", make<SplitOp>());
    r.add("Slice", make<SliceOp>());
    r.add("Reshape", make<ReshapeOp>(), 5);
    r.add("Flatten", make<FlattenOp>());
    r.add("Transpose", make<TransposeOp>());
    r.add("Squeeze", make<SqueezeOp>());
    r.add("Unsqueeze", make<UnsqueezeOp>());
    r.add("Gather", make<GatherOp>());
    r.add("GatherElements", make<GatherElementsOp>());
    r.add("Shape", make<ShapeOp>());
    r.add("Size", make_noattr<SizeOp>());
    r.add("Constant", make<ConstantOp>());
    r.add("ConstantOfShape", make<ConstantOfShapeOp>());
    r.add("Identity", make_noattr<IdentityOp>());
    r.add("Dropout", make<DropoutOp>());
    r.add("Expand", make_noattr<ExpandOp>());
    r.add("Tile", make_noattr<TileOp>(), 6);
    r.add("Range", make_noattr<RangeOp>());
    r.add("DepthToSpace", make<DepthToSpaceOp>());
    r.add("SpaceToDepth", make<SpaceToDepthOp>());
    r.add("Pad", make<PadOp>());
    r.add("NonZero", make_noattr<NonZeroOp>());
}

}  // namespace edgecnn
