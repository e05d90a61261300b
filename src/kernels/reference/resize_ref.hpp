// Reference resampling kernels for Resize/Upsample. The op turns its attributes into one
// plan per axis (which input positions feed each output position, with what weight);
// the kernels only apply plans, so every coordinate mode and filter shares them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/tensor.hpp"

namespace edgecnn::ref {

// How one axis is resampled. For output position j, taps j*taps .. j*taps+taps-1 of
// `index` (already clamped into [0, in_size)) and `weight` apply; `outside[j]` (if the
// vector is not empty) says j takes the extrapolation value instead (tf_crop_and_resize).
struct ResizeAxisPlan {
    int64_t in_size = 0;
    int64_t out_size = 0;
    int64_t taps = 1;
    std::vector<int64_t> index;
    std::vector<float> weight;
    std::vector<uint8_t> outside;
    // True when the axis maps every output position onto the same input position.
    bool is_identity() const;
};

// Nearest neighbour: plans have one tap each; elements are `es` bytes of any type and
// `fill` (es bytes) is written where a plan marks a position outside.
void resize_nearest(const void* src, void* dst, const Shape& in_shape, const std::vector<ResizeAxisPlan>& plans,
                    size_t es, const void* fill);

// Separable weighted filter (linear, cubic, antialiased) over float32, applied one axis at
// a time from the last axis to the first, which is what the n-linear definition reduces to.
void resize_filter_f32(const float* src, float* dst, const Shape& in_shape, const std::vector<ResizeAxisPlan>& plans,
                       float extrapolation_value);

}  // namespace edgecnn::ref
