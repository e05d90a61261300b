// Int8 Add of two uint8 tensors with their own scales/zero points (arithmetic: qadd_u8 in
// requant.hpp), the same plain loop compiled per ISA level (qadd_u8_kernel.inl) so the
// compiler vectorizes it; bit-identical to qadd_ref.
#pragma once
#include <cstdint>
#include <string>

namespace edgecnn {

class ThreadPool;

struct QAddParams {
    float a_mult = 1, b_mult = 1;  // input scale / output scale
    int32_t a_zero = 0, b_zero = 0, y_zero = 0, lo = 0, hi = 255;
};

void qadd_u8(int64_t count, const uint8_t* a, const uint8_t* b, const QAddParams& p, uint8_t* y, ThreadPool* pool);
std::string qadd_u8_kernel_name();

}  // namespace edgecnn
