// Winograd F(4,3) transforms compiled for AVX2 (see winograd_f32_kernel.inl).
#define WINOGRAD_NS avx2
#include "kernels/winograd/winograd_f32_kernel.inl"

namespace edgecnn::winograd_detail {
void run_avx2(const WinogradParams& p, const float* x, const WinogradF43Weights& wt, float* y, const float* residual,
                const ActivationParams& act, float* workspace, ThreadPool* pool) {
    avx2::run(p, x, wt, y, residual, act, workspace, pool);
}
}  // namespace edgecnn::winograd_detail
