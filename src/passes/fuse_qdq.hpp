// QDQ → int8 ops pass (see fuse_qdq.cpp).
#pragma once
#include "ir/graph.hpp"

namespace edgecnn {

// DequantizeLinear → Conv/Gemm (→ Relu/Clip) → QuantizeLinear with uint8 activations and
// int8 per-channel weights → edgecnn.QConvNhwc / QGemm; DQ → MaxPool/Flatten/Reshape → Q
// with equal parameters → the op on uint8. Run before constant folding (which would turn
// the weights' DQ into float constants). Returns the number of patterns rewritten.
int fuse_qdq(Graph& g);

}  // namespace edgecnn
