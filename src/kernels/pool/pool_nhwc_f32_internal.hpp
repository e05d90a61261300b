// Between the NHWC pooling driver (pool_nhwc_f32.cpp) and its per-ISA kernels.
#pragma once
#include <cstdint>

#include "kernels/pool/pool_nhwc_f32.hpp"

namespace edgecnn::pool_detail {

enum class Kind { Max, Avg, AvgIncludePad };

// Output rows [oh0, oh1) of image n.
void rows_avx512(const PoolNhwcParams& p, Kind kind, const float* x, float* y, int64_t n, int64_t oh0, int64_t oh1);
void rows_avx2(const PoolNhwcParams& p, Kind kind, const float* x, float* y, int64_t n, int64_t oh0, int64_t oh1);
void rows_neon(const PoolNhwcParams& p, Kind kind, const float* x, float* y, int64_t n, int64_t oh0, int64_t oh1);

// Channels [c0, c1) of image n: y[c] = reduce over hw of x[., c].
void global_avx512(bool max, int64_t hw, int64_t c, const float* x, float* y, int64_t c0, int64_t c1);
void global_avx2(bool max, int64_t hw, int64_t c, const float* x, float* y, int64_t c0, int64_t c1);
void global_neon(bool max, int64_t hw, int64_t c, const float* x, float* y, int64_t c0, int64_t c1);

}  // namespace edgecnn::pool_detail
