// Quantization ops.
//
// Standard (reference, run op by op by the interpreter — the ground truth of a QDQ model):
//   QuantizeLinear(x f32, scale, zero_point?) → uint8/int8 (round half to even, saturate),
//   DequantizeLinear(x u8/i8/i32, scale, zero_point?) → f32; per tensor, or per axis
//   (`axis`, opset 13+) with 1-D scale/zero point.
//
// Internal int8 ops of the fast path (domain "edgecnn"), made by passes/fuse_qdq.cpp from
// DequantizeLinear → op → QuantizeLinear patterns; arithmetic of kernels/int8/requant.hpp.
// Attributes shared: x_scale, x_zero_point, y_scale, y_zero_point, w_scales (one per
// output channel), act_lo/act_hi (the uint8 clamp of a fused Relu/Clip).
//   QConvNhwc(X u8 [N,H,W,C], W i8 [OC,C/g,kh,kw], B i32 [OC]?) → u8 [N,OH,OW,OC];
//       strides, pads (4), dilations, group. Depthwise → dwconv_u8s8; 1x1 stride 1 → one
//       int8 GEMM on X in place; otherwise im2col (padding = x's zero point) + int8 GEMM.
//       Optional input 3, R u8 of the output's shape: a fused residual QAdd(conv output, R)
//       (fuse_qconv_residual in passes/fuse_qdq.cpp) with attributes add_a_scale,
//       add_a_zero_point (the conv output's side), add_b_* (R's), add_y_*, add_lo/add_hi;
//       done in the GEMM's epilogue, bit-identical to the separate QAdd. Not depthwise.
//   QGemm(X u8 [M,K], W i8 [N,K], B i32 [N]?) → u8 [M,N]; with float_output=1 → f32
//       [M,N] = float(acc) * x_scale * w_scale[n] (a last layer whose output is float: no
//       Q after it; y_scale/y_zero_point and the clamp do not apply).
//   QMaxPoolNhwc(X u8 [N,H,W,C]) → u8; kernel_shape, strides, pads (4), output_size.
//   QAdd(A u8, B u8) → u8, same shapes, any layout (the layout pass moves transposes
//       through it); a_scale, a_zero_point, b_scale, b_zero_point, y_*, act_lo/act_hi.
//   QAvgPoolNhwc(X u8 [N,H,W,C]) → u8: average (or global average: global=1) pooling with
//       rounding (qavgpool_nhwc_ref); kernel_shape, strides, pads (4), output_size,
//       count_include_pad, x_scale, x_zero_point, y_scale, y_zero_point.
//   QRequant(A u8) → u8 in another scale/zero point (a_scale, a_zero_point, y_scale,
//       y_zero_point), elementwise: the inputs of an int8 Concat whose parameters differ.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/thread_pool.hpp"
#include "kernels/int8/dwconv_u8s8.hpp"
#include "kernels/int8/qadd_u8.hpp"
#include "kernels/int8/quantize_u8.hpp"
#include "kernels/int8/qgemm_u8s8.hpp"
#include "kernels/int8/requant.hpp"
#include "kernels/reference/qconv_ref.hpp"
#include "ops/op.hpp"

