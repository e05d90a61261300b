// Conv, ConvTranspose, Gemm, MatMul and the normalisations (BatchNormalization,
// InstanceNormalization, LRN, LayerNormalization). Attribute parsing and shape inference
// live here; the heavy arithmetic is in kernels/reference/{conv,gemm}_ref.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "base/cpu_features.hpp"
#include "kernels/deconv/deconv_f32.hpp"
#include "kernels/gemm/gemm_bf16.hpp"
#include "kernels/gemm/gemm_f32.hpp"
#include "kernels/reference/conv_ref.hpp"
#include "kernels/reference/gemm_ref.hpp"
#include "ops/op.hpp"
#include "ops/prepacked.hpp"

namespace edgecnn {
namespace {

int64_t floor_div(int64_t a, int64_t b) {  // b > 0
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

const ValueInfo& required_input(const std::vector<ValueInfo>& in, size_t i, const char* name) {
    if (i >= in.size() || !in[i].present) fail(std::string("input ") + name + " is required");
    return in[i];
}

bool has_input(const std::vector<ValueInfo>& in, size_t i) { return i < in.size() && in[i].present; }

// Outputs beyond `count` may only be omitted (e.g. BatchNormalization's training outputs).
void reject_extra_outputs(const std::vector<ValueInfo>& out, size_t count, const std::string& why) {
    for (size_t i = count; i < out.size(); ++i)
        if (out[i].present) fail_unsupported("output " + std::to_string(i) + " " + why);
}

// ---------------------------------------------------------------- Conv / ConvTranspose

// Attributes Conv and ConvTranspose share.
struct ConvAttrs {
    std::string auto_pad = "NOTSET";
    std::vector<int64_t> dilations, kernel_shape, pads, strides;
    int64_t group = 1;

    void read(const OpAttrs& a) {
        auto_pad = a.get_string("auto_pad", "NOTSET");
        if (auto_pad != "NOTSET" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER" && auto_pad != "VALID")
            fail("attribute 'auto_pad' has invalid value '" + auto_pad + "'");
        dilations = a.get_ints("dilations", {});
        kernel_shape = a.get_ints("kernel_shape", {});
        pads = a.get_ints("pads", {});
        strides = a.get_ints("strides", {});
        group = a.get_int("group", 1);
        if (group < 1) fail("attribute 'group' must be >= 1");
    }

    // Checks attribute lengths against the number of spatial dims and the weight's kernel.
    void check(size_t sp, const Shape& w) const {
        auto check_len = [&](const std::vector<int64_t>& v, size_t n, const char* name) {
            if (!v.empty() && v.size() != n)
                fail(std::string("attribute '") + name + "' has " + std::to_string(v.size()) + " values, expected " +
                     std::to_string(n));
        };
        check_len(dilations, sp, "dilations");
        check_len(strides, sp, "strides");
        check_len(kernel_shape, sp, "kernel_shape");
        if (auto_pad == "NOTSET") check_len(pads, 2 * sp, "pads");
        for (size_t i = 0; i < sp; ++i) {
            if (!kernel_shape.empty() && kernel_shape[i] != w[2 + i])
                fail("attribute 'kernel_shape' " + shape_str(kernel_shape) + " does not match weight W " + shape_str(w));
            if (stride(i) < 1) fail("attribute 'strides' values must be >= 1");
            if (dilation(i) < 1) fail("attribute 'dilations' values must be >= 1");
        }
    }
    int64_t stride(size_t i) const { return strides.empty() ? 1 : strides[i]; }
    int64_t dilation(size_t i) const { return dilations.empty() ? 1 : dilations[i]; }
    int64_t pad(size_t i) const { return auto_pad == "NOTSET" && !pads.empty() ? pads[i] : 0; }
};

// Common checks of X and W; returns the number of spatial dims.
size_t check_conv_inputs(const std::vector<ValueInfo>& in) {
    const ValueInfo& x = required_input(in, 0, "X");
    const ValueInfo& w = required_input(in, 1, "W");
    require_dtype(x.dtype, {DType::F32}, "input X");
    require_dtype(w.dtype, {DType::F32}, "input W");
    if (x.shape.size() < 3) fail("input X must have rank >= 3 (N, C, spatial...), got " + shape_str(x.shape));
    if (w.shape.size() != x.shape.size())
        fail("weight W " + shape_str(w.shape) + " must have the rank of input X " + shape_str(x.shape));
    const size_t sp = x.shape.size() - 2;
    if (sp > 3) fail_unsupported("convolution over " + std::to_string(sp) + " spatial dims is not supported");
    return sp;
}

void check_bias(const std::vector<ValueInfo>& in, int64_t channels) {
    if (!has_input(in, 2)) return;
    require_dtype(in[2].dtype, {DType::F32}, "input B");
    if (in[2].shape != Shape{channels})
        fail("bias B " + shape_str(in[2].shape) + " must have shape [" + std::to_string(channels) + "]");
}

class ConvKernel : public OpKernel {
public:
    explicit ConvKernel(const OpAttrs& a) { attrs_.read(a); }

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        const size_t sp = check_conv_inputs(in);
        const Shape& x = in[0].shape;
        const Shape& w = in[1].shape;
        attrs_.check(sp, w);
        const int64_t g = attrs_.group;
        if (x[1] != w[1] * g)
            fail("input X " + shape_str(x) + " has " + std::to_string(x[1]) + " channels, weight W " + shape_str(w) +
                 " with group " + std::to_string(g) + " expects " + std::to_string(w[1] * g));
        if (w[0] % g != 0)
            fail("weight W " + shape_str(w) + ": output channels are not a multiple of group " + std::to_string(g));
        check_bias(in, w[0]);

        ConvParams& p = params_;
        p = ConvParams{};
        p.n = x[0];
        p.c_in = x[1];
        p.c_out = w[0];
        p.groups = g;
        Shape y = {x[0], w[0]};
        const size_t base = 3 - sp;
        for (size_t i = 0; i < sp; ++i) {
            const int64_t in_size = x[2 + i], k = w[2 + i], s = attrs_.stride(i), d = attrs_.dilation(i);
            if (k < 1) fail("weight W " + shape_str(w) + " has an empty kernel");
            const int64_t dk = (k - 1) * d + 1;
            int64_t pb = attrs_.pad(i), pe = attrs_.pad(i + sp), out_size;
            if (pb < 0 || pe < 0) fail("attribute 'pads' values must be >= 0");
            if (attrs_.auto_pad == "SAME_UPPER" || attrs_.auto_pad == "SAME_LOWER") {
                out_size = (in_size + s - 1) / s;
                const int64_t total = std::max<int64_t>(0, (out_size - 1) * s + dk - in_size);
                pb = attrs_.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
            } else {
                const int64_t span = in_size + pb + pe - dk;
                if (span < 0)
                    fail("kernel " + shape_str(w) + " with dilations is larger than the padded input " + shape_str(x));
                out_size = span / s + 1;
            }
            const size_t j = base + i;
            p.in[j] = in_size;
            p.kernel[j] = k;
            p.stride[j] = s;
            p.dilation[j] = d;
            p.pad_begin[j] = pb;
            p.out[j] = out_size;
            y.push_back(out_size);
        }
        out[0].dtype = DType::F32;
        out[0].shape = y;
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const float* bias = in.size() > 2 && in[2] ? in[2]->data<float>() : nullptr;
        conv_f32_ref(params_, in[0]->data<float>(), in[1]->data<float>(), bias, out[0]->data<float>());
    }

private:
    ConvAttrs attrs_;
    ConvParams params_;
};

class ConvTransposeKernel : public OpKernel {
public:
    explicit ConvTransposeKernel(const OpAttrs& a) {
        attrs_.read(a);
        output_padding_ = a.get_ints("output_padding", {});
        output_shape_ = a.get_ints("output_shape", {});
    }

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        const size_t sp = check_conv_inputs(in);
        const Shape& x = in[0].shape;
        const Shape& w = in[1].shape;
        attrs_.check(sp, w);
        const int64_t g = attrs_.group;
        if (x[1] != w[0])
            fail("input X " + shape_str(x) + " has " + std::to_string(x[1]) + " channels, weight W " + shape_str(w) +
                 " expects " + std::to_string(w[0]));
        if (w[0] % g != 0)
            fail("weight W " + shape_str(w) + ": input channels are not a multiple of group " + std::to_string(g));
        if (!output_padding_.empty() && output_padding_.size() != sp)
            fail("attribute 'output_padding' must have one value per spatial dim");
        // output_shape normally lists the spatial dims only; some exporters write N and C too.
        std::vector<int64_t> out_shape = output_shape_;
        if (out_shape.size() == sp + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
        if (!out_shape.empty() && out_shape.size() != sp)
            fail("attribute 'output_shape' must have one value per spatial dim");
        const int64_t c_out = w[1] * g;
        check_bias(in, c_out);

        ConvParams& p = params_;
        p = ConvParams{};
        p.n = x[0];
        p.c_in = x[1];
        p.c_out = c_out;
        p.groups = g;
        Shape y = {x[0], c_out};
        const size_t base = 3 - sp;
        const std::string& ap = attrs_.auto_pad;
        for (size_t i = 0; i < sp; ++i) {
            const int64_t in_size = x[2 + i], k = w[2 + i], s = attrs_.stride(i), d = attrs_.dilation(i);
            const int64_t op = output_padding_.empty() ? 0 : output_padding_[i];
            if (op < 0) fail("attribute 'output_padding' values must be >= 0");
            const int64_t full = s * (in_size - 1) + op + (k - 1) * d + 1;  // output before padding is removed
            int64_t pb = attrs_.pad(i), pe = attrs_.pad(i + sp);
            if (pb < 0 || pe < 0) fail("attribute 'pads' values must be >= 0");
            int64_t out_size = full - pb - pe;
            // With an explicit or SAME output size the padding follows from it; a negative
            // total (a larger output than the kernel reaches) only adds zero-filled border.
            // Floor division splits odd totals as the ONNX reference does.
            if (!out_shape.empty() || ap == "SAME_UPPER" || ap == "SAME_LOWER") {
                out_size = !out_shape.empty() ? out_shape[i] : in_size * s;
                const int64_t total = full - out_size;
                if (ap == "SAME_UPPER") {
                    pb = floor_div(total, 2);
                } else {
                    pb = total - floor_div(total, 2);
                }
            }
            if (out_size < 1) fail("output of ConvTranspose would be empty for input " + shape_str(x));
            const size_t j = base + i;
            p.in[j] = in_size;
            p.kernel[j] = k;
            p.stride[j] = s;
            p.dilation[j] = d;
            p.pad_begin[j] = pb;
            p.out[j] = out_size;
            y.push_back(out_size);
        }
        out[0].dtype = DType::F32;
        out[0].shape = y;
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const float* bias = in.size() > 2 && in[2] ? in[2]->data<float>() : nullptr;
        conv_transpose_f32_ref(params_, in[0]->data<float>(), in[1]->data<float>(), bias, out[0]->data<float>());
    }

protected:
    const ConvParams& params() const { return params_; }

private:
    ConvAttrs attrs_;
    std::vector<int64_t> output_padding_, output_shape_;
    ConvParams params_;
};

// 2-D ConvTranspose with group 1 and a constant float32 weight (and bias, if any) in a
// compiled plan: W transposed once, then kernels/deconv (register-tiled GEMM fused with
// col2im; direct interleaved stores for 2x2 stride-2 upsampling). Shapes and attributes
// are resolved by the reference kernel's infer().
class ConvTransposeFastKernel final : public ConvTransposeKernel {
public:
    static bool applies(const OpAttrs& a) {
        if (!a.for_plan() || a.get_int("group", 1) != 1) return false;
        const Tensor* w = a.constant_input(1);
        if (!w || w->dtype() != DType::F32 || w->rank() != 4) return false;
        if (!a.has_input(2)) return true;
        const Tensor* b = a.constant_input(2);
        return b && b->dtype() == DType::F32 && b->rank() == 1;
    }
    explicit ConvTransposeFastKernel(const OpAttrs& a) : ConvTransposeKernel(a), pool_(a.pool()) {
        const Tensor* w = a.constant_input(1);
        c_in_ = w->dim(0);
        wt_ = deconv2d_f32_transpose_weights(w->data<float>(), c_in_, w->dim(1), w->dim(2), w->dim(3));
        if (const Tensor* b = a.constant_input(2)) bias_.assign(b->data<float>(), b->data<float>() + b->numel());
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (!ConvTransposeKernel::infer(in, out)) return false;
        const ConvParams& c = params();
        Deconv2dParams& d = dp_;
        d.n = c.n;
        d.c_in = c.c_in;
        d.c_out = c.c_out;
        d.ih = c.in[1];
        d.iw = c.in[2];
        d.oh = c.out[1];
        d.ow = c.out[2];
        d.kh = c.kernel[1];
        d.kw = c.kernel[2];
        d.sh = c.stride[1];
        d.sw = c.stride[2];
        d.dh = c.dilation[1];
        d.dw = c.dilation[2];
        d.ph = c.pad_begin[1];
        d.pw = c.pad_begin[2];
        fast_ = in[0].shape.size() == 4 && c.groups == 1 && c.c_in == c_in_;
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        if (!fast_) return ConvTransposeKernel::run(in, out);
        deconv2d_f32(dp_, in[0]->data<float>(), wt_.data(), bias_.empty() ? nullptr : bias_.data(),
                     out[0]->data<float>(), pool_);
    }
    int64_t packed_bytes() const override { return int64_t((wt_.size() + bias_.size()) * sizeof(float)); }
    // The fast path runs on wt_ and bias_; the reference fallback reads the originals.
    bool packs_constant_input(size_t i) const override { return fast_ && (i == 1 || i == 2); }
    std::string kernel_name() const override { return fast_ ? deconv2d_f32_kernel_name(dp_) : "reference"; }

private:
    ThreadPool* pool_;
    std::vector<float> wt_, bias_;
    int64_t c_in_ = 0;
    Deconv2dParams dp_;
    bool fast_ = false;
};

// ---------------------------------------------------------------- normalisations

// X: [N, C, spatial...]; returns (N, C, product of spatial dims).
void split_nc(const Shape& x, int64_t& n, int64_t& c, int64_t& plane) {
    if (x.size() < 2) fail("input X must have rank >= 2 (N, C, ...), got " + shape_str(x));
    n = x[0];
    c = x[1];
    plane = 1;
    for (size_t i = 2; i < x.size(); ++i) plane *= x[i];
}

void check_per_channel(const std::vector<ValueInfo>& in, size_t i, const char* name, int64_t c) {
    const ValueInfo& v = required_input(in, i, name);
    require_dtype(v.dtype, {DType::F32}, std::string("input ") + name);
    if (shape_numel(v.shape) != c || v.shape.size() > 1)
        fail(std::string("input ") + name + " " + shape_str(v.shape) + " must have shape [" + std::to_string(c) + "]");
}

class BatchNormKernel : public OpKernel {
public:
    explicit BatchNormKernel(const OpAttrs& a) {
        epsilon_ = a.get_float("epsilon", 1e-5f);
        a.ignore("momentum");  // only updates running statistics in training
        if (a.opset() < 9 && a.get_int("spatial", 1) != 1)
            fail_unsupported("attribute 'spatial'=0 (per-element statistics) is not supported");
        if (a.opset() < 7) {
            a.ignore("is_test");
            a.ignore("consumed_inputs");
        }
        if (a.get_int("training_mode", 0) != 0) fail_unsupported("attribute 'training_mode'=1 is not supported");
    }

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        const ValueInfo& x = required_input(in, 0, "X");
        require_dtype(x.dtype, {DType::F32}, "input X");
        int64_t n, c, plane;
        split_nc(x.shape, n, c, plane);
        check_per_channel(in, 1, "scale", c);
        check_per_channel(in, 2, "B", c);
        check_per_channel(in, 3, "mean", c);
        check_per_channel(in, 4, "var", c);
        reject_extra_outputs(out, 1, "(training statistics) is not supported");
        out[0].dtype = DType::F32;
        out[0].shape = x.shape;
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        int64_t n, c, plane;
        split_nc(in[0]->shape(), n, c, plane);
        const float* x = in[0]->data<float>();
        const float *scale = in[1]->data<float>(), *bias = in[2]->data<float>();
        const float *mean = in[3]->data<float>(), *var = in[4]->data<float>();
        float* y = out[0]->data<float>();
        for (int64_t ni = 0; ni < n; ++ni)
            for (int64_t ci = 0; ci < c; ++ci) {
                // y = (x - mean) / sqrt(var + eps) * scale + B, folded into one multiply-add.
                const float a = scale[ci] / std::sqrt(var[ci] + epsilon_);
                const float b = bias[ci] - mean[ci] * a;
                const int64_t off = (ni * c + ci) * plane;
                for (int64_t i = 0; i < plane; ++i) y[off + i] = x[off + i] * a + b;
            }
    }

private:
    float epsilon_;
};

class InstanceNormKernel : public OpKernel {
public:
    explicit InstanceNormKernel(const OpAttrs& a) { epsilon_ = a.get_float("epsilon", 1e-5f); }

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        const ValueInfo& x = required_input(in, 0, "input");
        require_dtype(x.dtype, {DType::F32}, "input");
        if (x.shape.size() < 3) fail("input must have rank >= 3 (N, C, spatial...), got " + shape_str(x.shape));
        int64_t n, c, plane;
        split_nc(x.shape, n, c, plane);
        check_per_channel(in, 1, "scale", c);
        check_per_channel(in, 2, "B", c);
        out[0].dtype = DType::F32;
        out[0].shape = x.shape;
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        int64_t n, c, plane;
        split_nc(in[0]->shape(), n, c, plane);
        const float* x = in[0]->data<float>();
        const float *scale = in[1]->data<float>(), *bias = in[2]->data<float>();
        float* y = out[0]->data<float>();
        for (int64_t ni = 0; ni < n; ++ni)
            for (int64_t ci = 0; ci < c; ++ci) {
                const int64_t off = (ni * c + ci) * plane;
                // Two passes in double: the mean first, then the centred variance, which
                // stays accurate for large planes with a large mean.
                double sum = 0;
                for (int64_t i = 0; i < plane; ++i) sum += x[off + i];
                const double mean = plane ? sum / double(plane) : 0.0;
                double sq = 0;
                for (int64_t i = 0; i < plane; ++i) sq += (x[off + i] - mean) * (x[off + i] - mean);
                const double var = plane ? sq / double(plane) : 0.0;
                const float a = float(scale[ci] / std::sqrt(var + epsilon_));
                const float b = float(bias[ci] - mean * a);
                for (int64_t i = 0; i < plane; ++i) y[off + i] = x[off + i] * a + b;
            }
    }

private:
    float epsilon_;
};

class LrnKernel : public OpKernel {
public:
    explicit LrnKernel(const OpAttrs& a) {
        alpha_ = a.get_float("alpha", 1e-4f);
        beta_ = a.get_float("beta", 0.75f);
        bias_ = a.get_float("bias", 1.0f);
        size_ = a.get_int("size");
        if (size_ < 1) fail("attribute 'size' must be >= 1");
    }

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        const ValueInfo& x = required_input(in, 0, "X");
        require_dtype(x.dtype, {DType::F32}, "input X");
        if (x.shape.size() < 3) fail("input X must have rank >= 3 (N, C, spatial...), got " + shape_str(x.shape));
        out[0].dtype = DType::F32;
        out[0].shape = x.shape;
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        int64_t n, c, plane;
        split_nc(in[0]->shape(), n, c, plane);
        const float* x = in[0]->data<float>();
        float* y = out[0]->data<float>();
        // The window over channels is [c - floor((size-1)/2), c + ceil((size-1)/2)].
        const int64_t before = (size_ - 1) / 2, after = size_ - 1 - before;
        std::vector<float> sq(static_cast<size_t>(plane));
        for (int64_t ni = 0; ni < n; ++ni)
            for (int64_t ci = 0; ci < c; ++ci) {
                std::fill(sq.begin(), sq.end(), 0.f);
                for (int64_t cj = std::max<int64_t>(0, ci - before); cj <= std::min(c - 1, ci + after); ++cj) {
                    const float* xc = x + (ni * c + cj) * plane;
                    for (int64_t i = 0; i < plane; ++i) sq[size_t(i)] += xc[i] * xc[i];
                }
                const float* xc = x + (ni * c + ci) * plane;
                float* yc = y + (ni * c + ci) * plane;
                const float scale = alpha_ / float(size_);
                for (int64_t i = 0; i < plane; ++i) yc[i] = xc[i] / std::pow(bias_ + scale * sq[size_t(i)], beta_);
            }
    }

private:
    float alpha_, beta_, bias_;
    int64_t size_;
};

