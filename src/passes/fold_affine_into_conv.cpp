// Folds a per-input-channel Mul or Add by a float constant that feeds a Conv into the
// Conv: Conv(x * s) uses W * s (any padding: padded zeros stay zero); Conv(x + b) adds
// sum(W * b) to the bias, only without padding (padding would read b, not zero).
#include "passes/graph_util.hpp"
#include "passes/passes.hpp"

namespace edgecnn {

using namespace passes;

namespace {

// Per-channel values of `c` broadcast against `x` (channel axis 1) with no other axis
// varying; empty otherwise.
std::vector<double> per_channel(const Tensor& c, const Shape& x) {
    const Shape& cs = c.shape();
    if (cs.size() > x.size() || x.size() < 3) return {};
    const size_t off = x.size() - cs.size();
    bool vary = false;
    for (size_t d = 0; d < cs.size(); ++d) {
        if (cs[d] == 1) continue;
        if (d + off != 1 || cs[d] != x[1]) return {};
        vary = true;
    }
    std::vector<double> v(static_cast<size_t>(x[1]));
    const float* p = c.data<float>();
    for (size_t k = 0; k < v.size(); ++k) v[k] = p[vary ? k : 0];
    return v;
}

bool has_padding(const Node& conv) {
    const Attribute* ap = conv.attr("auto_pad");
    if (ap && ap->kind == Attribute::Kind::String && ap->s != "NOTSET" && ap->s != "VALID") return true;
    const Attribute* pads = conv.attr("pads");
    if (pads && (!ap || ap->s == "NOTSET"))
        for (int64_t p : pads->ints)
            if (p != 0) return true;
    return false;
}

}  // namespace

int fold_affine_into_conv(Graph& g) {
    auto uses = compute_uses(g);
    std::vector<bool> dead(g.nodes.size(), false);
    int folded = 0;
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        Node& conv = g.nodes[n];
        if (!(is_op(conv, "Conv") || is_fused_conv(conv)) || conv.inputs.size() < 2) continue;
        while (true) {
            const ValueId x = conv.inputs[0];
            const int32_t p = g.value(x).producer;
            if (p < 0 || dead[size_t(p)] || uses[size_t(x)].size() != 1 || is_graph_output(g, x)) break;
            const Node& op = g.nodes[size_t(p)];
            const bool mul = is_op(op, "Mul"), add = is_op(op, "Add");
            if (!(mul || add) || op.inputs.size() != 2 || op.outputs.size() != 1) break;
            if (add && has_padding(conv)) break;
            // Which input is the constant.
            int ci = f32_constant_of(g, op.inputs[1]) ? 1 : (f32_constant_of(g, op.inputs[0]) ? 0 : -1);
            if (ci < 0) break;
            const Tensor& c = *f32_constant_of(g, op.inputs[size_t(ci)]);
            const ValueId src = op.inputs[size_t(1 - ci)];
            auto xs = static_shape(g, src), os = static_shape(g, x);
            const Tensor* w = f32_constant_of(g, conv.inputs[1]);
            if (!xs || !os || *xs != *os || !w || g.value(src).constant) break;
            std::vector<double> k = per_channel(c, *xs);
            if (k.empty()) break;
            const Shape& ws = w->shape();
            const int64_t c_out = ws[0], cin_g = ws[1], c_in = (*xs)[1];
            if (c_in % cin_g != 0) break;
            const int64_t groups = c_in / cin_g;
            if (c_out % groups != 0) break;
            const int64_t cout_g = c_out / groups;
            int64_t ksize = 1;
            for (size_t d = 2; d < ws.size(); ++d) ksize *= ws[d];
            const ValueId bias_in = conv.inputs.size() > 2 ? conv.inputs[2] : kNoValue;
            const Tensor* bias = f32_constant_of(g, bias_in);
            if (bias_in != kNoValue && (!bias || bias->shape() != Shape{c_out})) break;
            const float* wd = w->data<float>();
            if (mul) {
                Tensor nw = w->clone();
                float* nd = nw.data<float>();
                for (int64_t oc = 0; oc < c_out; ++oc)
                    for (int64_t icg = 0; icg < cin_g; ++icg) {
                        const double s = k[size_t((oc / cout_g) * cin_g + icg)];
                        float* row = nd + (oc * cin_g + icg) * ksize;
                        for (int64_t t = 0; t < ksize; ++t) row[t] = float(double(row[t]) * s);
                    }
                conv.inputs[1] = add_constant(g, conv.name + "_inscaled_W", std::move(nw));
            } else {
                Tensor nb(DType::F32, {c_out});
                float* bd = nb.data<float>();
                for (int64_t oc = 0; oc < c_out; ++oc) {
                    double acc = bias ? bias->data<float>()[oc] : 0.0;
                    for (int64_t icg = 0; icg < cin_g; ++icg) {
                        const double b = k[size_t((oc / cout_g) * cin_g + icg)];
                        const float* row = wd + (oc * cin_g + icg) * ksize;
                        for (int64_t t = 0; t < ksize; ++t) acc += double(row[t]) * b;
                    }
                    bd[oc] = float(acc);
                }
                if (conv.inputs.size() < 3) conv.inputs.resize(3, kNoValue);
                conv.inputs[2] = add_constant(g, conv.name + "_inshift_B", std::move(nb));
            }
            conv.inputs[0] = src;
            dead[size_t(p)] = true;
            // src gains the conv as a reader in place of the op.
            for (Use& u : uses[size_t(src)])
                if (u.node == size_t(p)) u = {n, 0};
            ++folded;
        }
    }
    if (folded) finish_pass(g, dead);
    return folded;
}

}  // namespace edgecnn