namespace edgecnn {
namespace {

// Per-tensor or per-axis (scale, zero point) of a Quantize/DequantizeLinear.
struct AxisParams {
    int64_t axis = -1;  // -1: per tensor
    std::vector<float> scale;
    std::vector<int32_t> zero;
};

AxisParams read_axis_params(const Tensor& scale, const Tensor* zero, const Shape& x, int64_t axis_attr) {
    AxisParams p;
    if (scale.dtype() != DType::F32) fail_unsupported("only float32 scales are supported");
    if (scale.rank() > 1) fail("scale must be a scalar or 1-D");
    const int64_t n = scale.numel();
    if (scale.rank() == 1 && !x.empty()) {
        p.axis = normalize_axis(axis_attr, int64_t(x.size()));
        if (x[size_t(p.axis)] != n && n != 1)
            fail("scale has " + std::to_string(n) + " values for axis " + std::to_string(p.axis) + " of " + shape_str(x));
        if (n == 1) p.axis = -1;
    } else if (n != 1) {
        fail("a per-axis scale needs an input of rank >= 1");
    }
    const float* s = scale.data<float>();
    p.scale.assign(s, s + n);
    for (float v : p.scale)
        if (!(v > 0.f) || !std::isfinite(v)) fail("scales must be positive and finite");
    p.zero.assign(size_t(n), 0);
    if (zero) {
        if (zero->numel() != n) fail("zero_point and scale differ in size");
        std::vector<int64_t> z = zero->to_i64();
        for (int64_t i = 0; i < n; ++i) p.zero[size_t(i)] = int32_t(z[size_t(i)]);
    }
    return p;
}

// Index of the scale that applies to element e of a tensor of shape x.
struct AxisIndexer {
    int64_t inner = 1, size = 1;
    bool per_axis = false;
    AxisIndexer(const Shape& x, int64_t axis) {
        if (axis < 0) return;
        per_axis = true;
        size = x[size_t(axis)];
        for (size_t d = size_t(axis) + 1; d < x.size(); ++d) inner *= x[d];
    }
    int64_t operator()(int64_t e) const { return per_axis ? (e / inner) % size : 0; }
};

class QuantizeLinear final : public OpKernel {
public:
    explicit QuantizeLinear(const OpAttrs& a) : axis_(a.get_int("axis", 1)) {
        if (a.has("saturate") && a.get_int("saturate") != 1) fail_unsupported("saturate=0 is not supported");
        if (a.has("block_size") && a.get_int("block_size") != 0) fail_unsupported("blocked quantization is not supported");
        if (a.has("output_dtype")) fail_unsupported("attribute 'output_dtype' is not supported");
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (in.size() < 2) fail("expects x and y_scale");
        require_dtype(in[0].dtype, {DType::F32}, "input x");
        out_type_ = DType::U8;
        if (in.size() > 2 && in[2].present) {
            require_dtype(in[2].dtype, {DType::U8, DType::I8}, "y_zero_point");
            out_type_ = in[2].dtype;
        }
        if (in[1].data)  // a constant scale: checked here, once
            read_axis_params(*in[1].data, in.size() > 2 && in[2].present ? in[2].data : nullptr, in[0].shape, axis_);
        out[0].dtype = out_type_;
        out[0].shape = in[0].shape;
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const AxisParams p = read_axis_params(*in[1], in.size() > 2 ? in[2] : nullptr, in[0]->shape(), axis_);
        const float* x = in[0]->data<float>();
        AxisIndexer idx(in[0]->shape(), p.axis);
        const int64_t n = in[0]->numel();
        const int32_t lo = out_type_ == DType::U8 ? 0 : -128, hi = out_type_ == DType::U8 ? 255 : 127;
        if (p.axis < 0 && out_type_ == DType::U8) {  // the common case, in a loop the compiler vectorizes
            quantize_u8_array(n, x, p.scale[0], p.zero[0], out[0]->data<uint8_t>());
            return;
        }
        for (int64_t e = 0; e < n; ++e) {
            const int64_t c = idx(e);
            float f = x[e] / p.scale[size_t(c)];
            if (!(f == f)) f = 0.f;
            f = std::min(std::max(f, -kRequantLimit), kRequantLimit);
            int32_t q = std::min(std::max(int32_t(round_half_even(f)) + p.zero[size_t(c)], lo), hi);
            if (out_type_ == DType::U8) out[0]->data<uint8_t>()[e] = uint8_t(q);
            else out[0]->data<int8_t>()[e] = int8_t(q);
        }
    }

private:
    int64_t axis_;
    DType out_type_ = DType::U8;
};

class DequantizeLinear final : public OpKernel {
public:
    explicit DequantizeLinear(const OpAttrs& a) : axis_(a.get_int("axis", 1)) {
        if (a.has("block_size") && a.get_int("block_size") != 0) fail_unsupported("blocked quantization is not supported");
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (in.size() < 2) fail("expects x and x_scale");
        require_dtype(in[0].dtype, {DType::U8, DType::I8, DType::I32}, "input x");
        if (in.size() > 2 && in[2].present && in[2].dtype != in[0].dtype)
            fail("x_zero_point must have x's type");
        if (in[1].data)
            read_axis_params(*in[1].data, in.size() > 2 && in[2].present ? in[2].data : nullptr, in[0].shape, axis_);
        out[0].dtype = DType::F32;
        out[0].shape = in[0].shape;
        return true;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const AxisParams p = read_axis_params(*in[1], in.size() > 2 ? in[2] : nullptr, in[0]->shape(), axis_);
        AxisIndexer idx(in[0]->shape(), p.axis);
        const int64_t n = in[0]->numel();
        float* y = out[0]->data<float>();
        auto go = [&](auto* x) {
            if (p.axis < 0) {
                const int32_t z = p.zero[0];
                const float sc = p.scale[0];
                for (int64_t e = 0; e < n; ++e) y[e] = float(int32_t(x[e]) - z) * sc;
                return;
            }
            for (int64_t e = 0; e < n; ++e) {
                const int64_t c = idx(e);
                y[e] = float(int32_t(x[e]) - p.zero[size_t(c)]) * p.scale[size_t(c)];
            }
        };
        if (in[0]->dtype() == DType::U8) go(in[0]->data<uint8_t>());
        else if (in[0]->dtype() == DType::I8) go(in[0]->data<int8_t>());
        else go(in[0]->data<int32_t>());
    }

private:
    int64_t axis_;
};

std::vector<int64_t> ints_n(const OpAttrs& a, const char* key, size_t n, int64_t def) {
    std::vector<int64_t> v = a.get_ints(key, std::vector<int64_t>(n, def));
    if (v.size() != n) fail(std::string("attribute '") + key + "' must have " + std::to_string(n) + " values");
    return v;
}

// The requantization shared by QConvNhwc and QGemm: x/y scale and zero point, per-channel
// weight scales, the clamp; multipliers computed once in float as x_scale*w_scale/y_scale.
struct QLayerParams {
    float x_scale = 1, y_scale = 1;
    int32_t x_zero = 0, y_zero = 0, lo = 0, hi = 255;
    std::vector<float> w_scales, mult;
    void read(const OpAttrs& a) {
        x_scale = a.get_float("x_scale");
        y_scale = a.get_float("y_scale");
        x_zero = int32_t(a.get_int("x_zero_point"));
        y_zero = int32_t(a.get_int("y_zero_point"));
        lo = int32_t(a.get_int("act_lo", 0));
        hi = int32_t(a.get_int("act_hi", 255));
        w_scales = a.get_floats("w_scales");
        if (!(x_scale > 0) || !(y_scale > 0)) fail("scales must be positive");
        if (x_zero < 0 || x_zero > 255 || y_zero < 0 || y_zero > 255 || lo < 0 || hi > 255 || lo > hi)
            fail("uint8 zero points and clamp must lie in 0..255");
    }
    void prepare(int64_t channels) {
        if (int64_t(w_scales.size()) != channels && w_scales.size() != 1)
            fail("w_scales has " + std::to_string(w_scales.size()) + " values for " + std::to_string(channels) + " channels");
        mult.resize(size_t(channels));
        for (int64_t c = 0; c < channels; ++c)
            mult[size_t(c)] = x_scale * w_scales[w_scales.size() == 1 ? 0 : size_t(c)] / y_scale;
    }
    QGemmEpilogue epilogue(const int32_t* bias) const {
        QGemmEpilogue ep;
        ep.a_zero = x_zero, ep.bias = bias, ep.mult = mult.data(), ep.c_zero = y_zero, ep.lo = lo, ep.hi = hi;
        return ep;
    }
    QRequant requant() const {
        QRequant r;
        r.mult = mult.data(), r.zero = y_zero, r.lo = lo, r.hi = hi;
        return r;
    }
};

class QConvNhwc final : public OpKernel {
public:
    explicit QConvNhwc(const OpAttrs& a) : pool_(a.pool()) {
        auto strides = ints_n(a, "strides", 2, 1), dil = ints_n(a, "dilations", 2, 1), pads = ints_n(a, "pads", 4, 0);
        s_.stride_h = strides[0], s_.stride_w = strides[1], s_.dil_h = dil[0], s_.dil_w = dil[1];
        s_.pad_t = pads[0], s_.pad_l = pads[1], s_.pad_b = pads[2], s_.pad_r = pads[3];
        s_.group = a.get_int("group", 1);
        q_.read(a);
        w_ = a.constant_input(1);
        b_ = a.constant_input(2);
        if (!w_ || w_->dtype() != DType::I8 || w_->rank() != 4) fail("QConvNhwc needs constant 4-D int8 weights");
        if (a.has_input(2) && (!b_ || b_->dtype() != DType::I32)) fail("QConvNhwc needs a constant int32 bias");
        residual_ = a.has_input(3);
        if (residual_) {
            const float sa = a.get_float("add_a_scale"), sb = a.get_float("add_b_scale"), sy = a.get_float("add_y_scale");
            if (!(sa > 0) || !(sb > 0) || !(sy > 0)) fail("residual add scales must be positive");
            add_.a_mult = sa / sy, add_.b_mult = sb / sy;  // as QAdd computes them
            add_.a_zero = int32_t(a.get_int("add_a_zero_point"));
            add_.b_zero = int32_t(a.get_int("add_b_zero_point"));
            add_.y_zero = int32_t(a.get_int("add_y_zero_point"));
            add_.lo = int32_t(a.get_int("add_lo", 0));
            add_.hi = int32_t(a.get_int("add_hi", 255));
            for (int32_t z : {add_.a_zero, add_.b_zero, add_.y_zero, add_.lo, add_.hi})
                if (z < 0 || z > 255) fail("uint8 zero points and clamp must lie in 0..255");
        }
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        const Shape& x = in[0].shape;
        if (x.size() != 4 || in[0].dtype != DType::U8) fail("QConvNhwc input must be 4-D uint8");
        if (residual_ && (in.size() < 4 || in[3].dtype != DType::U8)) fail("QConvNhwc residual must be uint8");
        s_.n = x[0], s_.h = x[1], s_.w = x[2], s_.c = x[3];
        s_.out_c = w_->dim(0), s_.kh = w_->dim(2), s_.kw = w_->dim(3);
        if (s_.group <= 0 || s_.c % s_.group || s_.out_c % s_.group || w_->dim(1) != s_.c / s_.group)
            fail("weights " + shape_str(w_->shape()) + " do not match input " + shape_str(x));
        if (b_ && b_->numel() != s_.out_c) fail("bias size does not match the output channels");
        if (s_.out_h() <= 0 || s_.out_w() <= 0) fail("output would be empty");
        out[0].dtype = DType::U8;
        out[0].shape = {s_.n, s_.out_h(), s_.out_w(), s_.out_c};
        if (residual_ && in[3].shape != out[0].shape)
            fail("QConvNhwc residual " + shape_str(in[3].shape) + " differs from the output " + shape_str(out[0].shape));
        prepare();
        if (residual_ && depthwise_) fail_unsupported("QConvNhwc: no fused residual for depthwise convolutions");
        return true;
    }
    int64_t packed_bytes() const override {
        int64_t b = int64_t(dw_.w.size()) * 2 + int64_t(dw_.w4.size()) + int64_t(dw_.w2.size()) * 4 +
                    int64_t(dw_.wsum.size()) * 4;
        for (const auto& p : packed_) b += int64_t(p.bytes());
        return b;
    }
    int64_t workspace_bytes() const override { return workspace_bytes_; }
    void set_workspace(void* w) override { workspace_ = static_cast<uint8_t*>(w); }
    std::string kernel_name() const override {
        if (depthwise_) return dwconv_u8s8_kernel_name();
        std::string k = "qgemm_u8s8_" + qgemm_kernel_name(packed_.empty() ? QGemmKernel::Portable : packed_[0].kernel());
        return pointwise_ ? k + " (1x1)" : indirect_ ? "indirect+" + k : "im2col+" + k;
    }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const uint8_t* x = in[0]->data<uint8_t>();
        uint8_t* y = out[0]->data<uint8_t>();
        if (depthwise_) {
            dwconv_u8s8_nhwc(s_, x, q_.x_zero, dw_, q_.requant(), y, pool_);
            return;
        }
        const int64_t m = s_.n * s_.out_h() * s_.out_w();
        const uint8_t* r = residual_ ? in[3]->data<uint8_t>() : nullptr;
        auto epilogue = [&](int64_t c0, int64_t row0) {
            QGemmEpilogue ep = q_.epilogue(bias_ptr(c0));
            ep.mult = q_.mult.data() + c0;
            if (r) ep.residual = r + row0 * s_.out_c + c0, ep.add = add_;
            return ep;
        };
        if (pointwise_) {
            qgemm_u8s8(m, x, s_.c, packed_[0], y, s_.out_c, epilogue(0, 0), pool_);
            return;
        }
        if (indirect_) {
            for (int64_t m0 = 0; m0 < m; m0 += chunk_rows_) {
                const int64_t mc = std::min(chunk_rows_, m - m0);
                run_indirect(x, m0, mc, y + m0 * s_.out_c, epilogue(0, m0));
            }
            return;
        }
        const int64_t cg = s_.c / s_.group, og = s_.out_c / s_.group, k = s_.kh * s_.kw * cg;
        for (int64_t g = 0; g < s_.group; ++g)
            for (int64_t m0 = 0; m0 < m; m0 += chunk_rows_) {
                const int64_t mc = std::min(chunk_rows_, m - m0);
                im2col(x, g * cg, cg, m0, mc, k);
                qgemm_u8s8(mc, workspace_, k, packed_[size_t(g)], y + m0 * s_.out_c + g * og, s_.out_c, epilogue(g * og, m0),
                           pool_);
            }
    }

private:
    const int32_t* bias_ptr(int64_t off) const { return b_ ? b_->data<int32_t>() + off : nullptr; }

