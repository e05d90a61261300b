// The ARM64 int8 GEMM micro-kernel at the dot-product level (ARMv8.2 FEAT_DotProd):
// sdot on activations shifted to int8, compensated with 128 * the column sums
// (kernel: qgemm_u8s8_neon_kernel.inl).
#include <arm_neon.h>

#define QGEMM_NEON_BLOCK_FN qgemm_block_neondot
#define QGEMM_NEON_MODE kSdot
#define QGEMM_NEON_HAS_DOT 1
#include "kernels/int8/qgemm_u8s8_neon_kernel.inl"
