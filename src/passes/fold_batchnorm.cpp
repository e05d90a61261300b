// Folds inference BatchNormalization into the Conv, ConvTranspose or Gemm that produces
// its input: y = (conv(x) - mean) * s + b with s = scale / sqrt(var + eps) becomes a
// conv with weights W * s (per output channel) and bias (B - mean) * s + b.
#include <cmath>

#include "passes/graph_util.hpp"
#include "passes/passes.hpp"

namespace edgecnn {

using namespace passes;

namespace {

struct BnParams {
    std::vector<double> s, shift;  // y = x * s + shift
};

// The BN's per-channel affine form when it is an inference BN with constant float params
// over `channels` channels.
std::optional<BnParams> bn_params(const Graph& g, const Node& bn, int64_t channels) {
    if (bn.inputs.size() < 5) return {};
    if (node_int_attr(bn, "training_mode", 0) != 0) return {};
    if (g.opset < 9 && node_int_attr(bn, "spatial", 1) != 1) return {};
    for (size_t o = 1; o < bn.outputs.size(); ++o)
        if (bn.outputs[o] != kNoValue) return {};
    const Tensor* t[4];
    for (size_t i = 0; i < 4; ++i) {
        t[i] = f32_constant_of(g, bn.inputs[1 + i]);
        if (!t[i] || t[i]->shape() != Shape{channels}) return {};
    }
    const double eps = node_float_attr(bn, "epsilon", 1e-5f);
    BnParams p;
    p.s.resize(size_t(channels));
    p.shift.resize(size_t(channels));
    const float *scale = t[0]->data<float>(), *b = t[1]->data<float>(), *mean = t[2]->data<float>(),
                *var = t[3]->data<float>();
    for (int64_t c = 0; c < channels; ++c) {
        // As the BN kernel computes it: scale / sqrt(var + eps) in float.
        const double s = double(scale[c] / std::sqrt(var[c] + float(eps)));
        p.s[size_t(c)] = s;
        p.shift[size_t(c)] = double(b[c]) - double(mean[c]) * s;
    }
    return p;
}

// Rewrites the producer (Conv/ConvTranspose/Gemm, index p) to absorb the BN; returns false
// when its weights or bias are not in a form we fold.
bool fold_into(Graph& g, size_t p, const Node& bn) {
    Node& prod = g.nodes[p];
    const Tensor* w = f32_constant_of(g, prod.inputs[1]);
    if (!w) return false;
    const bool conv = is_op(prod, "Conv"), convt = is_op(prod, "ConvTranspose"), gemm = is_op(prod, "Gemm");
    const ValueId y = prod.outputs[0];
    auto ys = static_shape(g, y);
    // Channels from the output shape, or, in a graph with dynamic dims (an .ecnn file
    // converted without fixed shapes), from the weights: the fold needs nothing else.
    int64_t channels = -1;
    if (ys && ys->size() >= 2) channels = (*ys)[1];
    else if (conv && w->rank() >= 3) channels = w->dim(0);
    else if (convt && w->rank() >= 3) channels = w->dim(1) * node_int_attr(prod, "group", 1);
    else if (gemm && w->rank() == 2) channels = node_int_attr(prod, "transB", 0) ? w->dim(0) : w->dim(1);
    if (channels <= 0) return false;
    auto bnp = bn_params(g, bn, channels);
    if (!bnp) return false;
    const ValueId bias_in = prod.inputs.size() > 2 ? prod.inputs[2] : kNoValue;
    const Tensor* bias = bias_in == kNoValue ? nullptr : f32_constant_of(g, bias_in);
    if (bias_in != kNoValue && !bias) return false;

    Tensor nw = w->clone();
    float* wd = nw.data<float>();
    std::vector<double> old_bias(size_t(channels), 0.0);
    const Shape& ws = w->shape();
    if (conv) {
        if (ws[0] != channels || (bias && bias->shape() != Shape{channels})) return false;
        const int64_t per = w->numel() / channels;
        for (int64_t c = 0; c < channels; ++c)
            for (int64_t k = 0; k < per; ++k) wd[c * per + k] = float(double(wd[c * per + k]) * bnp->s[size_t(c)]);
    } else if (convt) {
        // W: [C_in, C_out/group, k...]; output channel g*(C_out/group) + j.
        const int64_t group = node_int_attr(prod, "group", 1);
        if (ws.size() < 3 || group < 1 || ws[1] * group != channels || ws[0] % group != 0) return false;
        if (bias && bias->shape() != Shape{channels}) return false;
        const int64_t cpg_out = ws[1], cpg_in = ws[0] / group;
        int64_t ksize = 1;
        for (size_t d = 2; d < ws.size(); ++d) ksize *= ws[d];
        for (int64_t ic = 0; ic < ws[0]; ++ic) {
            const int64_t grp = ic / cpg_in;
            for (int64_t j = 0; j < cpg_out; ++j) {
                const double s = bnp->s[size_t(grp * cpg_out + j)];
                float* row = wd + (ic * cpg_out + j) * ksize;
                for (int64_t k = 0; k < ksize; ++k) row[k] = float(double(row[k]) * s);
            }
        }
    } else if (gemm) {
        // Y = alpha * A' B' + beta * C with B' [K, N]; the BN scales column n of Y.
        if (ws.size() != 2 || (ys && ys->size() != 2)) return false;
        const bool trans_b = node_int_attr(prod, "transB", 0) != 0;
        const int64_t nn = trans_b ? ws[0] : ws[1], kk = trans_b ? ws[1] : ws[0];
        if (nn != channels) return false;
        const double beta = node_float_attr(prod, "beta", 1.f);
        if (bias) {
            const Shape& bs = bias->shape();
            if (!(bs == Shape{channels} || bs == Shape{1, channels} || bias->numel() == 1)) return false;
        }
        for (int64_t k = 0; k < kk; ++k)
            for (int64_t n = 0; n < nn; ++n) {
                float& v = trans_b ? wd[n * kk + k] : wd[k * nn + n];
                v = float(double(v) * bnp->s[size_t(n)]);
            }
        if (bias) {
            const float* bd = bias->data<float>();
            for (int64_t c = 0; c < channels; ++c) old_bias[size_t(c)] = beta * bd[bias->numel() == 1 ? 0 : c];
        }
        prod.attrs["beta"] = make_attr_float(1.f);
    } else {
        return false;
    }
    if (!gemm && bias) {
        const float* bd = bias->data<float>();
        for (int64_t c = 0; c < channels; ++c) old_bias[size_t(c)] = bd[c];
    }
    Tensor nb(DType::F32, {channels});
    float* bd = nb.data<float>();
    for (int64_t c = 0; c < channels; ++c)
        bd[c] = float(old_bias[size_t(c)] * bnp->s[size_t(c)] + bnp->shift[size_t(c)]);

    prod.inputs[1] = add_constant(g, prod.name + "_bnfold_W", std::move(nw));
    if (prod.inputs.size() < 3) prod.inputs.resize(3, kNoValue);
    prod.inputs[2] = add_constant(g, prod.name + "_bnfold_B", std::move(nb));
    // The producer now writes the BN's output.
    prod.outputs[0] = bn.outputs[0];
    return true;
}

}  // namespace

int fold_batchnorm(Graph& g) {
    const auto uses = compute_uses(g);
    std::vector<bool> dead(g.nodes.size(), false);
    int folded = 0;
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        const Node& bn = g.nodes[n];
        if (!is_op(bn, "BatchNormalization") || bn.inputs.empty() || bn.outputs.empty() ||
            bn.outputs[0] == kNoValue)
            continue;
        const ValueId x = bn.inputs[0];
        const int32_t p = g.value(x).producer;
        if (p < 0 || dead[size_t(p)] || uses[size_t(x)].size() != 1 || is_graph_output(g, x)) continue;
        const Node& prod = g.nodes[size_t(p)];
        if (!(is_op(prod, "Conv") || is_op(prod, "ConvTranspose") || is_op(prod, "Gemm"))) continue;
        if (prod.inputs.size() < 2 || prod.outputs.size() != 1) continue;
        if (!fold_into(g, size_t(p), bn)) continue;
        dead[n] = true;
        ++folded;
    }
    if (folded) finish_pass(g, dead);
    return folded;
}

}  // namespace edgecnn
