// Pieces shared by the edgecnn subcommands: loading models and tensor files.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/tensor.hpp"
#include "ir/graph.hpp"
#include "runtime/session.hpp"

namespace edgecnn::cli {

std::shared_ptr<Graph> load_model(const std::string& path);
// Reads .npy or .pb by extension.
Tensor read_tensor_file(const std::string& path);
// Writes `t` as `dir/<safe name>.<ext>` (ext "npy" or "pb"); returns the path.
std::string write_tensor_file(const std::string& dir, const std::string& name, const Tensor& t, const std::string& ext);
// "shape [1,1000] float32 min -3.1 max 9.2 mean 0.01 argmax 281"
std::string summarize(const Tensor& t);
// Parses --fpmath: "f32" or "bf16" (anything else: an error naming the flag).
FpMath parse_fpmath(const std::string& s);
const char* fpmath_name(FpMath m);
// Parses "1x3x224x224".
Shape parse_shape(const std::string& s);
// Multiply-accumulates of one node (Conv and its fused/NHWC forms, ConvTranspose, Gemm,
// MatMul; 0 for other ops) at the direct-convolution count; -1 when a shape is unknown.
int64_t node_macs(const Node& n, const std::function<const Shape*(ValueId)>& shape_of);
// Their sum over the graph, from bound shapes; -1 if unknown.
int64_t count_macs(const Graph& g, const std::vector<std::optional<Shape>>& shapes);

}  // namespace edgecnn::cli
