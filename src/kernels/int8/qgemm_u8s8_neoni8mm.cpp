// The ARM64 int8 GEMM micro-kernel at the i8mm level (FEAT_I8MM): sudot multiplies the
// uint8 activations by the int8 weights directly, no shift (kernel:
// qgemm_u8s8_neon_kernel.inl).
#include <arm_neon.h>

#define QGEMM_NEON_BLOCK_FN qgemm_block_neoni8mm
#define QGEMM_NEON_MODE kSudot
#define QGEMM_NEON_HAS_DOT 1
#include "kernels/int8/qgemm_u8s8_neon_kernel.inl"
