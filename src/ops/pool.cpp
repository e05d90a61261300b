// MaxPool, AveragePool, LpPool and their Global* forms. Attribute parsing and output
// shapes live here; the arithmetic is in kernels/reference/pool_ref.
#include <algorithm>

#include "kernels/reference/pool_ref.hpp"
#include "ops/op.hpp"

namespace edgecnn {
namespace {

enum class PoolKind { Max, Average, Lp };

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }  // a >= 0, b > 0

// Window attributes shared by the windowed pools, resolved against an input shape.
struct PoolWindow {
    std::vector<int64_t> kernel, strides, dilations, pads;
    std::string auto_pad = "NOTSET";
    bool ceil_mode = false;

    void read(const OpAttrs& a) {
        kernel = a.get_ints("kernel_shape");
        strides = a.get_ints("strides", {});
        dilations = a.get_ints("dilations", {});
        pads = a.get_ints("pads", {});
        auto_pad = a.get_string("auto_pad", "NOTSET");
        ceil_mode = a.get_int("ceil_mode", 0) != 0;
        if (auto_pad != "NOTSET" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER" && auto_pad != "VALID")
            fail("attribute 'auto_pad' has invalid value '" + auto_pad + "'");
    }

    // Fills the spatial part of `p` (and returns the output shape) for input shape `x`.
    Shape resolve(const Shape& x, PoolParams& p) const {
        if (x.size() < 3) fail("input X must have rank >= 3 (N, C, spatial...), got " + shape_str(x));
        const size_t sp = x.size() - 2;
        if (sp > 3) fail_unsupported("pooling over " + std::to_string(sp) + " spatial dims is not supported");
        if (kernel.size() != sp)
            fail("attribute 'kernel_shape' has " + std::to_string(kernel.size()) + " values, input " + shape_str(x) +
                 " has " + std::to_string(sp) + " spatial dims");
        if (!strides.empty() && strides.size() != sp) fail("attribute 'strides' must have one value per spatial dim");
        if (!dilations.empty() && dilations.size() != sp)
            fail("attribute 'dilations' must have one value per spatial dim");
        if (auto_pad == "NOTSET" && !pads.empty() && pads.size() != 2 * sp)
            fail("attribute 'pads' must have two values per spatial dim");
        p = PoolParams{};
        p.planes = x[0] * x[1];
        Shape y = {x[0], x[1]};
        const size_t base = 3 - sp;  // spatial dim i maps to params slot base + i
        for (size_t i = 0; i < sp; ++i) {
            const int64_t in = x[2 + i], k = kernel[i];
            const int64_t s = strides.empty() ? 1 : strides[i];
            const int64_t d = dilations.empty() ? 1 : dilations[i];
            if (k < 1) fail("attribute 'kernel_shape' values must be >= 1");
            if (s < 1) fail("attribute 'strides' values must be >= 1");
            if (d < 1) fail("attribute 'dilations' values must be >= 1");
            const int64_t dk = (k - 1) * d + 1;
            int64_t pb = 0, pe = 0, out = 0;
            if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
                out = ceil_div(in, s);
                const int64_t total = std::max<int64_t>(0, (out - 1) * s + dk - in);
                pb = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
                pe = total - pb;
            } else {
                if (auto_pad == "NOTSET" && !pads.empty()) {
                    pb = pads[i];
                    pe = pads[i + sp];
                    if (pb < 0 || pe < 0) fail("attribute 'pads' values must be >= 0");
                }
                const int64_t span = in + pb + pe - dk;
                if (span < 0)
                    fail("kernel window " + std::to_string(dk) + " is larger than the padded input " + shape_str(x));
                out = (ceil_mode && auto_pad == "NOTSET" ? ceil_div(span, s) : span / s) + 1;
                // A ceil_mode window must start inside the input or its leading padding;
                // one starting in the trailing padding is dropped (as ONNX and PyTorch do).
                if (ceil_mode && out > 1 && (out - 1) * s >= in + pb) --out;
            }
            const size_t j = base + i;
            p.in[j] = in;
            p.kernel[j] = k;
            p.stride[j] = s;
            p.dilation[j] = d;
            p.pad_begin[j] = pb;
            p.pad_end[j] = pe;
            p.out[j] = out;
            y.push_back(out);
        }
        return y;
    }
};

class PoolKernel : public OpKernel {
public:
    PoolKernel(const OpAttrs& a, PoolKind kind) : kind_(kind) {
        window_.read(a);
        if (kind == PoolKind::Max) {
            storage_order_ = a.get_int("storage_order", 0);
            if (storage_order_ != 0 && storage_order_ != 1) fail("attribute 'storage_order' must be 0 or 1");
        } else if (kind == PoolKind::Average) {
            count_include_pad_ = a.get_int("count_include_pad", 0) != 0;
        } else {
            p_norm_ = float(a.get_int("p", 2));
        }
        if (a.num_outputs() > 1 && kind != PoolKind::Max) fail("pooling has a single output");
    }

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        if (in.empty() || !in[0].present) fail("input X is required");
        if (kind_ == PoolKind::Max)
            require_dtype(in[0].dtype, {DType::F32, DType::F64, DType::U8, DType::I8}, "input X");
        else
            require_dtype(in[0].dtype, {DType::F32}, "input X");
        const Shape y = window_.resolve(in[0].shape, params_);
        if (out.size() > 2) fail("MaxPool has at most two outputs");
        // Windows over an empty spatial extent (padding only) have no value to pool.
        for (size_t i = 2; i < in[0].shape.size(); ++i)
            if (in[0].shape[i] == 0 && shape_numel(y) > 0)
                fail_unsupported("pooling an input with an empty spatial dimension " + shape_str(in[0].shape) +
                                 " is not supported");
        out[0].dtype = in[0].dtype;
        out[0].shape = y;
        if (out.size() > 1 && out[1].present) {
            out[1].dtype = DType::I64;
            out[1].shape = y;
        }
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Tensor& x = *in[0];
        Tensor& y = *out[0];
        if (kind_ == PoolKind::Average) return avgpool_f32_ref(params_, x.data<float>(), y.data<float>(), count_include_pad_);
        if (kind_ == PoolKind::Lp) return lppool_f32_ref(params_, x.data<float>(), y.data<float>(), p_norm_);
        int64_t* idx = out.size() > 1 && out[1] ? out[1]->data<int64_t>() : nullptr;
        const bool col = storage_order_ == 1;
        switch (x.dtype()) {
            case DType::F32: return maxpool_f32_ref(params_, x.data<float>(), y.data<float>(), idx, col);
            case DType::F64: return maxpool_f64_ref(params_, x.data<double>(), y.data<double>(), idx, col);
            case DType::U8: return maxpool_u8_ref(params_, x.data<uint8_t>(), y.data<uint8_t>(), idx, col);
            case DType::I8: return maxpool_i8_ref(params_, x.data<int8_t>(), y.data<int8_t>(), idx, col);
            default: fail_unsupported("input X of type " + dtype_name(x.dtype()) + " is not supported");
        }
    }

private:
    PoolKind kind_;
    PoolWindow window_;
    int64_t storage_order_ = 0;
    bool count_include_pad_ = false;
    float p_norm_ = 2.f;
    PoolParams params_;
};

