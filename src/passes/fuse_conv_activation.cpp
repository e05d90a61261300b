// Conv (or a FusedConv without activation) followed by an activation becomes a FusedConv
// that applies it in the epilogue. SiLU (Mul(y, Sigmoid(y))) and HardSwish exported as
// Mul(y, HardSigmoid(y)) are recognised as well, and HardSwish written out as
// Div(Mul(y, Clip(Add(y, 3), 0, 6)), 6).
#include <cmath>
#include <limits>

#include "kernels/activation.hpp"
#include "passes/graph_util.hpp"
#include "passes/passes.hpp"

namespace edgecnn {

using namespace passes;

namespace {

bool takes_activation(const Node& p) {
    if (is_op(p, "Conv")) return p.inputs.size() >= 2 && p.outputs.size() == 1;
    return is_fused_conv(p) && fused_activation(p) == "none";
}

// A scalar float constant input, or `def` when the input is omitted; nullopt when the
// input is present but not a constant float scalar.
std::optional<float> scalar_input(const Graph& g, const Node& n, size_t i, float def) {
    if (i >= n.inputs.size() || n.inputs[i] == kNoValue) return def;
    const Tensor* t = f32_constant_of(g, n.inputs[i]);
    if (!t || t->numel() != 1) return std::nullopt;
    return t->data<float>()[0];
}

// The activation node `a` applies to its input 0, if it is one FusedConv can fuse.
std::optional<ActivationParams> single_activation(const Graph& g, const Node& a) {
    if (a.inputs.empty() || a.outputs.size() != 1) return std::nullopt;
    ActivationParams p;
    if (is_op(a, "Relu")) {
        p.kind = Activation::Relu;
    } else if (is_op(a, "Sigmoid")) {
        p.kind = Activation::Sigmoid;
    } else if (is_op(a, "Tanh")) {
        p.kind = Activation::Tanh;
    } else if (is_op(a, "HardSwish")) {
        p.kind = Activation::HardSwish;
    } else if (is_op(a, "HardSigmoid")) {
        p.kind = Activation::HardSigmoid;
        p.alpha = node_float_attr(a, "alpha", 0.2f);
        p.beta = node_float_attr(a, "beta", 0.5f);
    } else if (is_op(a, "LeakyRelu")) {
        p.kind = Activation::LeakyRelu;
        p.alpha = node_float_attr(a, "alpha", 0.01f);
    } else if (is_op(a, "Clip")) {
        p.kind = Activation::Clip;
        const float lo = std::numeric_limits<float>::lowest(), hi = std::numeric_limits<float>::max();
        if (g.opset < 11) {
            p.alpha = node_float_attr(a, "min", lo);
            p.beta = node_float_attr(a, "max", hi);
        } else {
            auto mn = scalar_input(g, a, 1, lo), mx = scalar_input(g, a, 2, hi);
            if (!mn || !mx) return std::nullopt;
            p.alpha = *mn;
            p.beta = *mx;
        }
        if (std::isnan(p.alpha) || std::isnan(p.beta)) return std::nullopt;
    } else {
        return std::nullopt;
    }
    return p;
}

std::optional<float> scalar_const(const Graph& g, ValueId v) {
    const Tensor* t = f32_constant_of(g, v);
    if (!t || t->numel() != 1) return std::nullopt;
    return t->data<float>()[0];
}

// The other input of a two-input node, given the slot `slot` that reads our value.
ValueId other_input(const Node& n, size_t slot) { return n.inputs[1 - slot]; }

// HardSwish written out (Paddle and older exporters): with y read by Add and Mul,
//   Div(Mul(y, Clip(Add(y, 3), 0, 6)), 6)   or   Mul(Mul(...), 1/6)
// Returns the nodes to remove and the final output, or nothing.
struct Match {
    std::vector<size_t> nodes;
    ValueId output = kNoValue;
};
std::optional<Match> hardswish_longhand(const Graph& g, const std::vector<std::vector<Use>>& uses,
                                        const std::vector<bool>& dead, ValueId y) {
    const auto& yu = uses[size_t(y)];
    if (yu.size() != 2) return std::nullopt;
    for (int k = 0; k < 2; ++k) {
        const Use au = yu[size_t(k)], mu = yu[size_t(1 - k)];
        const Node& a = g.nodes[au.node];
        const Node& m = g.nodes[mu.node];
        if (dead[au.node] || dead[mu.node] || !is_op(a, "Add") || !is_op(m, "Mul")) continue;
        if (a.inputs.size() != 2 || m.inputs.size() != 2 || a.outputs.size() != 1 || m.outputs.size() != 1) continue;
        auto three = scalar_const(g, other_input(a, au.input));
        if (!three || *three != 3.f) continue;
        const ValueId ao = a.outputs[0];
        if (uses[size_t(ao)].size() != 1 || is_graph_output(g, ao)) continue;
        const Use cu = uses[size_t(ao)][0];
        const Node& c = g.nodes[cu.node];
        if (dead[cu.node] || cu.input != 0) continue;
        auto clip = single_activation(g, c);
        if (!clip || clip->kind != Activation::Clip || clip->alpha != 0.f || clip->beta != 6.f) continue;
        const ValueId co = c.outputs[0];
        if (uses[size_t(co)].size() != 1 || is_graph_output(g, co) || other_input(m, mu.input) != co) continue;
        const ValueId mo = m.outputs[0];
        if (uses[size_t(mo)].size() != 1 || is_graph_output(g, mo)) continue;
        const Use du = uses[size_t(mo)][0];
        const Node& d = g.nodes[du.node];
        if (dead[du.node] || d.inputs.size() != 2 || d.outputs.size() != 1) continue;
        const bool div = is_op(d, "Div") && du.input == 0, mul = is_op(d, "Mul");
        auto f = scalar_const(g, other_input(d, du.input));
        if (!f || !((div && *f == 6.f) || (mul && std::fabs(*f - 1.f / 6.f) <= 1e-7f))) continue;
        return Match{{au.node, cu.node, mu.node, du.node}, d.outputs[0]};
    }
    return std::nullopt;
}

void set_activation(Node& conv, const ActivationParams& p) {
    to_fused_conv(conv);
    conv.attrs["activation"] = make_attr_string(activation_name(p.kind));
    conv.attrs["activation_alpha"] = make_attr_float(p.alpha);
    conv.attrs["activation_beta"] = make_attr_float(p.beta);
}

}  // namespace

int fuse_conv_activation(Graph& g) {
    const auto uses = compute_uses(g);
    std::vector<bool> dead(g.nodes.size(), false);
    int fused = 0;
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        Node& conv = g.nodes[n];
        if (!takes_activation(conv)) continue;
        const ValueId y = conv.outputs[0];
        if (y == kNoValue || is_graph_output(g, y)) continue;
        const auto& yu = uses[size_t(y)];
        if (yu.size() == 1) {
            const Node& a = g.nodes[yu[0].node];
            if (dead[yu[0].node] || yu[0].input != 0) continue;
            auto p = single_activation(g, a);
            if (!p) continue;
            set_activation(conv, *p);
            conv.outputs[0] = a.outputs[0];
            dead[yu[0].node] = true;
            ++fused;
        } else if (auto hs = hardswish_longhand(g, uses, dead, y)) {
            set_activation(conv, ActivationParams{Activation::HardSwish, 0.f, 0.f});
            conv.outputs[0] = hs->output;
            for (size_t d : hs->nodes) dead[d] = true;
            ++fused;
        } else if (yu.size() == 2) {
            // Mul(y, Sigmoid(y)) = SiLU; Mul(y, HardSigmoid(y; 1/6, 1/2)) = HardSwish.
            for (int k = 0; k < 2; ++k) {
                const Use& su = yu[size_t(k)];
                const Use& mu = yu[size_t(1 - k)];
                const Node& s = g.nodes[su.node];
                const Node& m = g.nodes[mu.node];
                if (dead[su.node] || dead[mu.node] || su.input != 0 || s.outputs.size() != 1) continue;
                if (!is_op(m, "Mul") || m.inputs.size() != 2 || m.outputs.size() != 1) continue;
                const ValueId so = s.outputs[0];
                if (so == kNoValue || uses[size_t(so)].size() != 1 || is_graph_output(g, so)) continue;
                if (m.inputs[1 - mu.input] != so) continue;
                ActivationParams p;
                if (is_op(s, "Sigmoid")) {
                    p.kind = Activation::Silu;
                } else if (is_op(s, "HardSigmoid")) {
                    const float alpha = node_float_attr(s, "alpha", 0.2f), beta = node_float_attr(s, "beta", 0.5f);
                    if (std::fabs(alpha - 1.f / 6.f) > 1e-6f || beta != 0.5f) continue;
                    p.kind = Activation::HardSwish;
                } else {
                    continue;
                }
                set_activation(conv, p);
                conv.outputs[0] = m.outputs[0];
                dead[su.node] = true;
                dead[mu.node] = true;
                ++fused;
                break;
            }
        }
    }
    if (fused) finish_pass(g, dead);
    return fused;
}

}  // namespace edgecnn