    // Implicit GEMM (VNNI, no groups, C a multiple of 4): a table of where each output
    // pixel's taps read (an input pixel's C bytes, or a row of zero points outside the
    // image) replaces the im2col copy: 8 bytes per tap instead of C. Output rows
    // [m0, m0 + mc) (chunks bound the table's size).
    void run_indirect(const uint8_t* x, int64_t m0, int64_t mc, uint8_t* y, const QGemmEpilogue& ep) {
        const int64_t taps = s_.kh * s_.kw, oh = s_.out_h(), ow = s_.out_w();
        const uint8_t** ind = reinterpret_cast<const uint8_t**>(workspace_);
        uint8_t* zrow = workspace_ + chunk_rows_ * taps * int64_t(sizeof(void*));
        std::memset(zrow, q_.x_zero, size_t(s_.c));
        for (int64_t r = 0; r < mc; ++r) {
            const int64_t mi = m0 + r, b = mi / (oh * ow), oy = (mi / ow) % oh, ox = mi % ow;
            const uint8_t** row = ind + r * taps;
            for (int64_t ky = 0; ky < s_.kh; ++ky) {
                const int64_t iy = oy * s_.stride_h - s_.pad_t + ky * s_.dil_h;
                for (int64_t kx = 0; kx < s_.kw; ++kx) {
                    const int64_t ix = ox * s_.stride_w - s_.pad_l + kx * s_.dil_w;
                    row[ky * s_.kw + kx] =
                        iy < 0 || iy >= s_.h || ix < 0 || ix >= s_.w ? zrow : x + ((b * s_.h + iy) * s_.w + ix) * s_.c;
                }
            }
        }
        qgemm_u8s8_indirect(mc, ind, taps, packed_[0], y, s_.out_c, ep, pool_);
    }

