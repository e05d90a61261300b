// Internal ops that the graph passes create (domain "edgecnn"), with reference kernels.
//
// edgecnn.FusedConv(X, W, B?, R?) = activation(Conv(X, W, B) + R)
//   X, W, B as Conv (any spatial rank Conv supports, NCHW); R optional, the output's exact
//   shape. Attributes: Conv's own (auto_pad, dilations, group, kernel_shape, pads,
//   strides) plus activation (none|relu|clip|hardsigmoid|hardswish|sigmoid|silu|leakyrelu|
//   tanh), activation_alpha and activation_beta (see kernels/activation.hpp).
#include <cmath>

#include "kernels/activation.hpp"
#include "ops/op.hpp"

namespace edgecnn {
namespace {

Activation parse_activation(const std::string& s) {
    for (Activation a : {Activation::None, Activation::Relu, Activation::Clip, Activation::HardSigmoid,
                         Activation::HardSwish, Activation::Sigmoid, Activation::Silu, Activation::LeakyRelu,
                         Activation::Tanh})
        if (s == activation_name(a)) return a;
    fail("attribute 'activation' has invalid value '" + s + "'");
}

class FusedConvKernel : public OpKernel {
public:
    explicit FusedConvKernel(const OpAttrs& a) {
        // The convolution itself is the registered Conv, built from the Conv attributes.
        Node conv;
        conv.name = a.node().name;
        conv.op_type = "Conv";
        for (const char* key : {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"})
            if (a.has(key)) conv.attrs[key] = *a.node().attr(key);
        const OpDef* def = OpRegistry::instance().find("Conv");
        if (!def) fail("op 'Conv' is not registered");
        OpAttrs conv_attrs(conv, a.opset());
        conv_ = def->factory(conv_attrs);
        act_.kind = parse_activation(a.get_string("activation", "none"));
        act_.alpha = a.get_float("activation_alpha", 0.f);
        act_.beta = a.get_float("activation_beta", 0.f);
        if (act_.kind == Activation::Clip && !(act_.alpha <= act_.beta))
            fail("clip activation needs activation_alpha (min) <= activation_beta (max)");
        if (std::isnan(act_.alpha) || std::isnan(act_.beta)) fail("activation parameters must not be NaN");
    }

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (in.size() > 4) fail("expects at most 4 inputs (X, W, B, R), got " + std::to_string(in.size()));
        if (out.size() != 1 || !out[0].present) fail("expects exactly one output");
        std::vector<ValueInfo> conv_in(in.begin(), in.begin() + std::min<size_t>(in.size(), 3));
        if (!conv_->infer(conv_in, out)) return false;
        has_residual_ = in.size() > 3 && in[3].present;
        if (has_residual_) {
            require_dtype(in[3].dtype, {DType::F32}, "input R");
            if (in[3].shape != out[0].shape)
                fail("residual R " + shape_str(in[3].shape) + " must have the output's shape " +
                     shape_str(out[0].shape));
        }
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        std::vector<const Tensor*> conv_in(in.begin(), in.begin() + std::min<size_t>(in.size(), 3));
        conv_->run(conv_in, out);
        float* y = out[0]->data<float>();
        const int64_t n = out[0]->numel();
        const float* r = has_residual_ && in.size() > 3 && in[3] ? in[3]->data<float>() : nullptr;
        if (r)
            for (int64_t i = 0; i < n; ++i) y[i] += r[i];
        if (act_.kind != Activation::None)
            for (int64_t i = 0; i < n; ++i) y[i] = apply_activation(y[i], act_);
    }

private:
    std::unique_ptr<OpKernel> conv_;
    ActivationParams act_;
    bool has_residual_ = false;
};

}  // namespace

void register_fused_ops(OpRegistry& r) {
    r.add("edgecnn.FusedConv", [](const OpAttrs& a) { return std::make_unique<FusedConvKernel>(a); });
}

}  // namespace edgecnn
