// AVX-512 instantiation of the elementwise kernels (eltwise_f32_kernel.inl).
#include "kernels/eltwise/eltwise_f32_kernel.inl"

namespace edgecnn::eltwise_detail {

void binary_avx512(const BinaryJob& j, int64_t e0, int64_t e1) { binary_dispatch<VecAvx512>(j, e0, e1); }

void unary_avx512(const float* x, float* y, int64_t n, const ActivationParams& act) { unary<VecAvx512>(x, y, n, act); }

}  // namespace edgecnn::eltwise_detail
