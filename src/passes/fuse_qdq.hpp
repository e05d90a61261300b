// QDQ → int8 ops pass (see fuse_qdq.cpp).
#pragma once
#include "ir/graph.hpp"

namespace edgecnn {

// DequantizeLinear → Conv/Gemm (→ Relu/Clip) → QuantizeLinear with uint8 activations and
// int8 per-channel weights → edgecnn.QConvNhwc / QGemm; DQ → MaxPool/Flatten/Reshape → Q
// with equal parameters → the op on uint8. Run before constant folding (which would turn
// the weights' DQ into float constants). Returns the number of patterns rewritten.
int fuse_qdq(Graph& g);

// edgecnn.QAdd(QConvNhwc(x), r) → QConvNhwc(x, W, B, R=r) with the add's parameters
// (add_* attributes): the sum is made in the conv's GEMM epilogue instead of in a separate
// pass over memory, bit for bit the same. Runs after the layout passes (the conv output and
// r must both be NHWC, of the add's shape). Not for depthwise convs. Returns the number fused.
int fuse_qconv_residual(Graph& g);

}  // namespace edgecnn