    void prepare() {
        if (prepared_) return;
        prepared_ = true;
        q_.prepare(s_.out_c);
        const int8_t* w = w_->data<int8_t>();
        if (s_.group == s_.c && s_.group == s_.out_c && s_.group > 1) {
            depthwise_ = true;
            dw_ = pack_dwconv_u8s8(w, bias_ptr(0), s_.c, s_.kh, s_.kw);
            return;
        }
        pointwise_ = s_.group == 1 && s_.kh == 1 && s_.kw == 1 && s_.stride_h == 1 && s_.stride_w == 1 && s_.pad_t == 0 &&
                     s_.pad_l == 0 && s_.pad_b == 0 && s_.pad_r == 0;
        const int64_t cg = s_.c / s_.group, og = s_.out_c / s_.group, k = s_.kh * s_.kw * cg;
        // Weights per group as [og, k] with k ordered (ky, kx, channel), as im2col writes.
        std::vector<int8_t> wk(size_t(og * k));
        for (int64_t g = 0; g < s_.group; ++g) {
            for (int64_t o = 0; o < og; ++o)
                for (int64_t t = 0; t < s_.kh * s_.kw; ++t)
                    for (int64_t c = 0; c < cg; ++c)
                        wk[size_t(o * k + t * cg + c)] = w[((g * og + o) * cg + c) * s_.kh * s_.kw + t];
            packed_.push_back(pack_qgemm_b_s8(wk.data(), k, og, k, true));
        }
        indirect_ = !pointwise_ && s_.group == 1 && qgemm_indirect_supported(packed_[0], s_.kh * s_.kw);
        if (indirect_) {
            // Tables of up to 512 KiB (3x3: 7281 rows, resnet's 56x56 layers in one chunk).
            const int64_t m = s_.n * s_.out_h() * s_.out_w(), row_bytes = s_.kh * s_.kw * int64_t(sizeof(void*));
            chunk_rows_ = std::min(m, std::max<int64_t>(64, (int64_t(512) << 10) / row_bytes));
            workspace_bytes_ = chunk_rows_ * row_bytes + s_.c;
        } else if (!pointwise_) {
            const int64_t m = s_.n * s_.out_h() * s_.out_w();
            chunk_rows_ = std::min(m, std::max<int64_t>(64, (int64_t(2) << 20) / std::max<int64_t>(1, k)));
            workspace_bytes_ = chunk_rows_ * k;
        }
    }

