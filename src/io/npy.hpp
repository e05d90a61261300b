// NumPy .npy files (format 1.0/2.0, little-endian, C order) ↔ Tensor.
#pragma once
#include <string>

#include "base/tensor.hpp"

namespace edgecnn {

Tensor read_npy(const std::string& path);
void write_npy(const std::string& path, const Tensor& t);

}  // namespace edgecnn
