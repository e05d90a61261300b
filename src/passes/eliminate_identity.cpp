// Removes nodes that compute their input unchanged: Identity, inference Dropout, Cast to
// the input's dtype, and shape ops whose output shape equals the input's.
#include "passes/graph_util.hpp"
#include "passes/passes.hpp"

namespace edgecnn {

using namespace passes;

namespace {

DType dtype_of(const Graph& g, ValueId v) {
    const Value& val = g.value(v);
    return val.constant ? val.constant->dtype() : val.dtype;
}

// Whether the Dropout node is a no-op: not in training mode (or ratio 0) and its mask,
// if any, is read by nobody.
bool dropout_is_identity(const Graph& g, const Node& n, const std::vector<std::vector<Use>>& uses) {
    if (n.outputs.size() > 1 && n.outputs[1] != kNoValue) {
        ValueId mask = n.outputs[1];
        if (!uses[size_t(mask)].empty() || is_graph_output(g, mask)) return false;
    }
    if (const Attribute* t = n.attr("is_test"); t && t->kind == Attribute::Kind::Int && t->i == 0 && g.opset < 7)
        return false;
    if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
        const Tensor* training = constant_of(g, n.inputs[2]);
        if (!training || training->numel() != 1) return false;
        if (training->to_i64()[0] != 0) {
            // Training mode drops elements unless the ratio is a constant 0.
            const Tensor* ratio = n.inputs.size() > 1 ? constant_of(g, n.inputs[1]) : nullptr;
            if (!ratio || ratio->numel() != 1 || ratio->to_f64()[0] != 0.0) return false;
        }
    }
    return true;
}

bool is_identity(const Graph& g, const Node& n, const std::vector<std::vector<Use>>& uses) {
    if (n.inputs.empty() || n.inputs[0] == kNoValue || n.outputs.empty() || n.outputs[0] == kNoValue) return false;
    if (!(n.domain.empty() || n.domain == "ai.onnx")) return false;
    const ValueId in = n.inputs[0], out = n.outputs[0];
    const std::string& op = n.op_type;
    if (op == "Dropout") return dropout_is_identity(g, n, uses);
    if (n.outputs.size() != 1) return false;
    if (op == "Identity") return true;
    if (op == "Cast") {
        const Attribute* to = n.attr("to");
        DType t = dtype_of(g, in);
        return to && to->kind == Attribute::Kind::Int && t != DType::Undefined && int64_t(t) == to->i;
    }
    if (op == "CastLike") {
        DType t = dtype_of(g, in);
        return n.inputs.size() > 1 && n.inputs[1] != kNoValue && t != DType::Undefined && dtype_of(g, n.inputs[1]) == t;
    }
    if (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" || op == "Expand") {
        auto si = static_shape(g, in), so = static_shape(g, out);
        return si && so && *si == *so;
    }
    return false;
}

}  // namespace

int eliminate_identity(Graph& g) {
    const auto uses = compute_uses(g);
    std::vector<bool> dead(g.nodes.size(), false);
    int removed = 0;
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        const Node& node = g.nodes[n];
        if (!is_identity(g, node, uses)) continue;
        const ValueId in = node.inputs[0], out = node.outputs[0];
        if (!is_graph_output(g, out)) {
            replace_uses(g, out, in);
        } else {
            // Keep the output's name: the producer of `in` writes `out` directly.
            const int32_t p = g.value(in).producer;
            if (p < 0 || dead[size_t(p)] || is_graph_output(g, in) || g.value(in).constant) continue;
            for (ValueId& o : g.nodes[size_t(p)].outputs)
                if (o == in) o = out;
            replace_uses(g, in, out);
            g.value(out).producer = p;
            g.value(in).producer = -1;
        }
        dead[n] = true;
        ++removed;
    }
    if (removed) finish_pass(g, dead);
    return removed;
}

}  // namespace edgecnn