    // Rows [m0, m0+mc) of the im2col matrix of group channels [c0, c0+cg): taps outside
    // the image read the zero point (real 0). Without groups and dilation, the kw taps of
    // one kernel row are kw*C contiguous input bytes: one copy when they are all inside.
    void im2col(const uint8_t* x, int64_t c0, int64_t cg, int64_t m0, int64_t mc, int64_t k) const {
        if (s_.group == 1 && s_.dil_w == 1) {
            im2col_contiguous(x, m0, mc, k);
            return;
        }
        const int64_t oh = s_.out_h(), ow = s_.out_w();
        // (image, output row, output column) of row m0, then stepped along.
        int64_t b = m0 / (oh * ow), oy = (m0 / ow) % oh, ox = m0 % ow;
        for (int64_t r = 0; r < mc; ++r, ++ox) {
            if (ox == ow) {
                ox = 0;
                if (++oy == oh) oy = 0, ++b;
            }
            uint8_t* dst = workspace_ + r * k;
            const int64_t ix0 = ox * s_.stride_w - s_.pad_l;
            for (int64_t ky = 0; ky < s_.kh; ++ky) {
                const int64_t iy = oy * s_.stride_h - s_.pad_t + ky * s_.dil_h;
                const bool row_in = iy >= 0 && iy < s_.h;
                for (int64_t kx = 0; kx < s_.kw; ++kx, dst += cg) {
                    const int64_t ix = ix0 + kx * s_.dil_w;
                    if (!row_in || ix < 0 || ix >= s_.w) std::memset(dst, q_.x_zero, size_t(cg));
                    else copy_bytes(dst, x + ((b * s_.h + iy) * s_.w + ix) * s_.c + c0, cg);
                }
            }
        }
    }
    // im2col without groups or horizontal dilation: a kernel row's kw taps are kw * C
    // contiguous input bytes, one copy when all inside. Input rows are looked up once per
    // output row, and columns whose taps are all inside take no per-tap checks (the
    // stem's 12544 rows of 3 x 9 bytes are otherwise mostly index arithmetic).
    void im2col_contiguous(const uint8_t* x, int64_t m0, int64_t mc, int64_t k) const {
        const int64_t oh = s_.out_h(), ow = s_.out_w(), C = s_.c, kwc = s_.kw * C;
        int64_t ox_lo = 0, ox_hi = ow;
        while (ox_lo < ow && ox_lo * s_.stride_w - s_.pad_l < 0) ++ox_lo;
        while (ox_hi > ox_lo && (ox_hi - 1) * s_.stride_w - s_.pad_l + s_.kw > s_.w) --ox_hi;
        std::vector<const uint8_t*> rows(static_cast<size_t>(s_.kh));
        for (int64_t r = 0, mi = m0; r < mc;) {
            const int64_t b = mi / (oh * ow), oy = (mi / ow) % oh, ox0 = mi % ow, n = std::min(ow - ox0, mc - r);
            for (int64_t ky = 0; ky < s_.kh; ++ky) {
                const int64_t iy = oy * s_.stride_h - s_.pad_t + ky * s_.dil_h;
                rows[size_t(ky)] = iy >= 0 && iy < s_.h ? x + (b * s_.h + iy) * s_.w * C : nullptr;
            }
            for (int64_t ox = ox0; ox < ox0 + n; ++ox, ++r) {
                uint8_t* dst = workspace_ + r * k;
                const int64_t ix0 = ox * s_.stride_w - s_.pad_l;
                const bool inside = ox >= ox_lo && ox < ox_hi;
                for (int64_t ky = 0; ky < s_.kh; ++ky, dst += kwc) {
                    const uint8_t* row = rows[size_t(ky)];
                    if (!row) {
                        std::memset(dst, q_.x_zero, size_t(kwc));
                    } else if (inside) {
                        copy_bytes(dst, row + ix0 * C, kwc);
                    } else {
                        for (int64_t kx = 0; kx < s_.kw; ++kx) {
                            const int64_t ix = ix0 + kx;
                            if (ix < 0 || ix >= s_.w) std::memset(dst + kx * C, q_.x_zero, size_t(C));
                            else copy_bytes(dst + kx * C, row + ix * C, C);
                        }
                    }
                }
            }
            mi += n;
        }
    }
    // Short copies (a few channels: the stem's 3) inline; memcpy's call costs more there.
    static void copy_bytes(uint8_t* __restrict d, const uint8_t* __restrict s, int64_t n) {
        if (n >= 64) {
            std::memcpy(d, s, size_t(n));
            return;
        }
        // Fixed-size pieces, the last one overlapping (9 bytes: two 8-byte moves). No byte
        // loop: GCC turns one into a memcpy call, the very call this avoids.
        if (n > 16) {
            for (int64_t i = 0; i + 16 < n; i += 16) std::memcpy(d + i, s + i, 16);
            std::memcpy(d + n - 16, s + n - 16, 16);
        } else if (n >= 8) {
            std::memcpy(d, s, 8);
            std::memcpy(d + n - 8, s + n - 8, 8);
        } else if (n >= 4) {
            std::memcpy(d, s, 4);
            std::memcpy(d + n - 4, s + n - 4, 4);
        } else if (n > 0) {
            d[0] = s[0];
            d[n / 2] = s[n / 2];
            d[n - 1] = s[n - 1];
        }
    }

