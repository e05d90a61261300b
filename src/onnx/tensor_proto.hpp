// ONNX TensorProto (.pb) files ↔ Tensor.
#pragma once
#include <cstddef>
#include <string>

#include "base/tensor.hpp"

namespace edgecnn {

// Reads a serialized TensorProto file; `name` receives the tensor's name (may be empty).
Tensor read_tensor_pb(const std::string& path, std::string* name = nullptr);
// The same from memory; `label` is used in messages (the fuzz target uses this).
Tensor read_tensor_pb_bytes(const void* data, size_t size, const std::string& label, std::string* name = nullptr);
void write_tensor_pb(const std::string& path, const Tensor& t, const std::string& name);

}  // namespace edgecnn
