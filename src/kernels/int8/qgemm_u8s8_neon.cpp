// The ARM64 int8 GEMM micro-kernel for ARMv8.0 NEON (no dot product: Cortex-A53/A72,
// Raspberry Pi 3/4): smull + sadalp on activations shifted to int8, compensated with
// 128 * the column sums (kernel: qgemm_u8s8_neon_kernel.inl).
#include <arm_neon.h>

#define QGEMM_NEON_BLOCK_FN qgemm_block_neon
#define QGEMM_NEON_MODE kSmull
#define QGEMM_NEON_HAS_DOT 0
#include "kernels/int8/qgemm_u8s8_neon_kernel.inl"
