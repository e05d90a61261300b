// Scalar reference pooling (NCHW / NCDHW): the ground truth that optimized pooling
// kernels are tested against. No graph knowledge: the caller resolves auto_pad and
// ceil_mode into a PoolParams.
//
// Like ConvParams, three spatial dims {depth, height, width} describe 1-D, 2-D and 3-D
// pooling (unused leading dims are 1 with kernel 1, stride 1, dilation 1, pad 0).
#pragma once
#include <cstdint>

namespace edgecnn {

struct PoolParams {
    int64_t planes = 1;  // batch * channels: every plane is pooled independently
    int64_t in[3] = {1, 1, 1};
    int64_t kernel[3] = {1, 1, 1};
    int64_t stride[3] = {1, 1, 1};
    int64_t dilation[3] = {1, 1, 1};
    int64_t pad_begin[3] = {0, 0, 0};
    int64_t pad_end[3] = {0, 0, 0};  // only counted by average pooling with count_include_pad
    int64_t out[3] = {1, 1, 1};
};

// The window of output o along one dim covers input positions
// o*stride - pad_begin + j*dilation, j in [0, kernel); positions outside the input are
// padding and never win a max. A window with no input position yields -infinity
// (cannot happen for shapes ONNX allows).
// indices (optional, may be null): flat index of the winning element in x, counting
// from the start of x; row-major within a plane, or with `column_major` the spatial
// index is w*H + h (ONNX storage_order=1; 2-D only is meaningful). Ties keep the first.
void maxpool_f32_ref(const PoolParams& p, const float* x, float* y, int64_t* indices = nullptr,
                     bool column_major = false);
void maxpool_f64_ref(const PoolParams& p, const double* x, double* y, int64_t* indices = nullptr,
                     bool column_major = false);
void maxpool_u8_ref(const PoolParams& p, const uint8_t* x, uint8_t* y, int64_t* indices = nullptr,
                    bool column_major = false);
void maxpool_i8_ref(const PoolParams& p, const int8_t* x, int8_t* y, int64_t* indices = nullptr,
                    bool column_major = false);

// Mean over the window. The divisor counts the window's positions inside the input, or
// with count_include_pad those inside the padded input [-pad_begin, in + pad_end)
// (positions a ceil_mode window reaches beyond that are never counted).
void avgpool_f32_ref(const PoolParams& p, const float* x, float* y, bool count_include_pad);

// (sum over the window's input positions of |x|^p_norm)^(1/p_norm); padding adds nothing.
void lppool_f32_ref(const PoolParams& p, const float* x, float* y, float p_norm);

// y[i] = mean / max of x[i*plane_size .. (i+1)*plane_size) for i in [0, planes).
void global_avgpool_f32_ref(int64_t planes, int64_t plane_size, const float* x, float* y);
void global_maxpool_f32_ref(int64_t planes, int64_t plane_size, const float* x, float* y);

}  // namespace edgecnn
