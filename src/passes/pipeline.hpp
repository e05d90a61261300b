// The optimization pipeline over a specialized graph: every graph input has static dims,
// constant subgraphs are folded, and values carry dtype and static shape. The passes keep
// the graph outputs and their names; the result is verified and topologically sorted.
#pragma once
#include "ir/graph.hpp"
#include "passes/passes.hpp"

namespace edgecnn {

struct OptimizeOptions {
    // 0: no pass at all; 1: every pass below that is enabled.
    int level = 1;
    bool eliminate_identity = true;
    bool fold_constants = true;
    bool fold_batchnorm = true;
    bool fuse_conv_bias_add = true;
    bool fold_affine_into_conv = true;
    bool fuse_conv_residual = true;
    bool fuse_conv_activation = true;
    bool fuse_resize_argmax = true;
    bool remove_dead_code = true;
};

// What the pipeline did, per pass (number of rewrites).
struct OptimizeStats {
    int identities_removed = 0;
    int nodes_folded = 0;
    int batchnorms_folded = 0;
    int bias_ops_folded = 0;
    int input_affine_folded = 0;
    int residuals_fused = 0;
    int activations_fused = 0;
    int resize_argmax_fused = 0;
    int dead_nodes_removed = 0;
};

OptimizeStats optimize_graph(Graph& g, const OptimizeOptions& opt = {});

}  // namespace edgecnn
