// The ARM64 int8 GEMM micro-kernel at the i8mm level (FEAT_I8MM): sudot multiplies the
// uint8 activations by the int8 weights directly, no shift (kernel:
// qgemm_u8s8_neon_kernel.inl).
#include <arm_neon.h>

namespace edgecnn::qgemm_detail {
namespace {
constexpr bool kUnsignedDot = true;
}  // namespace
}  // namespace edgecnn::qgemm_detail

#define QGEMM_NEON_BLOCK_FN qgemm_block_neoni8mm
#include "kernels/int8/qgemm_u8s8_neon_kernel.inl"