// Offsets into a tensor of shape `s` broadcast (unidirectionally, right-aligned) to `target`,
// one per element of `target` in row-major order.
std::vector<int64_t> broadcast_offsets(const Shape& s, const Shape& target, const char* name) {
    if (s.size() > target.size())
        fail(std::string("input ") + name + " " + shape_str(s) + " cannot be broadcast to " + shape_str(target));
    const size_t lead = target.size() - s.size();
    Shape full(lead, 1);
    full.insert(full.end(), s.begin(), s.end());
    for (size_t i = 0; i < target.size(); ++i)
        if (full[i] != 1 && full[i] != target[i])
            fail(std::string("input ") + name + " " + shape_str(s) + " cannot be broadcast to " + shape_str(target));
    const std::vector<int64_t> st = strides_of(full);
    const int64_t count = shape_numel(target);
    std::vector<int64_t> offs(size_t(count), 0);
    std::vector<int64_t> idx(target.size(), 0);
    for (int64_t e = 0; e < count; ++e) {
        int64_t off = 0;
        for (size_t d = 0; d < target.size(); ++d)
            if (full[d] != 1) off += idx[d] * st[d];
        offs[size_t(e)] = off;
        for (size_t d = target.size(); d-- > 0;) {
            if (++idx[d] < target[d]) break;
            idx[d] = 0;
        }
    }
    return offs;
}

