// Resize(X) read only by ArgMax(axis=1, select_last_index=0) becomes edgecnn.ResizeArgMax:
// a segmentation head that upsamples its class logits (8x in LR-ASPP and DeepLab) and then
// takes the per-pixel argmax no longer writes and re-reads the full-resolution score map
// (21 x 520 x 520 floats = 23 MB for lraspp): the fused kernel makes each output row per
// class and folds it into a running maximum (kernels/resize/resize_f32.hpp).
#include "passes/graph_util.hpp"
#include "passes/passes.hpp"

namespace edgecnn {

using namespace passes;

int fuse_resize_argmax(Graph& g) {
    const auto uses = compute_uses(g);
    std::vector<bool> dead(g.nodes.size(), false);
    int fused = 0;
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        const Node& am = g.nodes[n];
        if (!is_op(am, "ArgMax") || am.inputs.size() != 1 || am.outputs.size() != 1) continue;
        if (node_int_attr(am, "axis", 0) != 1 || node_int_attr(am, "select_last_index", 0) != 0) continue;
        const ValueId scores = am.inputs[0];
        const int32_t p = g.value(scores).producer;
        if (p < 0 || dead[size_t(p)]) continue;
        const Node& rs = g.nodes[size_t(p)];
        // Resize-11 and later (Resize-10 and Upsample have other inputs), float scores with
        // no other reader.
        if (!is_op(rs, "Resize") || g.opset < 11 || rs.outputs.size() != 1) continue;
        if (uses[size_t(scores)].size() != 1 || is_graph_output(g, scores)) continue;
        const Value& sv = g.value(scores);
        if (sv.dtype != DType::F32 || (sv.shape && sv.shape->size() < 2)) continue;
        Node fusedn = rs;
        fusedn.domain = "edgecnn";
        fusedn.op_type = "ResizeArgMax";
        fusedn.name = rs.name.empty() ? am.name : rs.name + "+argmax";
        fusedn.attrs["keepdims"] = make_attr_int(node_int_attr(am, "keepdims", 1));
        fusedn.outputs = am.outputs;
        g.nodes[size_t(p)] = fusedn;
        dead[n] = true;
        ++fused;
    }
    if (fused) finish_pass(g, dead);
    return fused;
}

}  // namespace edgecnn