    ThreadPool* pool_;
    QConvShape s_;
    QLayerParams q_;
    const Tensor* w_ = nullptr;
    const Tensor* b_ = nullptr;
    bool prepared_ = false, depthwise_ = false, pointwise_ = false, residual_ = false, indirect_ = false;
    QAddParams add_;
    PackedDwU8S8 dw_;
    std::vector<PackedQGemmB> packed_;
    int64_t chunk_rows_ = 0, workspace_bytes_ = 0;
    uint8_t* workspace_ = nullptr;
};

class QGemm final : public OpKernel {
public:
    explicit QGemm(const OpAttrs& a) : pool_(a.pool()), float_output_(a.get_int("float_output", 0) != 0) {
        q_.read(a);
        if (float_output_) q_.y_scale = 1.f;  // mult = x_scale * w_scale
        w_ = a.constant_input(1);
        b_ = a.constant_input(2);
        if (!w_ || w_->dtype() != DType::I8 || w_->rank() != 2) fail("QGemm needs constant 2-D int8 weights [N,K]");
        if (a.has_input(2) && (!b_ || b_->dtype() != DType::I32)) fail("QGemm needs a constant int32 bias");
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        const Shape& x = in[0].shape;
        if (x.size() != 2 || in[0].dtype != DType::U8) fail("QGemm input must be 2-D uint8");
        if (x[1] != w_->dim(1)) fail("input " + shape_str(x) + " does not match weights " + shape_str(w_->shape()));
        if (b_ && b_->numel() != w_->dim(0)) fail("bias size does not match the weights");
        out[0].dtype = float_output_ ? DType::F32 : DType::U8;
        out[0].shape = {x[0], w_->dim(0)};
        if (packed_.empty()) {
            q_.prepare(w_->dim(0));
            packed_ = pack_qgemm_b_s8(w_->data<int8_t>(), w_->dim(1), w_->dim(0), w_->dim(1), true);
        }
        return true;
    }
    int64_t packed_bytes() const override { return int64_t(packed_.bytes()); }
    std::string kernel_name() const override { return "qgemm_u8s8_" + qgemm_kernel_name(packed_.kernel()); }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const int64_t m = in[0]->dim(0), k = in[0]->dim(1);
        QGemmEpilogue ep = q_.epilogue(b_ ? b_->data<int32_t>() : nullptr);
        if (float_output_) {
            ep.c_f32 = out[0]->data<float>();
            qgemm_u8s8(m, in[0]->data<uint8_t>(), k, packed_, nullptr, packed_.n(), ep, pool_);
            return;
        }
        qgemm_u8s8(m, in[0]->data<uint8_t>(), k, packed_, out[0]->data<uint8_t>(), packed_.n(), ep, pool_);
    }

private:
    ThreadPool* pool_;
    bool float_output_;
    QLayerParams q_;
    const Tensor* w_ = nullptr;
    const Tensor* b_ = nullptr;
    PackedQGemmB packed_;
};