class LayerNormKernel : public OpKernel {
public:
    explicit LayerNormKernel(const OpAttrs& a) {
        axis_ = a.get_int("axis", -1);
        epsilon_ = a.get_float("epsilon", 1e-5f);
        // Statistics are always computed in double, so any stash_type is honoured (or bettered).
        const int64_t stash = a.get_int("stash_type", 1);
        if (stash != 1) fail_unsupported("attribute 'stash_type'=" + std::to_string(stash) + " is not supported");
    }

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        const ValueInfo& x = required_input(in, 0, "X");
        require_dtype(x.dtype, {DType::F32}, "input X");
        const int64_t rank = int64_t(x.shape.size());
        if (rank < 1) fail("input X must have rank >= 1");
        const int64_t axis = normalize_axis(axis_, rank);
        const Shape norm(x.shape.begin() + axis, x.shape.end());
        const ValueInfo& scale = required_input(in, 1, "Scale");
        require_dtype(scale.dtype, {DType::F32}, "input Scale");
        scale_offs_ = broadcast_offsets(scale.shape, norm, "Scale");
        bias_offs_.clear();
        if (has_input(in, 2)) {
            require_dtype(in[2].dtype, {DType::F32}, "input B");
            bias_offs_ = broadcast_offsets(in[2].shape, norm, "B");
        }
        axis_resolved_ = axis;
        out[0].dtype = DType::F32;
        out[0].shape = x.shape;
        Shape stat = x.shape;
        for (int64_t i = axis; i < rank; ++i) stat[size_t(i)] = 1;
        for (size_t i = 1; i < out.size() && i < 3; ++i)
            if (out[i].present) {
                out[i].dtype = DType::F32;
                out[i].shape = stat;
            }
        reject_extra_outputs(out, 3, "does not exist");
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Shape& xs = in[0]->shape();
        int64_t outer = 1, inner = 1;
        for (int64_t i = 0; i < int64_t(xs.size()); ++i) (i < axis_resolved_ ? outer : inner) *= xs[size_t(i)];
        const float* x = in[0]->data<float>();
        const float* scale = in[1]->data<float>();
        const float* bias = in.size() > 2 && in[2] ? in[2]->data<float>() : nullptr;
        float* y = out[0]->data<float>();
        float* mean_out = out.size() > 1 && out[1] ? out[1]->data<float>() : nullptr;
        float* inv_out = out.size() > 2 && out[2] ? out[2]->data<float>() : nullptr;
        for (int64_t o = 0; o < outer; ++o) {
            const float* xr = x + o * inner;
            float* yr = y + o * inner;
            double sum = 0;
            for (int64_t i = 0; i < inner; ++i) sum += xr[i];
            const double mean = inner ? sum / double(inner) : 0.0;
            double sq = 0;
            for (int64_t i = 0; i < inner; ++i) sq += (xr[i] - mean) * (xr[i] - mean);
            const double inv = 1.0 / std::sqrt((inner ? sq / double(inner) : 0.0) + double(epsilon_));
            for (int64_t i = 0; i < inner; ++i) {
                const float v = float((xr[i] - mean) * inv) * scale[scale_offs_[size_t(i)]];
                yr[i] = bias ? v + bias[bias_offs_[size_t(i)]] : v;
            }
            if (mean_out) mean_out[o] = float(mean);
            if (inv_out) inv_out[o] = float(inv);
        }
    }

