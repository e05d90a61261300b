// Conversion of one onnx::TensorProto to a Tensor; shared by the importer and .pb files.
#pragma once
#include <onnx/onnx_pb.h>

#include <string>

#include "base/tensor.hpp"

namespace edgecnn {

// `base_dir` resolves external data (empty: external data is refused).
Tensor tensor_from_proto(const onnx::TensorProto& p, const std::string& base_dir);
void tensor_to_proto(const Tensor& t, const std::string& name, onnx::TensorProto* p);

}  // namespace edgecnn