class QMaxPoolNhwc final : public OpKernel {
public:
    explicit QMaxPoolNhwc(const OpAttrs& a) {
        k_ = ints_n(a, "kernel_shape", 2, 1);
        s_ = ints_n(a, "strides", 2, 1);
        p_ = ints_n(a, "pads", 4, 0);
        o_ = ints_n(a, "output_size", 2, 1);
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        const Shape& x = in[0].shape;
        if (x.size() != 4 || in[0].dtype != DType::U8) fail("QMaxPoolNhwc input must be 4-D uint8");
        out[0].dtype = DType::U8;
        out[0].shape = {x[0], o_[0], o_[1], x[3]};
        return true;
    }
    std::string kernel_name() const override { return "maxpool_u8_nhwc_portable"; }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Shape& x = in[0]->shape();
        qmaxpool_nhwc_ref(x[0], x[1], x[2], x[3], k_[0], k_[1], s_[0], s_[1], p_[0], p_[1], o_[0], o_[1],
                          in[0]->data<uint8_t>(), out[0]->data<uint8_t>());
    }

private:
    std::vector<int64_t> k_, s_, p_, o_;
};

// Y = requant(A, B): elementwise int8 Add of two same-shape uint8 tensors (qadd_u8), any
// layout. Attributes a_scale, a_zero_point, b_scale, b_zero_point, y_scale,
// y_zero_point, act_lo, act_hi.
class QAdd final : public OpKernel {
public:
    explicit QAdd(const OpAttrs& a) : pool_(a.pool()) {
        const float sa = a.get_float("a_scale"), sb = a.get_float("b_scale"), sy = a.get_float("y_scale");
        if (!(sa > 0) || !(sb > 0) || !(sy > 0)) fail("scales must be positive");
        p_.a_mult = sa / sy, p_.b_mult = sb / sy;
        p_.a_zero = int32_t(a.get_int("a_zero_point"));
        p_.b_zero = int32_t(a.get_int("b_zero_point"));
        p_.y_zero = int32_t(a.get_int("y_zero_point"));
        p_.lo = int32_t(a.get_int("act_lo", 0));
        p_.hi = int32_t(a.get_int("act_hi", 255));
        for (int32_t z : {p_.a_zero, p_.b_zero, p_.y_zero, p_.lo, p_.hi})
            if (z < 0 || z > 255) fail("uint8 zero points and clamp must lie in 0..255");
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (in.size() != 2 || in[0].dtype != DType::U8 || in[1].dtype != DType::U8) fail("QAdd adds two uint8 tensors");
        if (in[0].shape != in[1].shape) fail("QAdd inputs differ in shape: " + shape_str(in[0].shape) + ", " + shape_str(in[1].shape));
        out[0].dtype = DType::U8;
        out[0].shape = in[0].shape;
        return true;
    }
    std::string kernel_name() const override { return qadd_u8_kernel_name(); }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        qadd_u8(in[0]->numel(), in[0]->data<uint8_t>(), in[1]->data<uint8_t>(), p_, out[0]->data<uint8_t>(), pool_);
    }

private:
    ThreadPool* pool_;
    QAddParams p_;
};

