#include "kernels/reference/pool_ref.hpp"

#include <cmath>
#include <limits>

namespace edgecnn {
namespace {

// Calls visit(flat_input_offset_in_plane, spatial_index_for_indices) for every window
// position of output (od, oh, ow) that lies inside the input.
template <typename F>
void for_window(const PoolParams& p, int64_t od, int64_t oh, int64_t ow, bool column_major, F&& visit) {
    const int64_t o[3] = {od, oh, ow};
    int64_t start[3];
    for (int d = 0; d < 3; ++d) start[d] = o[d] * p.stride[d] - p.pad_begin[d];
    for (int64_t kd = 0; kd < p.kernel[0]; ++kd) {
        const int64_t id = start[0] + kd * p.dilation[0];
        if (id < 0 || id >= p.in[0]) continue;
        for (int64_t kh = 0; kh < p.kernel[1]; ++kh) {
            const int64_t ih = start[1] + kh * p.dilation[1];
            if (ih < 0 || ih >= p.in[1]) continue;
            for (int64_t kw = 0; kw < p.kernel[2]; ++kw) {
                const int64_t iw = start[2] + kw * p.dilation[2];
                if (iw < 0 || iw >= p.in[2]) continue;
                const int64_t offset = (id * p.in[1] + ih) * p.in[2] + iw;
                const int64_t index = column_major ? (iw * p.in[1] + ih) * p.in[0] + id : offset;
                visit(offset, index);
            }
        }
    }
}

template <typename T>
void maxpool_ref(const PoolParams& p, const T* x, T* y, int64_t* indices, bool column_major) {
    const int64_t in_plane = p.in[0] * p.in[1] * p.in[2];
    const T lowest = std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                          : std::numeric_limits<T>::lowest();
    for (int64_t pl = 0; pl < p.planes; ++pl) {
        const T* xp = x + pl * in_plane;
        for (int64_t od = 0; od < p.out[0]; ++od)
            for (int64_t oh = 0; oh < p.out[1]; ++oh)
                for (int64_t ow = 0; ow < p.out[2]; ++ow) {
                    T best = lowest;
                    int64_t best_index = -1;
                    for_window(p, od, oh, ow, column_major, [&](int64_t off, int64_t index) {
                        // NaN propagates like numpy's max: once seen it stays.
                        if (best_index < 0 || xp[off] > best || (xp[off] != xp[off] && best == best)) {
                            best = xp[off];
                            best_index = index;
                        }
                    });
                    *y++ = best;
                    if (indices) *indices++ = best_index < 0 ? -1 : pl * in_plane + best_index;
                }
    }
}

// Number of positions o*stride - pad_begin + j*dilation (j < kernel) inside [lo, hi).
int64_t count_in(int64_t start, int64_t kernel, int64_t dilation, int64_t lo, int64_t hi) {
    int64_t n = 0;
    for (int64_t j = 0; j < kernel; ++j) {
        const int64_t i = start + j * dilation;
        n += (i >= lo && i < hi);
    }
    return n;
}

}  // namespace

void maxpool_f32_ref(const PoolParams& p, const float* x, float* y, int64_t* indices, bool column_major) {
    maxpool_ref(p, x, y, indices, column_major);
}
void maxpool_f64_ref(const PoolParams& p, const double* x, double* y, int64_t* indices, bool column_major) {
    maxpool_ref(p, x, y, indices, column_major);
}
void maxpool_u8_ref(const PoolParams& p, const uint8_t* x, uint8_t* y, int64_t* indices, bool column_major) {
    maxpool_ref(p, x, y, indices, column_major);
}
void maxpool_i8_ref(const PoolParams& p, const int8_t* x, int8_t* y, int64_t* indices, bool column_major) {
    maxpool_ref(p, x, y, indices, column_major);
}

void avgpool_f32_ref(const PoolParams& p, const float* x, float* y, bool count_include_pad) {
    const int64_t in_plane = p.in[0] * p.in[1] * p.in[2];
    for (int64_t pl = 0; pl < p.planes; ++pl) {
        const float* xp = x + pl * in_plane;
        for (int64_t od = 0; od < p.out[0]; ++od)
            for (int64_t oh = 0; oh < p.out[1]; ++oh)
                for (int64_t ow = 0; ow < p.out[2]; ++ow) {
                    double sum = 0;
                    int64_t n = 0;
                    for_window(p, od, oh, ow, false, [&](int64_t off, int64_t) {
                        sum += xp[off];
                        ++n;
                    });
                    if (count_include_pad) {
                        const int64_t o[3] = {od, oh, ow};
                        n = 1;
                        for (int d = 0; d < 3; ++d)
                            n *= count_in(o[d] * p.stride[d] - p.pad_begin[d], p.kernel[d], p.dilation[d],
                                          -p.pad_begin[d], p.in[d] + p.pad_end[d]);
                    }
                    *y++ = n > 0 ? float(sum / double(n)) : 0.f;
                }
    }
}

void lppool_f32_ref(const PoolParams& p, const float* x, float* y, float p_norm) {
    const int64_t in_plane = p.in[0] * p.in[1] * p.in[2];
    for (int64_t pl = 0; pl < p.planes; ++pl) {
        const float* xp = x + pl * in_plane;
        for (int64_t od = 0; od < p.out[0]; ++od)
            for (int64_t oh = 0; oh < p.out[1]; ++oh)
                for (int64_t ow = 0; ow < p.out[2]; ++ow) {
                    double sum = 0;
                    for_window(p, od, oh, ow, false, [&](int64_t off, int64_t) {
                        sum += std::pow(std::fabs(double(xp[off])), double(p_norm));
                    });
                    *y++ = float(std::pow(sum, 1.0 / double(p_norm)));
                }
    }
}

void global_avgpool_f32_ref(int64_t planes, int64_t plane_size, const float* x, float* y) {
    for (int64_t i = 0; i < planes; ++i) {
        const float* xp = x + i * plane_size;
        double sum = 0;
        for (int64_t j = 0; j < plane_size; ++j) sum += xp[j];
        y[i] = float(sum / double(plane_size));
    }
}

void global_maxpool_f32_ref(int64_t planes, int64_t plane_size, const float* x, float* y) {
    for (int64_t i = 0; i < planes; ++i) {
        const float* xp = x + i * plane_size;
        float best = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < plane_size; ++j)
            if (xp[j] > best || xp[j] != xp[j]) {
                best = xp[j];
                if (best != best) break;
            }
        y[i] = best;
    }
}

}  // namespace edgecnn
