#include "passes/pipeline.hpp"

#include "passes/fuse_qdq.hpp"

namespace edgecnn {

OptimizeStats optimize_graph(Graph& g, const OptimizeOptions& opt) {
    OptimizeStats st;
    verify_and_sort(g);
    if (opt.level <= 0) return st;
    // Unread nodes first: their reads would block fusions that need a single reader.
    if (opt.remove_dead_code) st.dead_nodes_removed += remove_dead_code(g);
    if (opt.eliminate_identity) st.identities_removed += eliminate_identity(g);
    // Int8 first: constant folding would dequantize the weights of QDQ models.
    fuse_qdq(g);
    if (opt.fold_constants) st.nodes_folded += fold_constants(g);
    if (opt.fold_batchnorm) st.batchnorms_folded += fold_batchnorm(g);
    if (opt.fuse_conv_bias_add) st.bias_ops_folded += fuse_conv_bias_add(g);
    // Folding may have exposed new all-constant nodes and new identities.
    if (opt.fold_constants) st.nodes_folded += fold_constants(g);
    if (opt.eliminate_identity) st.identities_removed += eliminate_identity(g);
    // Activations first: a Mul/Add after an activation (BN after HardSwish) can then only
    // go into the next conv.
    if (opt.fuse_conv_activation) st.activations_fused += fuse_conv_activation(g);
    if (opt.fold_affine_into_conv) st.input_affine_folded += fold_affine_into_conv(g);
    // Residual before activation: Conv→Add→Relu becomes relu(conv + R).
    if (opt.fuse_conv_residual) st.residuals_fused += fuse_conv_residual(g);
    if (opt.fuse_conv_activation) st.activations_fused += fuse_conv_activation(g);
    if (opt.fuse_resize_argmax) st.resize_argmax_fused += fuse_resize_argmax(g);
    if (opt.remove_dead_code) st.dead_nodes_removed += remove_dead_code(g);
    verify_and_sort(g);
    return st;
}

}  // namespace edgecnn
