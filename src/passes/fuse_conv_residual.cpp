// Add(Conv(x), r) with r of the Conv output's exact shape becomes FusedConv(x, W, B, R=r):
// the residual is added in the conv's epilogue instead of in a separate pass over memory.
#include "passes/graph_util.hpp"
#include "passes/passes.hpp"

namespace edgecnn {

using namespace passes;

namespace {

// Whether node p can take a residual input: a Conv, or a FusedConv with no residual and
// no activation yet (the residual is added before the activation).
bool accepts_residual(const Node& p) {
    if (is_op(p, "Conv")) return p.inputs.size() >= 2 && p.outputs.size() == 1;
    if (is_fused_conv(p))
        return fused_activation(p) == "none" && (p.inputs.size() < 4 || p.inputs[3] == kNoValue);
    return false;
}

DType dtype_of(const Graph& g, ValueId v) {
    const Value& val = g.value(v);
    return val.constant ? val.constant->dtype() : val.dtype;
}

}  // namespace

int fuse_conv_residual(Graph& g) {
    const auto uses = compute_uses(g);
    std::vector<bool> dead(g.nodes.size(), false);
    int fused = 0;
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        const Node& add = g.nodes[n];
        if (!is_op(add, "Add") || add.inputs.size() != 2 || add.outputs.size() != 1) continue;
        const ValueId z = add.outputs[0];
        auto zs = static_shape(g, z);
        if (!zs || add.inputs[0] == add.inputs[1]) continue;
        // Candidates: each input produced by a conv that can take the other as residual.
        int best = -1;
        int32_t best_producer = -1;
        for (int k = 0; k < 2; ++k) {
            const ValueId y = add.inputs[size_t(k)], r = add.inputs[size_t(1 - k)];
            const int32_t p = g.value(y).producer;
            if (p < 0 || dead[size_t(p)] || !accepts_residual(g.nodes[size_t(p)])) continue;
            if (uses[size_t(y)].size() != 1 || is_graph_output(g, y)) continue;
            auto ys = static_shape(g, y), rs = static_shape(g, r);
            if (!ys || !rs || *ys != *zs || *rs != *zs || dtype_of(g, r) != DType::F32) continue;
            // Prefer the conv that runs later: its residual is then already computed.
            if (p > best_producer) {
                best = k;
                best_producer = p;
            }
        }
        if (best < 0) continue;
        Node& conv = g.nodes[size_t(best_producer)];
        to_fused_conv(conv);
        conv.inputs.resize(4, kNoValue);
        conv.inputs[3] = add.inputs[size_t(1 - best)];
        conv.outputs[0] = z;
        dead[n] = true;
        ++fused;
    }
    if (fused) finish_pass(g, dead);
    return fused;
}

}  // namespace edgecnn
