// NumPy .npy files (format 1.0/2.0, little-endian, C order) ↔ Tensor.
#pragma once
#include <cstddef>
#include <istream>
#include <string>

#include "base/tensor.hpp"

namespace edgecnn {

Tensor read_npy(const std::string& path);
// Reads from a stream / from memory; `name` is used in messages (the fuzz target uses these).
Tensor read_npy(std::istream& in, const std::string& name);
Tensor read_npy_bytes(const void* data, size_t size, const std::string& name);
void write_npy(const std::string& path, const Tensor& t);

}  // namespace edgecnn