private:
    int64_t axis_;
    int64_t axis_resolved_ = 0;
    float epsilon_;
    std::vector<int64_t> scale_offs_, bias_offs_;
};

// ---------------------------------------------------------------- Gemm / MatMul

// Gemm with constant B (a fully connected layer) in a compiled plan: B packed once,
// alpha folded into it, a constant row-vector C as the bias, the fast GEMM.
class GemmPackedKernel final : public OpKernel {
public:
    static bool applies(const OpAttrs& a) {
        if (!a.for_plan() || a.get_int("transA", 0) != 0) return false;
        const Tensor* b = a.constant_input(1);
        if (!b || b->dtype() != DType::F32 || b->rank() != 2) return false;
        if (!a.has_input(2)) return true;
        const Tensor* c = a.constant_input(2);
        int64_t n = a.get_int("transB", 0) ? b->dim(0) : b->dim(1);
        return c && c->dtype() == DType::F32 && c->numel() == n && (c->rank() == 1 || (c->rank() == 2 && c->dim(0) == 1));
    }
    explicit GemmPackedKernel(const OpAttrs& a) : pool_(a.pool()) {
        const float alpha = a.get_float("alpha", 1.f), beta = a.get_float("beta", 1.f);
        const bool trans_b = a.get_int("transB", 0) != 0;
        a.get_int("transA", 0);
        if (a.opset() < 7) a.ignore("broadcast");
        const Tensor* b = a.constant_input(1);
        k_ = trans_b ? b->dim(1) : b->dim(0);
        n_ = trans_b ? b->dim(0) : b->dim(1);
        auto scaled = [&] {
            std::vector<float> v(b->data<float>(), b->data<float>() + b->numel());
            for (float& x : v) x *= alpha;
            return v;
        };
        // BF16 (SessionOptions::fpmath) on the convolutions' rule (kBf16MinGemmDim). A
        // classifier head at batch 1 reads its weights once per run, so halving their bytes
        // is what counts there.
        if (a.fpmath() == FpMath::Bf16 && std::min(k_, n_) >= kBf16MinGemmDim && bf16_gemm_available()) {
            const std::vector<float> s = scaled();
            packed_bf16_ = pack_gemm_b_bf16(s.data(), k_, n_, trans_b ? k_ : n_, trans_b);
        } else {
            packed_ = PrepackedSet(a).gemm_or("b", k_, n_, [&] {
                const std::vector<float> s = scaled();
                return pack_gemm_b_f32(s.data(), k_, n_, trans_b ? k_ : n_, trans_b);
            });
        }
        if (const Tensor* c = a.constant_input(2)) {
            bias_.assign(c->data<float>(), c->data<float>() + n_);
            for (float& v : bias_) v *= beta;
        }
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        const ValueInfo& a = in[0];
        require_dtype(a.dtype, {DType::F32}, "input A");
        if (a.shape.size() != 2 || a.shape[1] != k_)
            fail("input A " + shape_str(a.shape) + " does not match B's " + std::to_string(k_) + " rows");
        m_ = a.shape[0];
        out[0].dtype = DType::F32;
        out[0].shape = {m_, n_};
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        GemmEpilogue ep;
        ep.bias = bias_.empty() ? nullptr : bias_.data();
        if (!packed_bf16_.empty()) gemm_bf16(m_, in[0]->data<float>(), k_, packed_bf16_, out[0]->data<float>(), n_, ep, pool_);
        else gemm_f32(m_, in[0]->data<float>(), k_, packed_, out[0]->data<float>(), n_, ep, pool_);
    }
    int64_t packed_bytes() const override { return int64_t(packed_.bytes() + packed_bf16_.bytes() + bias_.size() * 4); }
    bool packs_constant_input(size_t i) const override { return i == 1 || i == 2; }  // packed_, bias_
    std::vector<PackedWeights> packed_weights() const override {
        if (packed_.empty()) return {};
        return {export_gemm_packing("b", packed_)};
    }
    std::string kernel_name() const override {
        return packed_bf16_.empty() ? "gemm_f32_" + isa_name(packed_.isa()) : "gemm_bf16_avx512bf16";
    }

private:
    ThreadPool* pool_;
    PackedGemmB packed_;
    PackedGemmBBf16 packed_bf16_;  // instead of packed_ under FpMath::Bf16
    std::vector<float> bias_;
    int64_t m_ = 0, k_ = 0, n_ = 0;
};

