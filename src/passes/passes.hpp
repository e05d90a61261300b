// The graph passes, one per file. Each rewrites the graph in place, returns the number of
// rewrites it made, and leaves the graph verified and topologically sorted. They expect a
// *specialized* graph (see pipeline.hpp): static shapes on values and constants folded;
// a node whose values lack a static shape is left alone.
#pragma once
#include <cstdint>

#include "ir/graph.hpp"

namespace edgecnn {

// Identity, inference Dropout, Cast to the same dtype, and Reshape/Flatten/Squeeze/
// Unsqueeze whose output shape equals the input's: removed, readers rewired. When the
// removed node's output is a graph output, its producer writes that output instead (the
// node is kept when its input is a graph input, a constant or another graph output).
int eliminate_identity(Graph& g);

// Every deterministic node whose inputs are all constants (and Shape/Size of a value with
// a static shape) is evaluated with its reference kernel and replaced by a constant.
int fold_constants(Graph& g);

// BatchNormalization (inference) after Conv, ConvTranspose or Gemm whose output has no
// other reader: scale and shift folded into the weights and bias (a bias is created
// when absent). BatchNorms after anything else are kept.
int fold_batchnorm(Graph& g);

// Conv followed by Add/Sub/Mul/Div with a per-channel float constant (shape [C,1,1],
// [1,C,1,1], [1] ...), where the Conv output has no other reader: Add/Sub change the
// bias, Mul/Div scale weights and bias.
int fuse_conv_bias_add(Graph& g);

// Mul or Add by a per-input-channel float constant feeding a Conv (x*s, x+b; the Add
// only when the Conv has no padding), folded into the Conv's weights / bias.
int fold_affine_into_conv(Graph& g);

// Add(Conv(x), r) where r has the Conv output's exact shape → edgecnn.FusedConv with the
// residual input R (added before the activation).
int fuse_conv_residual(Graph& g);

// Conv (or a FusedConv without activation) followed by Relu, Clip, HardSigmoid,
// HardSwish, Sigmoid, LeakyRelu, Tanh, Mul(y, Sigmoid(y)) (SiLU), Mul(y,
// HardSigmoid(y)) with alpha 1/6, beta 1/2 or Div(Mul(y, Clip(Add(y, 3), 0, 6)), 6)
// (HardSwish) → edgecnn.FusedConv with that activation.
int fuse_conv_activation(Graph& g);

// Resize-11+ of float scores read only by ArgMax(axis=1, select_last_index=0) →
// edgecnn.ResizeArgMax (the argmax of the resized map, computed without writing it).
int fuse_resize_argmax(Graph& g);

// After the NHWC layout: a 1x1 stride-1 ConvNhwc (9-16 input channels: memory-bound, no
// residual) whose output (at least `min_bytes`, float32) is read only by a
// depthwise ConvNhwc without residual → edgecnn.ExpandDwNhwc, which computes the two band
// by band with bit-identical results. EDGECNN_NO_EXPAND_DW=1 turns it off.
int fuse_expand_dwconv(Graph& g, int64_t min_bytes = int64_t(1) << 20);

// Removes nodes none of whose outputs is read or a graph output, and drops the constant
// data of values nothing reads any more (so that their memory is released).
int remove_dead_code(Graph& g);

// Fills Value::dtype and Value::shape of every value it can by running the kernels'
// infer() in order, given the graph inputs' static shapes. Returns how many values that
// nodes produce are still without a static shape. (Tests and tools use it to specialize a
// graph; the Session has its own binding.)
int infer_shapes(Graph& g);

}  // namespace edgecnn
