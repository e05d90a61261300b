// Folds an elementwise op with a per-channel float constant that follows a Conv into the
// Conv's weights and bias: Add/Sub change the bias, Mul/Div scale weights and bias.
#include "passes/graph_util.hpp"
#include "passes/passes.hpp"

namespace edgecnn {

using namespace passes;

namespace {

// Per-output-channel values of `c` when it broadcasts against a conv output of shape `y`
// along the channel axis only (e.g. [C,1,1], [1,C,1,1], [1], scalar); empty otherwise.
std::vector<double> per_channel(const Tensor& c, const Shape& y) {
    const Shape& cs = c.shape();
    if (cs.size() > y.size()) return {};
    const int64_t channels = y[1];
    const size_t off = y.size() - cs.size();
    int64_t count = 1;
    for (size_t d = 0; d < cs.size(); ++d) {
        const size_t yd = d + off;
        if (cs[d] == 1) continue;
        if (yd != 1 || cs[d] != channels) return {};
        count = channels;
    }
    const float* p = c.data<float>();
    std::vector<double> v(static_cast<size_t>(channels));
    for (int64_t k = 0; k < channels; ++k) v[size_t(k)] = p[count == 1 ? 0 : k];
    return v;
}

}  // namespace

int fuse_conv_bias_add(Graph& g) {
    auto uses = compute_uses(g);
    std::vector<bool> dead(g.nodes.size(), false);
    int fused = 0;
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        Node& conv = g.nodes[n];
        if (dead[n] || !is_op(conv, "Conv") || conv.inputs.size() < 2 || conv.outputs.size() != 1) continue;
        // A Conv may absorb several ops in a row (Mul then Add); follow the chain.
        while (true) {
            const ValueId y = conv.outputs[0];
            const Tensor* w = f32_constant_of(g, conv.inputs[1]);
            auto ys = static_shape(g, y);
            if (!w || !ys || ys->size() < 3 || uses[size_t(y)].size() != 1 || is_graph_output(g, y)) break;
            const int64_t channels = (*ys)[1];
            const ValueId bias_in = conv.inputs.size() > 2 ? conv.inputs[2] : kNoValue;
            const Tensor* bias = f32_constant_of(g, bias_in);
            if (bias_in != kNoValue && (!bias || bias->shape() != Shape{channels})) break;
            const size_t un = uses[size_t(y)][0].node;
            const Node& op = g.nodes[un];
            const bool add = is_op(op, "Add"), sub = is_op(op, "Sub"), mul = is_op(op, "Mul"), div = is_op(op, "Div");
            if (!(add || sub || mul || div) || op.inputs.size() != 2 || op.outputs.size() != 1) break;
            const size_t slot = uses[size_t(y)][0].input;
            if ((sub || div) && slot != 0) break;  // c - y and c / y are not affine in y's channels alike
            const Tensor* c = f32_constant_of(g, op.inputs[1 - slot]);
            if (!c) break;
            auto os = static_shape(g, op.outputs[0]);
            if (!os || *os != *ys) break;
            std::vector<double> k = per_channel(*c, *ys);
            if (k.empty()) break;
            if (div) {
                bool zero = false;
                for (double& v : k) {
                    zero = zero || v == 0.0;
                    v = 1.0 / v;
                }
                if (zero) break;
            }

            std::vector<double> b(size_t(channels), 0.0);
            if (bias)
                for (int64_t ch = 0; ch < channels; ++ch) b[size_t(ch)] = bias->data<float>()[ch];
            if (add || sub) {
                for (int64_t ch = 0; ch < channels; ++ch) b[size_t(ch)] += add ? k[size_t(ch)] : -k[size_t(ch)];
            } else {
                Tensor nw = w->clone();
                float* wd = nw.data<float>();
                const int64_t per = w->numel() / w->dim(0);
                if (w->dim(0) != channels) break;
                for (int64_t ch = 0; ch < channels; ++ch) {
                    for (int64_t j = 0; j < per; ++j) wd[ch * per + j] = float(double(wd[ch * per + j]) * k[size_t(ch)]);
                    b[size_t(ch)] *= k[size_t(ch)];
                }
                conv.inputs[1] = add_constant(g, conv.name + "_scaled_W", std::move(nw));
            }
            if (add || sub || bias) {
                Tensor nb(DType::F32, {channels});
                for (int64_t ch = 0; ch < channels; ++ch) nb.data<float>()[ch] = float(b[size_t(ch)]);
                if (conv.inputs.size() < 3) conv.inputs.resize(3, kNoValue);
                conv.inputs[2] = add_constant(g, conv.name + "_folded_B", std::move(nb));
            }
            const ValueId z = op.outputs[0];
            conv.outputs[0] = z;
            dead[un] = true;
            ++fused;
            // The uses of z were computed for the op; they now read the conv's output.
            if (z == kNoValue) break;
        }
    }
    if (fused) finish_pass(g, dead);
    return fused;
}

}  // namespace edgecnn
