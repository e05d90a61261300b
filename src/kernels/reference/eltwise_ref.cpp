#include "kernels/reference/eltwise_ref.hpp"

namespace edgecnn::ref {

void half_to_f32(DType t, const void* in, float* out, int64_t n) {
    const uint16_t* x = static_cast<const uint16_t*>(in);
    if (t == DType::F16)
        for (int64_t i = 0; i < n; ++i) out[i] = half_to_float(x[i]);
    else
        for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_float(x[i]);
}

void f32_to_half(DType t, const float* in, void* out, int64_t n) {
    uint16_t* y = static_cast<uint16_t*>(out);
    if (t == DType::F16)
        for (int64_t i = 0; i < n; ++i) y[i] = float_to_half(in[i]);
    else
        for (int64_t i = 0; i < n; ++i) y[i] = float_to_bf16(in[i]);
}

Tensor widen_half(const Tensor& t) {
    Tensor w(DType::F32, t.shape());
    half_to_f32(t.dtype(), t.raw(), w.data<float>(), t.numel());
    return w;
}

BroadcastPlan make_broadcast_plan(const Shape& out, const std::vector<Shape>& ins) {
    const size_t r = out.size(), n = ins.size();
    // Full-rank strides of each input, 0 along broadcast dims.
    std::vector<std::vector<int64_t>> full(n, std::vector<int64_t>(r, 0));
    for (size_t k = 0; k < n; ++k) {
        const Shape& s = ins[k];
        const size_t lead = r - s.size();
        int64_t acc = 1;
        for (size_t i = s.size(); i-- > 0;) {
            full[k][lead + i] = s[i] == 1 ? 0 : acc;
            acc *= s[i];
        }
    }
    BroadcastPlan p;
    p.numel = shape_numel(out);
    p.strides.assign(n, {});
    for (size_t d = 0; d < r; ++d) {
        if (out[d] == 1) continue;
        bool merge = !p.dims.empty();
        for (size_t k = 0; k < n && merge; ++k) merge = p.strides[k].back() == full[k][d] * out[d];
        if (merge) {
            p.dims.back() *= out[d];
            for (size_t k = 0; k < n; ++k) p.strides[k].back() = full[k][d];
        } else {
            p.dims.push_back(out[d]);
            for (size_t k = 0; k < n; ++k) p.strides[k].push_back(full[k][d]);
        }
    }
    if (p.dims.empty()) {  // a single element
        p.dims.push_back(1);
        for (size_t k = 0; k < n; ++k) p.strides[k].push_back(0);
    }
    return p;
}

}  // namespace edgecnn::ref
