// MNIST/Fashion-MNIST IDX files (optionally gzip-compressed): images and labels.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "base/tensor.hpp"

namespace edgecnn {

// Reads an IDX file of unsigned bytes (magic 0x0000080N); returns a uint8 tensor with the
// file's dims ([N,28,28] for images, [N] for labels). `.gz` files are decompressed.
Tensor read_idx_u8(const std::string& path);

}  // namespace edgecnn
