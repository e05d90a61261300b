// Shape and dtype propagation over a graph whose inputs have static shapes.
#include "base/error.hpp"
#include "passes/graph_util.hpp"
#include "passes/passes.hpp"

namespace edgecnn {

using namespace passes;

bool passes::infer_node_shapes(Graph& g, const Node& node) {
    std::vector<ValueInfo> in(node.inputs.size()), out(node.outputs.size());
    for (size_t i = 0; i < node.inputs.size(); ++i) {
        const ValueId id = node.inputs[i];
        if (id == kNoValue) {
            in[i].present = false;
            continue;
        }
        const Value& v = g.value(id);
        auto s = static_shape(g, id);
        if (!s || (v.dtype == DType::Undefined && !v.constant)) return false;
        in[i].dtype = v.constant ? v.constant->dtype() : v.dtype;
        in[i].shape = *s;
        in[i].data = v.constant.get();
    }
    for (size_t o = 0; o < node.outputs.size(); ++o) out[o].present = node.outputs[o] != kNoValue;
    auto kernel = make_kernel(g, node);
    if (!kernel) return false;
    try {
        if (!kernel->infer(in, out)) return false;
    } catch (const Error&) {
        return false;
    }
    for (size_t o = 0; o < node.outputs.size(); ++o) {
        if (!out[o].present) continue;
        Value& v = g.value(node.outputs[o]);
        v.dtype = out[o].dtype;
        std::vector<Dim> dims(out[o].shape.size());
        for (size_t d = 0; d < dims.size(); ++d) dims[d].value = out[o].shape[d];
        v.shape = std::move(dims);
    }
    return true;
}

int infer_shapes(Graph& g) {
    int unknown = 0;
    for (const Node& node : g.nodes) {
        if (infer_node_shapes(g, node)) continue;
        for (ValueId o : node.outputs)
            if (o != kNoValue && !static_shape(g, o)) ++unknown;
    }
    return unknown;
}

}  // namespace edgecnn