class GlobalPoolKernel : public OpKernel {
public:
    GlobalPoolKernel(const OpAttrs& a, PoolKind kind) : kind_(kind) {
        if (kind == PoolKind::Lp) p_norm_ = float(a.get_int("p", 2));
    }

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("expects an output");
        if (in.empty() || !in[0].present) fail("input X is required");
        require_dtype(in[0].dtype, {DType::F32}, "input X");
        const Shape& x = in[0].shape;
        if (x.size() < 2) fail("input X must have rank >= 2 (N, C, spatial...), got " + shape_str(x));
        Shape y = x;
        for (size_t i = 2; i < y.size(); ++i) y[i] = 1;
        for (size_t i = 2; i < x.size(); ++i)
            if (x[i] == 0 && x[0] * x[1] > 0)
                fail_unsupported("global pooling of an input with an empty spatial dimension " + shape_str(x) +
                                 " is not supported");
        out[0].dtype = DType::F32;
        out[0].shape = y;
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Tensor& x = *in[0];
        const int64_t planes = x.dim(0) * x.dim(1);
        const int64_t plane = planes == 0 ? 0 : x.numel() / planes;
        const float* xp = x.data<float>();
        float* yp = out[0]->data<float>();
        if (kind_ == PoolKind::Average) return global_avgpool_f32_ref(planes, plane, xp, yp);
        if (kind_ == PoolKind::Max) return global_maxpool_f32_ref(planes, plane, xp, yp);
        // LpPool over a whole plane is a 1-D LpPool whose window is the plane.
        PoolParams p;
        p.planes = planes;
        p.in[2] = p.kernel[2] = plane;
        lppool_f32_ref(p, xp, yp, p_norm_);
    }

private:
    PoolKind kind_;
    float p_norm_ = 2.f;
};

}  // namespace

void register_pool_ops(OpRegistry& r) {
    r.add("MaxPool", [](const OpAttrs& a) { return std::make_unique<PoolKernel>(a, PoolKind::Max); });
    r.add("AveragePool", [](const OpAttrs& a) { return std::make_unique<PoolKernel>(a, PoolKind::Average); });
    r.add("LpPool", [](const OpAttrs& a) { return std::make_unique<PoolKernel>(a, PoolKind::Lp); });
    r.add("GlobalAveragePool", [](const OpAttrs& a) { return std::make_unique<GlobalPoolKernel>(a, PoolKind::Average); });
    r.add("GlobalMaxPool", [](const OpAttrs& a) { return std::make_unique<GlobalPoolKernel>(a, PoolKind::Max); });
    r.add("GlobalLpPool", [](const OpAttrs& a) { return std::make_unique<GlobalPoolKernel>(a, PoolKind::Lp); });
}

}  // namespace edgecnn
