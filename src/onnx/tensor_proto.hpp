// ONNX TensorProto (.pb) files ↔ Tensor.
#pragma once
#include <string>

#include "base/tensor.hpp"

namespace edgecnn {

// Reads a serialized TensorProto file; `name` receives the tensor's name (may be empty).
Tensor read_tensor_pb(const std::string& path, std::string* name = nullptr);
void write_tensor_pb(const std::string& path, const Tensor& t, const std::string& name);

}  // namespace edgecnn