class GemmKernel : public OpKernel {
public:
    explicit GemmKernel(const OpAttrs& a) {
        alpha_ = a.get_float("alpha", 1.f);
        beta_ = a.get_float("beta", 1.f);
        trans_a_ = a.get_int("transA", 0) != 0;
        trans_b_ = a.get_int("transB", 0) != 0;
        // Before opset 7, C broadcast only when asked; unidirectional broadcast covers both.
        if (a.opset() < 7) a.ignore("broadcast");
    }

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        const ValueInfo& a = required_input(in, 0, "A");
        const ValueInfo& b = required_input(in, 1, "B");
        require_dtype(a.dtype, {DType::F32}, "input A");
        require_dtype(b.dtype, {DType::F32}, "input B");
        if (a.shape.size() != 2) fail("input A must be a matrix, got " + shape_str(a.shape));
        if (b.shape.size() != 2) fail("input B must be a matrix, got " + shape_str(b.shape));
        m_ = trans_a_ ? a.shape[1] : a.shape[0];
        k_ = trans_a_ ? a.shape[0] : a.shape[1];
        const int64_t kb = trans_b_ ? b.shape[1] : b.shape[0];
        n_ = trans_b_ ? b.shape[0] : b.shape[1];
        if (k_ != kb)
            fail("inner dimensions of A " + shape_str(a.shape) + " and B " + shape_str(b.shape) +
                 " differ (transA=" + std::to_string(trans_a_) + ", transB=" + std::to_string(trans_b_) + ")");
        if (has_input(in, 2)) {
            require_dtype(in[2].dtype, {DType::F32}, "input C");
            const Shape& c = in[2].shape;
            if (c.size() > 2) fail("input C " + shape_str(c) + " must have rank <= 2");
            c_rows_ = c.size() == 2 ? c[0] : 1;
            c_cols_ = c.empty() ? 1 : c.back();
            if ((c_rows_ != 1 && c_rows_ != m_) || (c_cols_ != 1 && c_cols_ != n_))
                fail("input C " + shape_str(c) + " cannot be broadcast to [" + std::to_string(m_) + "," +
                     std::to_string(n_) + "]");
        }
        out[0].dtype = DType::F32;
        out[0].shape = {m_, n_};
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        float* y = out[0]->data<float>();
        const bool has_c = in.size() > 2 && in[2] && beta_ != 0.f;
        if (has_c) {
            // Unidirectional broadcast of C to [M, N]: a dim of size 1 repeats.
            const float* c = in[2]->data<float>();
            for (int64_t i = 0; i < m_; ++i)
                for (int64_t j = 0; j < n_; ++j)
                    y[i * n_ + j] = c[(c_rows_ == 1 ? 0 : i) * c_cols_ + (c_cols_ == 1 ? 0 : j)];
        }
        gemm_f32_ref(trans_a_, trans_b_, m_, n_, k_, alpha_, in[0]->data<float>(), in[0]->dim(1),
                     in[1]->data<float>(), in[1]->dim(1), has_c ? beta_ : 0.f, y, n_);
    }

