// edgecnn Graph → ONNX ModelProto: the writer beside the importer, used by `edgecnn
// quantize` to write standard QDQ models that other engines (ONNX Runtime) also run.
// Writes nodes in the graph's order, every constant a node reads as an initializer, and
// the graph inputs/outputs with their declared dims. Internal (domain "edgecnn") ops and
// subgraph attributes are refused: the output must be a model any ONNX engine reads.
#pragma once
#include <string>

#include "ir/graph.hpp"

namespace edgecnn {

// Serialized ModelProto bytes. `opset` is the default-domain opset written.
std::string export_onnx_bytes(const Graph& g, int64_t opset);
void export_onnx_file(const Graph& g, const std::string& path, int64_t opset);

}  // namespace edgecnn
