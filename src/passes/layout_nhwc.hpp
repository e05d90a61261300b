// Layout passes: the fast kernels run NHWC, ONNX models are NCHW.
//
// convert_to_nhwc puts edgecnn.*Nhwc ops in place of 2-D float Conv/FusedConv, MaxPool,
// AveragePool and global pooling, each wrapped in Transposes (NCHW→NHWC before, back
// after). sink_transposes then pushes those Transposes through layout-agnostic ops
// (elementwise, Concat) until inverse pairs meet and cancel, so data stays NHWC between
// layers and is converted only at the model's edges (or around the few ops that need NCHW).
#pragma once
#include "ir/graph.hpp"

namespace edgecnn {

// Returns the number of nodes converted.
int convert_to_nhwc(Graph& g);
// Returns the number of rewrites (transposes pushed, cancelled or turned into reshapes).
int sink_transposes(Graph& g);
// A ConvNhwc with few input channels (group 1, at most kConvSmallCinMax: a network's RGB
// stem) whose input comes through an NCHW→NHWC Transpose reads the NCHW tensor itself
// (attribute input_nchw = 1; its direct kernel takes channel planes), so the Transpose
// goes unless something else reads it. Run after sink_transposes. Returns the convs changed.
int read_small_conv_inputs_nchw(Graph& g);

}  // namespace edgecnn