class QAvgPoolNhwc final : public OpKernel {
public:
    explicit QAvgPoolNhwc(const OpAttrs& a) {
        global_ = a.get_int("global", 0) != 0;
        if (!global_) {
            k_ = ints_n(a, "kernel_shape", 2, 1);
            s_ = ints_n(a, "strides", 2, 1);
            p_ = ints_n(a, "pads", 4, 0);
            o_ = ints_n(a, "output_size", 2, 1);
            include_pad_ = a.get_int("count_include_pad", 0) != 0;
        }
        const float sx = a.get_float("x_scale"), sy = a.get_float("y_scale");
        if (!(sx > 0) || !(sy > 0)) fail("scales must be positive");
        mult_ = sx / sy;
        x_zero_ = int32_t(a.get_int("x_zero_point"));
        y_zero_ = int32_t(a.get_int("y_zero_point"));
        if (x_zero_ < 0 || x_zero_ > 255 || y_zero_ < 0 || y_zero_ > 255) fail("uint8 zero points must lie in 0..255");
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        const Shape& x = in[0].shape;
        if (x.size() != 4 || in[0].dtype != DType::U8) fail("QAvgPoolNhwc input must be 4-D uint8");
        if (global_) k_ = {x[1], x[2]}, s_ = {1, 1}, p_ = {0, 0, 0, 0}, o_ = {1, 1};
        out[0].dtype = DType::U8;
        out[0].shape = {x[0], o_[0], o_[1], x[3]};
        return true;
    }
    std::string kernel_name() const override { return "avgpool_u8_nhwc_portable"; }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Shape& x = in[0]->shape();
        qavgpool_nhwc_ref(x[0], x[1], x[2], x[3], k_[0], k_[1], s_[0], s_[1], p_[0], p_[1], p_[2], p_[3], o_[0], o_[1],
                          include_pad_, in[0]->data<uint8_t>(), x_zero_, mult_, y_zero_, out[0]->data<uint8_t>());
    }

private:
    bool global_ = false, include_pad_ = false;
    std::vector<int64_t> k_, s_, p_, o_;
    float mult_ = 1;
    int32_t x_zero_ = 0, y_zero_ = 0;
};

// Requantization of a uint8 tensor to other parameters: QAdd's arithmetic with the second
// term's multiplier 0 (fa + 0 is fa exactly), so it shares the vectorized kernel.
class QRequantOp final : public OpKernel {
public:
    explicit QRequantOp(const OpAttrs& a) : pool_(a.pool()) {
        const float sa = a.get_float("a_scale"), sy = a.get_float("y_scale");
        if (!(sa > 0) || !(sy > 0)) fail("scales must be positive");
        p_.a_mult = sa / sy, p_.b_mult = 0.f;
        p_.a_zero = int32_t(a.get_int("a_zero_point"));
        p_.y_zero = int32_t(a.get_int("y_zero_point"));
        if (p_.a_zero < 0 || p_.a_zero > 255 || p_.y_zero < 0 || p_.y_zero > 255) fail("uint8 zero points must lie in 0..255");
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (in.size() != 1 || in[0].dtype != DType::U8) fail("QRequant takes one uint8 tensor");
        out[0].dtype = DType::U8;
        out[0].shape = in[0].shape;
        return true;
    }
    std::string kernel_name() const override { return qadd_u8_kernel_name(); }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const uint8_t* a = in[0]->data<uint8_t>();
        qadd_u8(in[0]->numel(), a, a, p_, out[0]->data<uint8_t>(), pool_);
    }

private:
    ThreadPool* pool_;
    QAddParams p_;
};

}  // namespace

void register_quant_ops(OpRegistry& r) {
    r.add("edgecnn.QAvgPoolNhwc", [](const OpAttrs& a) { return std::make_unique<QAvgPoolNhwc>(a); });
    r.add("edgecnn.QRequant", [](const OpAttrs& a) { return std::make_unique<QRequantOp>(a); });
    r.add("edgecnn.QAdd", [](const OpAttrs& a) { return std::make_unique<QAdd>(a); });
    // From opset 1 (ONNX has them from 10): `edgecnn quantize` inserts them into models of
    // any opset, and upgrading a model's opset would change its other ops (Clip, Slice).
    r.add("QuantizeLinear", [](const OpAttrs& a) { return std::make_unique<QuantizeLinear>(a); }, 1);
    r.add("DequantizeLinear", [](const OpAttrs& a) { return std::make_unique<DequantizeLinear>(a); }, 1);
    r.add("edgecnn.QConvNhwc", [](const OpAttrs& a) { return std::make_unique<QConvNhwc>(a); });
    r.add("edgecnn.QGemm", [](const OpAttrs& a) { return std::make_unique<QGemm>(a); });
    r.add("edgecnn.QMaxPoolNhwc", [](const OpAttrs& a) { return std::make_unique<QMaxPoolNhwc>(a); });
}

}  // namespace edgecnn
