// ARM64 NEON instantiation of the small-Cin direct convolution (conv_small_cin_f32_kernel.inl):
// q registers of 4 channels, up to 4 per pass (16 channels), 6-8 pixels per tile.
#include "kernels/direct/conv_small_cin_f32_kernel.inl"

namespace edgecnn::small_cin_detail {

void rows_neon(const Job& j, int64_t n, int64_t oh0, int64_t oh1) { sc_rows<VecNeon>(j, n, oh0, oh1); }

}  // namespace edgecnn::small_cin_detail
