// Output columns whose whole kernel window lies inside the input row (no padding read):
// the fast, branch-free interior of the direct and depthwise convolution kernels.
#pragma once
#include <algorithm>
#include <cstdint>
#include <utility>

namespace edgecnn {

// [lo, hi) of output columns ow with ow*stride - pad_l >= 0 and
// ow*stride - pad_l + (k-1)*dil <= w-1, clamped to [0, out_w] (lo <= hi).
inline std::pair<int64_t, int64_t> conv_interior_columns(int64_t w, int64_t k, int64_t stride, int64_t dil,
                                                         int64_t pad_l, int64_t out_w) {
    const int64_t lo = (pad_l + stride - 1) / stride;
    const int64_t num = w - 1 - (k - 1) * dil + pad_l;
    const int64_t hi = num < 0 ? 0 : num / stride + 1;
    const int64_t clo = std::min(lo, out_w);
    return {clo, std::max(clo, std::min(hi, out_w))};
}

}  // namespace edgecnn