private:
    float alpha_, beta_;
    bool trans_a_, trans_b_;
    int64_t m_ = 0, n_ = 0, k_ = 0;
    int64_t c_rows_ = 1, c_cols_ = 1;
};

// Plain i-k-j product for the dtypes the float reference GEMM does not cover.
template <typename T>
void matmul_naive(int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c) {
    for (int64_t i = 0; i < m; ++i) {
        T* c_row = c + i * n;
        std::fill(c_row, c_row + n, T(0));
        for (int64_t p = 0; p < k; ++p) {
            const T av = a[i * k + p];
            const T* b_row = b + p * n;
            for (int64_t j = 0; j < n; ++j) c_row[j] += av * b_row[j];
        }
    }
}

class MatMulKernel : public OpKernel {
public:
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        const ValueInfo& a = required_input(in, 0, "A");
        const ValueInfo& b = required_input(in, 1, "B");
        require_dtype(a.dtype, {DType::F32, DType::F64, DType::I32, DType::I64, DType::U32, DType::U64},
                      "input A");
        if (b.dtype != a.dtype)
            fail("inputs A (" + dtype_name(a.dtype) + ") and B (" + dtype_name(b.dtype) + ") differ in type");
        if (a.shape.empty() || b.shape.empty()) fail("MatMul inputs must have rank >= 1");
        // numpy: a 1-D A is a row vector, a 1-D B a column vector; the added dim is dropped again.
        Shape as = a.shape, bs = b.shape;
        if (as.size() == 1) as.insert(as.begin(), 1);
        if (bs.size() == 1) bs.push_back(1);
        m_ = as[as.size() - 2];
        k_ = as.back();
        n_ = bs.back();
        if (bs[bs.size() - 2] != k_)
            fail("inner dimensions of A " + shape_str(a.shape) + " and B " + shape_str(b.shape) + " differ");
        const Shape a_batch(as.begin(), as.end() - 2), b_batch(bs.begin(), bs.end() - 2);
        batch_ = broadcast_shapes(a_batch, b_batch);
        a_offs_ = batch_offsets(a_batch, m_ * k_);
        b_offs_ = batch_offsets(b_batch, k_ * n_);
        Shape y = batch_;
        if (a.shape.size() > 1) y.push_back(m_);
        if (b.shape.size() > 1) y.push_back(n_);
        out[0].dtype = a.dtype;
        out[0].shape = y;
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        switch (in[0]->dtype()) {
            case DType::F32: return run_typed<float>(in, out);
            case DType::F64: return run_typed<double>(in, out);
            case DType::I32: return run_typed<int32_t>(in, out);
            case DType::I64: return run_typed<int64_t>(in, out);
            case DType::U32: return run_typed<uint32_t>(in, out);
            case DType::U64: return run_typed<uint64_t>(in, out);
            default: fail_unsupported("input A of type " + dtype_name(in[0]->dtype()) + " is not supported");
        }
    }

