// Elementwise float32 kernels for NHWC networks, vectorized (AVX-512 / AVX2, scalar
// elsewhere) and threaded for large sizes:
//  - binary Add/Sub/Mul/Div/Max/Min over the broadcast patterns CNNs hit (same shape,
//    per-channel [C], per-image-channel [N, C] as in squeeze-excitation, scalar), in any
//    operand order, each with an optional fused activation;
//  - every Activation applied to a buffer (in place allowed), with vectorized exp
//    (sigmoid/SiLU/tanh within ~1e-6 relative of the scalar apply_activation);
//  - NCHW <-> NHWC layout conversion for the model's edges.
// Max/Min follow the CPU's max/min instructions for NaN (not NaN-propagating).
#pragma once
#include <cstdint>

#include "kernels/activation.hpp"

namespace edgecnn {

class ThreadPool;

enum class BinaryOp { Add, Sub, Mul, Div, Max, Min };

// One operand of a binary op whose output is viewed as [outer, mid, inner] (row-major):
// output element (o, m, i) reads p[o*s_outer + m*s_mid + i*s_inner], with s_inner 0
// (broadcast along inner) or 1 (contiguous).
struct EltOperand {
    const float* p = nullptr;
    int64_t s_outer = 0, s_mid = 0, s_inner = 1;
};

// y[o, m, i] = act(a(o, m, i) op b(o, m, i)). y may alias an operand that has y's layout
// (s_outer = mid*inner, s_mid = inner, s_inner = 1).
void binary_f32(BinaryOp op, int64_t outer, int64_t mid, int64_t inner, const EltOperand& a, const EltOperand& b,
                float* y, const ActivationParams& act, ThreadPool* pool);

// y[i] = act(a[i] op b[i]), i < n.
void binary_same_f32(BinaryOp op, const float* a, const float* b, float* y, int64_t n,
                     const ActivationParams& act, ThreadPool* pool);

// y[i] = act(a[i] op s), or act(s op a[i]) with scalar_first.
void binary_scalar_f32(BinaryOp op, const float* a, float s, bool scalar_first, float* y, int64_t n,
                       const ActivationParams& act, ThreadPool* pool);

// x: [n, hw, c] (NHWC); v: [c] (per_image false) or [n, c] (per_image true, e.g. the
// squeeze-excitation scale). y[b, i, ch] = act(x[b, i, ch] op v[.., ch]), or
// act(v op x) with vector_first.
void binary_channel_f32(BinaryOp op, const float* x, const float* v, bool per_image, bool vector_first, float* y,
                        int64_t n, int64_t hw, int64_t c, const ActivationParams& act, ThreadPool* pool);

// y[i] = act(x[i]); y may equal x.
void activation_f32(const float* x, float* y, int64_t n, const ActivationParams& act, ThreadPool* pool);

// Layout conversion of [n, c, hw] <-> [n, hw, c] (x and y must not overlap).
void nchw_to_nhwc_f32(const float* x, float* y, int64_t n, int64_t c, int64_t hw, ThreadPool* pool);
void nhwc_to_nchw_f32(const float* x, float* y, int64_t n, int64_t c, int64_t hw, ThreadPool* pool);

}  // namespace edgecnn