private:
    // Element offset of each matrix of an operand with batch dims `s`, for every index of batch_.
    std::vector<int64_t> batch_offsets(const Shape& s, int64_t matrix_size) const {
        std::vector<int64_t> offs = broadcast_offsets(s, batch_, "batch");
        for (auto& o : offs) o *= matrix_size;
        return offs;
    }

    template <typename T>
    void run_typed(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
        const T* a = in[0]->data<T>();
        const T* b = in[1]->data<T>();
        T* y = out[0]->data<T>();
        for (size_t i = 0; i < a_offs_.size(); ++i) {
            T* yi = y + int64_t(i) * m_ * n_;
            if constexpr (std::is_same_v<T, float>)
                gemm_f32_ref(false, false, m_, n_, k_, 1.f, a + a_offs_[i], k_, b + b_offs_[i], n_, 0.f, yi, n_);
            else
                matmul_naive<T>(m_, n_, k_, a + a_offs_[i], b + b_offs_[i], yi);
        }
    }

    int64_t m_ = 0, n_ = 0, k_ = 0;
    Shape batch_;
    std::vector<int64_t> a_offs_, b_offs_;
};

}  // namespace

void register_nn_ops(OpRegistry& r) {
    r.add("Conv", [](const OpAttrs& a) { return std::make_unique<ConvKernel>(a); });
    r.add("ConvTranspose", [](const OpAttrs& a) -> std::unique_ptr<OpKernel> {
        if (ConvTransposeFastKernel::applies(a)) return std::make_unique<ConvTransposeFastKernel>(a);
        return std::make_unique<ConvTransposeKernel>(a);
    });
    r.add("BatchNormalization", [](const OpAttrs& a) { return std::make_unique<BatchNormKernel>(a); });
    r.add("InstanceNormalization", [](const OpAttrs& a) { return std::make_unique<InstanceNormKernel>(a); });
    r.add("LRN", [](const OpAttrs& a) { return std::make_unique<LrnKernel>(a); });
    r.add("LayerNormalization", [](const OpAttrs& a) { return std::make_unique<LayerNormKernel>(a); }, 17);
    r.add("Gemm", [](const OpAttrs& a) -> std::unique_ptr<OpKernel> {
        if (GemmPackedKernel::applies(a)) return std::make_unique<GemmPackedKernel>(a);
        return std::make_unique<GemmKernel>(a);
    });
    r.add("MatMul", [](const OpAttrs&) { return std::make_unique<MatMulKernel>(); });
}

}  // namespace edgecnn
