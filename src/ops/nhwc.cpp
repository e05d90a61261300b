// Internal NHWC ops (domain "edgecnn") that the layout pass puts in place of Conv,
// pooling and global pooling, with their fast kernels:
//
//   ConvNhwc       X[N,H,W,Cin], W[Cout,Cin/g,kh,kw] (constant), B[Cout]?, R[N,OH,OW,Cout]?
//                  → act(conv(X,W) + B + R), attributes: strides, pads (4, explicit),
//                  dilations, group, activation, activation_alpha, activation_beta,
//                  input_nchw (X is [N,Cin,H,W]: only for the direct small-Cin kernel,
//                  set by the layout pass on a network's stem).
//                  Depthwise → dwconv_f32_nhwc; few input channels (a network's RGB
//                  stem) → the direct conv_small_cin_f32; 1x1 stride 1 → one GEMM on X
//                  in place; otherwise im2col (taps that only ever read padding dropped)
//                  + GEMM.
//   MaxPoolNhwc / AveragePoolNhwc   kernel_shape, strides, pads (4), dilations, out_h/out_w
//                  (resolved ceil_mode), count_include_pad.
//   GlobalAveragePoolNhwc / GlobalMaxPoolNhwc   [N,H,W,C] → [N,1,1,C].
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "base/cpu_topology.hpp"
#include "base/thread_pool.hpp"
#include "kernels/activation.hpp"
#include "kernels/depthwise/dwconv_f32.hpp"
#include "kernels/direct/conv_small_cin_f32.hpp"
#include "kernels/eltwise/eltwise_f32.hpp"
#include "kernels/gemm/gemm_bf16.hpp"
#include "kernels/gemm/gemm_f32.hpp"
#include "kernels/pool/pool_nhwc_f32.hpp"
#include "kernels/winograd/winograd_f32.hpp"
#include "ops/op.hpp"
#include "ops/prepacked.hpp"

namespace edgecnn {

namespace {

// The ISA part of a float kernel's name: every NEON level runs the same FP32 kernels (dot
// product / i8mm are integer-only).
std::string f32_isa_label() {
    const Isa level = active_isa();
    return isa_name(is_neon(level) ? Isa::Neon : level);
}

// `prefix`: "" for a conv's own activation, "expand_" for the first conv of ExpandDwNhwc.
ActivationParams read_activation(const OpAttrs& a, const std::string& prefix = "") {
    ActivationParams p;
    std::string name = a.get_string(prefix + "activation", "none");
    p.alpha = a.get_float(prefix + "activation_alpha", 0.f);
    p.beta = a.get_float(prefix + "activation_beta", 0.f);
    static const std::pair<const char*, Activation> kinds[] = {
        {"none", Activation::None},          {"relu", Activation::Relu},
        {"clip", Activation::Clip},          {"hardsigmoid", Activation::HardSigmoid},
        {"hardswish", Activation::HardSwish}, {"sigmoid", Activation::Sigmoid},
        {"silu", Activation::Silu},          {"leakyrelu", Activation::LeakyRelu},
        {"tanh", Activation::Tanh},
    };
    for (const auto& [n, k] : kinds)
        if (name == n) {
            p.kind = k;
            return p;
        }
    fail_unsupported("activation '" + name + "' is not supported");
}

std::vector<int64_t> ints_of_size(const OpAttrs& a, const char* key, size_t n, int64_t def) {
    std::vector<int64_t> v = a.get_ints(key, std::vector<int64_t>(n, def));
    if (v.size() != n) fail(std::string("attribute '") + key + "' must have " + std::to_string(n) + " values");
    return v;
}

class ConvNhwc final : public OpKernel {
public:
    explicit ConvNhwc(const OpAttrs& a) : pool_(a.pool()), prepacked_(a), fpmath_(a.fpmath()) {
        strides_ = ints_of_size(a, "strides", 2, 1);
        dilations_ = ints_of_size(a, "dilations", 2, 1);
        pads_ = ints_of_size(a, "pads", 4, 0);
        group_ = a.get_int("group", 1);
        act_ = read_activation(a);
        w_ = a.constant_input(1);
        b_ = a.constant_input(2);
        if (!w_ || w_->dtype() != DType::F32 || w_->rank() != 4) fail("ConvNhwc needs constant 4-D float weights");
        if (a.has_input(2) && !b_) fail("ConvNhwc needs a constant bias");
        has_residual_ = a.has_input(3);
        nchw_input_ = a.get_int("input_nchw", 0) != 0;
    }

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        const Shape& x = in[0].shape;
        if (x.size() != 4 || in[0].dtype != DType::F32) fail("ConvNhwc input must be 4-D float32");
        if (nchw_input_) n_ = x[0], cin_ = x[1], h_ = x[2], w_in_ = x[3];
        else n_ = x[0], h_ = x[1], w_in_ = x[2], cin_ = x[3];
        cout_ = w_->dim(0);
        kh_ = w_->dim(2), kw_ = w_->dim(3);
        if (group_ <= 0 || cin_ % group_ || cout_ % group_ || w_->dim(1) != cin_ / group_)
            fail("weights " + shape_str(w_->shape()) + " do not match input " + shape_str(x) + " with group " +
                 std::to_string(group_));
        oh_ = (h_ + pads_[0] + pads_[2] - dilations_[0] * (kh_ - 1) - 1) / strides_[0] + 1;
        ow_ = (w_in_ + pads_[1] + pads_[3] - dilations_[1] * (kw_ - 1) - 1) / strides_[1] + 1;
        if (oh_ <= 0 || ow_ <= 0) fail("output would be empty");
        if (nchw_input_ && (group_ != 1 || cin_ > kConvSmallCinMax))
            fail("input_nchw needs a group-1 convolution with at most " + std::to_string(kConvSmallCinMax) +
                 " input channels, got " + std::to_string(cin_) + " in " + std::to_string(group_) + " groups");
        out[0].dtype = DType::F32;
        out[0].shape = {n_, oh_, ow_, cout_};
        if (has_residual_ && in[3].shape != out[0].shape)
            fail("residual " + shape_str(in[3].shape) + " does not match output " + shape_str(out[0].shape));
        prepare();
        return true;
    }

    int64_t packed_bytes() const override {
        int64_t bytes = int64_t(dw_.weights.size() + dw_.bias.size() + bias_.size()) * 4 + int64_t(packed_.bytes()) +
                        int64_t(packed_bf16_.bytes());
        bytes += int64_t(direct_.weights.size() + direct_.bias.size()) * 4;
        for (const auto& p : group_packed_) bytes += int64_t(p.bytes());
        for (const auto& p : group_packed_bf16_) bytes += int64_t(p.bytes());
        bytes += wino_.bytes();
        for (const auto& p : tap_packed_) bytes += int64_t(p.bytes());
        return bytes;
    }
    int64_t workspace_bytes() const override { return workspace_floats_ * 4; }
    void set_workspace(void* w) override { workspace_ = static_cast<float*>(w); }
    // Every path copies the weights and the bias in prepare() (dw_, direct_, packed_,
    // packed_bf16_, group_packed_, tap_packed_, wino_, bias_).
    bool packs_constant_input(size_t i) const override { return i == 1 || i == 2; }
    // GEMM packings (depthwise and direct weights are cheap to repack and stay out).
    std::vector<PackedWeights> packed_weights() const override {
        std::vector<PackedWeights> out;
        // (A bf16 packing is not exported: .ecnn --target files are made with FP32 math.)
        if (path_ == Path::Pointwise && !packed_.empty()) out.push_back(export_gemm_packing("b", packed_));
        if (path_ == Path::Winograd)
            for (size_t pos = 0; pos < wino_.u.size(); ++pos) out.push_back(export_gemm_packing(std::string("u") + std::to_string(pos), wino_.u[pos]));
        if (path_ == Path::Im2col)
            for (size_t g = 0; g < group_packed_.size(); ++g) out.push_back(export_gemm_packing(std::string("g") + std::to_string(g), group_packed_[g]));
        if (path_ == Path::Zoned)
            for (size_t t = 0; t < tap_packed_.size(); ++t) out.push_back(export_gemm_packing(std::string("t") + std::to_string(t), tap_packed_[t]));
        return out;
    }
    std::string kernel_name() const override {
        const std::string isa = f32_isa_label();
        switch (path_) {
            case Path::Depthwise: return "dwconv_f32_nhwc_" + isa;
            case Path::Direct: return "direct_small_cin_f32_" + isa;
            case Path::Pointwise: return packed_bf16_.empty() ? "gemm_f32_" + isa + " (1x1)" : "gemm_bf16_avx512bf16 (1x1)";
            case Path::Im2col: return group_packed_bf16_.empty() ? "im2col+gemm_f32_" + isa : "im2col+gemm_bf16_avx512bf16";
            case Path::Winograd: return "winograd_f43_" + isa;
            case Path::Zoned: return "zoned_taps+gemm_f32_" + isa;
        }
        return "?";
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const float* x = in[0]->data<float>();
        float* y = out[0]->data<float>();
        const float* r = has_residual_ && in[3] ? in[3]->data<float>() : nullptr;
        if (path_ == Path::Depthwise) {
            if (r) {  // depthwise + residual: run without activation, then add and activate
                ActivationParams none;
                dwconv_f32_nhwc(dw_params_, x, dw_, y, none, pool_);
                add_residual(y, r, out[0]->numel());
            } else {
                dwconv_f32_nhwc(dw_params_, x, dw_, y, act_, pool_);
            }
            return;
        }
        if (path_ == Path::Direct) {
            conv_small_cin_f32(direct_params_, x, direct_, y, r, act_, pool_);
            return;
        }
        if (path_ == Path::Zoned) {
            run_zoned(x, y, r);
            return;
        }
        if (path_ == Path::Winograd) {
            winograd_f43_nhwc(wino_params_, x, wino_, y, r, act_, workspace_, pool_);
            return;
        }
        GemmEpilogue ep;
        ep.act = act_;
        ep.residual = r;
        ep.ld_residual = cout_;
        const int64_t m = n_ * oh_ * ow_;
        if (path_ == Path::Pointwise) {
            ep.bias = bias_.empty() ? nullptr : bias_.data();
            if (!packed_bf16_.empty()) gemm_bf16(m, x, cin_, packed_bf16_, y, cout_, ep, pool_);
            else gemm_f32(m, x, cin_, packed_, y, cout_, ep, pool_);
            return;
        }
        // im2col in chunks of output rows that fit the workspace, then one GEMM per chunk
        // (per group) with its own threading.
        const int64_t cg = cin_ / group_, og = cout_ / group_;
        const int64_t k = int64_t(taps_.size()) * cg;
        for (int64_t g = 0; g < group_; ++g) {
            GemmEpilogue eg = ep;
            eg.bias = bias_.empty() ? nullptr : bias_.data() + g * og;
            eg.residual = r ? r + g * og : nullptr;
            for (int64_t m0 = 0; m0 < m; m0 += chunk_rows_) {
                int64_t mc = std::min(chunk_rows_, m - m0);
                im2col(x, g * cg, cg, m0, mc, k);
                GemmEpilogue ec = eg;
                if (ec.residual) ec.residual += m0 * cout_;
                if (!group_packed_bf16_.empty())
                    gemm_bf16(mc, workspace_, k, group_packed_bf16_[size_t(g)], y + m0 * cout_ + g * og, cout_, ec, pool_);
                else
                    gemm_f32(mc, workspace_, k, group_packed_[size_t(g)], y + m0 * cout_ + g * og, cout_, ec, pool_);
            }
        }
    }

private:
    enum class Path { Depthwise, Direct, Pointwise, Im2col, Winograd, Zoned };

    void prepare() {
        if (prepared_) return;
        prepared_ = true;
        const float* w = w_->data<float>();
        const float* b = b_ ? b_->data<float>() : nullptr;
        if (group_ == cin_ && group_ == cout_ && group_ > 1) {
            path_ = Path::Depthwise;
            dw_ = pack_dwconv_f32(w, b, cout_, kh_, kw_);
            dw_params_.n = n_, dw_params_.h = h_, dw_params_.w = w_in_, dw_params_.c = cin_;
            dw_params_.kh = kh_, dw_params_.kw = kw_;
            dw_params_.stride_h = strides_[0], dw_params_.stride_w = strides_[1];
            dw_params_.dil_h = dilations_[0], dw_params_.dil_w = dilations_[1];
            dw_params_.pad_t = pads_[0], dw_params_.pad_l = pads_[1], dw_params_.pad_b = pads_[2], dw_params_.pad_r = pads_[3];
            dw_params_.out_h = oh_, dw_params_.out_w = ow_;
            return;
        }
        if (nchw_input_ || use_direct()) {
            path_ = Path::Direct;
            direct_ = pack_conv_small_cin_f32(w, b, cout_, cin_, kh_, kw_);
            ConvSmallCinParams& d = direct_params_;
            d.n = n_, d.h = h_, d.w = w_in_, d.c_in = cin_, d.c_out = cout_, d.kh = kh_, d.kw = kw_;
            d.stride_h = strides_[0], d.stride_w = strides_[1], d.dil_h = dilations_[0], d.dil_w = dilations_[1];
            d.pad_t = pads_[0], d.pad_l = pads_[1], d.pad_b = pads_[2], d.pad_r = pads_[3];
            d.out_h = oh_, d.out_w = ow_;
            d.nchw_input = nchw_input_;
            return;
        }
        if (b) bias_.assign(b, b + cout_);
        bool pointwise = group_ == 1 && kh_ == 1 && kw_ == 1 && strides_[0] == 1 && strides_[1] == 1 &&
                         pads_[0] == 0 && pads_[1] == 0 && pads_[2] == 0 && pads_[3] == 0;
        if (pointwise) {
            path_ = Path::Pointwise;
            // BF16 where the session allows it, the CPU has it and the layer is compute-bound
            // (kBf16MinGemmDim explains the rule).
            if (fpmath_ == FpMath::Bf16 && std::min(cin_, cout_) >= kBf16MinGemmDim && bf16_gemm_available())
                packed_bf16_ = pack_gemm_b_bf16(w, cin_, cout_, cin_, true);
            else
                packed_ = prepacked_.gemm_or("b", cin_, cout_, [&] { return pack_gemm_b_f32(w, cin_, cout_, cin_, true); });
            return;
        }
        // 3x3 stride-1 convolutions with enough channels that the transforms amortize:
        // Winograd F(4,3) (2.25x fewer multiplies; its extra rounding stays ~1e-6 relative).
        // Not on maps under 8x8: partial 4x4 tiles waste much of the gain there, while the
        // transformed weights (4x the originals) would dominate the model's memory
        // (ResNet's last stage: 512x512 channels on 7x7).
        bool winograd = group_ == 1 && kh_ == 3 && kw_ == 3 && strides_[0] == 1 && strides_[1] == 1 &&
                        dilations_[0] == 1 && dilations_[1] == 1 && cin_ >= 16 && cout_ >= 16 && oh_ >= 8 &&
                        ow_ >= 8 && !std::getenv("EDGECNN_NO_WINOGRAD");
        if (winograd) {
            path_ = Path::Winograd;
            if (prepacked_.has("u0")) {  // an .ecnn --target file: the 36 transformed panels
                wino_.cin = cin_, wino_.cout = cout_;
                for (int pos = 0; pos < 36; ++pos)
                    wino_.u.push_back(prepacked_.gemm_or(std::string("u") + std::to_string(pos), cin_, cout_, []() -> PackedGemmB {
                        fail("prepacked Winograd weights are incomplete");
                    }));
                wino_.bias.assign(size_t(cout_), 0.f);
                if (b) std::copy(b, b + cout_, wino_.bias.begin());
            } else {
                wino_ = pack_winograd_f43(w, b, cin_, cout_);
            }
            wino_params_ = {n_, h_, w_in_, cin_, cout_, pads_[0], pads_[1], oh_, ow_};
            workspace_floats_ = winograd_f43_workspace_bytes(wino_params_, pool_ ? pool_->size() : 1) / 4;
            return;
        }
        if (plan_zones()) return;
        path_ = Path::Im2col;
        // Taps that read only padding for every output pixel contribute nothing: drop them
        // (dilated convolutions on small maps, e.g. DeepLab's ASPP, are mostly such taps).
        for (int64_t ky = 0; ky < kh_; ++ky) {
            bool row_ok = false;
            for (int64_t oy = 0; oy < oh_ && !row_ok; ++oy) {
                int64_t iy = oy * strides_[0] - pads_[0] + ky * dilations_[0];
                row_ok = iy >= 0 && iy < h_;
            }
            if (!row_ok) continue;
            for (int64_t kx = 0; kx < kw_; ++kx) {
                bool col_ok = false;
                for (int64_t ox = 0; ox < ow_ && !col_ok; ++ox) {
                    int64_t ix = ox * strides_[1] - pads_[1] + kx * dilations_[1];
                    col_ok = ix >= 0 && ix < w_in_;
                }
                if (col_ok) taps_.push_back({ky, kx});
            }
        }
        const int64_t cg = cin_ / group_, og = cout_ / group_;
        const int64_t k = int64_t(taps_.size()) * cg;
        full_rows_ = group_ == 1 && dilations_[1] == 1 && int64_t(taps_.size()) == kh_ * kw_;
        // Weights per group as [og, k] with k ordered (tap, channel) to match im2col.
        std::vector<float> wk;
        auto gather = [&](int64_t g) {
            wk.resize(static_cast<size_t>(og * k));
            for (int64_t o = 0; o < og; ++o)
                for (size_t t = 0; t < taps_.size(); ++t)
                    for (int64_t c = 0; c < cg; ++c)
                        wk[size_t(o * k + int64_t(t) * cg + c)] =
                            w[((g * og + o) * cg + c) * kh_ * kw_ + taps_[t].first * kw_ + taps_[t].second];
        };
        // BF16 on the same rule as the pointwise path.
        const bool bf16 = fpmath_ == FpMath::Bf16 && std::min(k, og) >= kBf16MinGemmDim && bf16_gemm_available();
        for (int64_t g = 0; g < group_; ++g) {
            if (bf16) {
                gather(g);
                group_packed_bf16_.push_back(pack_gemm_b_bf16(wk.data(), k, og, k, true));
                continue;
            }
            group_packed_.push_back(prepacked_.gemm_or(std::string("g") + std::to_string(g), k, og, [&] {
                gather(g);
                return pack_gemm_b_f32(wk.data(), k, og, k, true);
            }));
        }
        const int64_t m = n_ * oh_ * ow_;
        // Chunks of ~4 MiB of im2col rows (at least 64 rows) bound the workspace.
        chunk_rows_ = std::max<int64_t>(64, (int64_t(4) << 20) / std::max<int64_t>(1, k * 4));
        chunk_rows_ = std::min(chunk_rows_, m);
        workspace_floats_ = chunk_rows_ * k;
    }

    // The direct kernel for few input channels: K = kh*kw*cin is too short for im2col +
    // GEMM to pay off (the copy costs as much as the multiply). EDGECNN_NO_DIRECT_CONV=1
    // turns it off (to compare against the GEMM paths; the layout pass then leaves the
    // stem's input Transpose in place: input_nchw forces this path).
    bool use_direct() const {
        return group_ == 1 && cin_ <= kConvSmallCinMax && !std::getenv("EDGECNN_NO_DIRECT_CONV");
    }

    // Dilated convolutions on maps not much larger than their reach (DeepLab's ASPP:
    // dilation 12/24/36 on 33x33) spend most taps on padding, and which taps do depends on
    // the output position. The output splits into rectangular zones (row bands x column
    // bands) with one set of in-image taps each; a zone gathers its pixels per tap and
    // accumulates one GEMM per tap, so padding is never multiplied.
    struct Band {
        int64_t begin, end;
        std::vector<int64_t> taps;  // valid ky (row bands) or kx (column bands)
    };
    static std::vector<Band> bands(int64_t out, int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
        std::vector<Band> result;
        for (int64_t o = 0; o < out; ++o) {
            std::vector<int64_t> valid;
            for (int64_t t = 0; t < k; ++t) {
                int64_t i = o * stride - pad + t * dil;
                if (i >= 0 && i < in) valid.push_back(t);
            }
            if (!result.empty() && result.back().taps == valid) result.back().end = o + 1;
            else result.push_back({o, o + 1, valid});
        }
        return result;
    }

    bool plan_zones() {
        if (group_ != 1 || (kh_ == 1 && kw_ == 1)) return false;
        row_bands_ = bands(oh_, h_, kh_, strides_[0], pads_[0], dilations_[0]);
        col_bands_ = bands(ow_, w_in_, kw_, strides_[1], pads_[1], dilations_[1]);
        int64_t useful = 0;
        for (const Band& r : row_bands_)
            for (const Band& c : col_bands_)
                useful += (r.end - r.begin) * (c.end - c.begin) * int64_t(r.taps.size() * c.taps.size());
        // Worth it only when a large share of the taps would multiply padding.
        if (double(useful) > 0.75 * double(oh_ * ow_ * kh_ * kw_)) return false;
        path_ = Path::Zoned;
        const float* w = w_->data<float>();
        std::vector<float> wt;
        tap_packed_.resize(size_t(kh_ * kw_));
        for (int64_t ky = 0; ky < kh_; ++ky)
            for (int64_t kx = 0; kx < kw_; ++kx) {
                tap_packed_[size_t(ky * kw_ + kx)] =
                    prepacked_.gemm_or(std::string("t") + std::to_string(ky * kw_ + kx), cin_, cout_, [&] {
                        wt.resize(static_cast<size_t>(cout_ * cin_));
                        for (int64_t o = 0; o < cout_; ++o)
                            for (int64_t c = 0; c < cin_; ++c)
                                wt[size_t(o * cin_ + c)] = w[((o * cin_ + c) * kh_ + ky) * kw_ + kx];
                        return pack_gemm_b_f32(wt.data(), cin_, cout_, cin_, true);
                    });
            }
        int64_t max_zone = 0;
        for (const Band& r : row_bands_)
            for (const Band& c : col_bands_) max_zone = std::max(max_zone, (r.end - r.begin) * (c.end - c.begin));
        workspace_floats_ = max_zone * (cin_ + cout_);
        return true;
    }

    void run_zoned(const float* x, float* y, const float* r) const {
        float* a = workspace_;
        for (int64_t b = 0; b < n_; ++b)
            for (const Band& rb : row_bands_)
                for (const Band& cb : col_bands_) {
                    const int64_t zw = cb.end - cb.begin, mz = (rb.end - rb.begin) * zw;
                    const int64_t off = ((b * oh_ + rb.begin) * ow_ + cb.begin) * cout_;
                    // A zone spanning whole output rows is contiguous in y: the GEMMs write
                    // there directly, with bias, residual and activation in their epilogues.
                    const bool direct = zw == ow_;
                    float* c = direct ? y + off : workspace_ + mz * cin_;
                    const int64_t ntaps = int64_t(rb.taps.size() * cb.taps.size());
                    int64_t done = 0;
                    for (int64_t ky : rb.taps)
                        for (int64_t kx : cb.taps) {
                            for (int64_t oy = rb.begin; oy < rb.end; ++oy)
                                for (int64_t ox = cb.begin; ox < cb.end; ++ox) {
                                    int64_t iy = oy * strides_[0] - pads_[0] + ky * dilations_[0];
                                    int64_t ix = ox * strides_[1] - pads_[1] + kx * dilations_[1];
                                    const float* src = x + ((b * h_ + iy) * w_in_ + ix) * cin_;
                                    std::memcpy(a + ((oy - rb.begin) * zw + (ox - cb.begin)) * cin_, src, size_t(cin_) * 4);
                                }
                            GemmEpilogue ep;
                            ep.ld_residual = cout_;
                            if (done == 0) {
                                ep.bias = bias_.empty() ? nullptr : bias_.data();
                                if (direct && r) ep.residual = r + off;
                            } else {
                                ep.residual = c;
                            }
                            if (direct && done == ntaps - 1) ep.act = act_;
                            gemm_f32(mz, a, cin_, tap_packed_[size_t(ky * kw_ + kx)], c, cout_, ep, pool_);
                            ++done;
                        }
                    if (direct && ntaps > 0) continue;
                    for (int64_t oy = rb.begin; oy < rb.end; ++oy) {
                        const int64_t o = ((b * oh_ + oy) * ow_ + cb.begin) * cout_;
                        float* src = c + (oy - rb.begin) * zw * cout_;
                        if (ntaps == 0)  // every tap in padding: bias only
                            for (int64_t i = 0; i < zw * cout_; ++i) src[i] = bias_.empty() ? 0.f : bias_[size_t(i % cout_)];
                        if (r) binary_same_f32(BinaryOp::Add, src, r + o, y + o, zw * cout_, act_, nullptr);
                        else activation_f32(src, y + o, zw * cout_, act_, nullptr);
                    }
                }
    }

    // Rows [m0, m0+mc) of the im2col matrix for channels [c0, c0+cg): row = output pixel,
    // columns = (tap, channel); out-of-image taps read zero. Plain copy loops rather than
    // memcpy: with few channels (a network's RGB stem) a call per tap costs more than the copy.
    void im2col(const float* x, int64_t c0, int64_t cg, int64_t m0, int64_t mc, int64_t k) const {
        auto copy = [cg](float* dst, const float* src) {
            for (int64_t c = 0; c < cg; ++c) dst[c] = src[c];
        };
        auto fill = [&](int64_t row) {
            int64_t m = m0 + row;
            int64_t b = m / (oh_ * ow_), rem = m % (oh_ * ow_);
            int64_t oy = rem / ow_, ox = rem % ow_;
            float* dst = workspace_ + row * k;
            const int64_t y0 = oy * strides_[0] - pads_[0], x0 = ox * strides_[1] - pads_[1];
            const float* img = x + b * h_ * w_in_ * cin_ + c0;
            if (full_rows_ && x0 >= 0 && x0 + kw_ <= w_in_) {
                // Whole kernel rows are contiguous in NHWC (group 1, no horizontal dilation):
                // one copy of kw*cin floats per row instead of kw small copies.
                const int64_t row_len = kw_ * cin_;
                for (int64_t ky = 0; ky < kh_; ++ky) {
                    int64_t iy = y0 + ky * dilations_[0];
                    if (iy < 0 || iy >= h_) {
                        for (int64_t c = 0; c < row_len; ++c) dst[c] = 0.f;
                    } else {
                        const float* src = img + (iy * w_in_ + x0) * cin_;
                        for (int64_t c = 0; c < row_len; ++c) dst[c] = src[c];
                    }
                    dst += row_len;
                }
                return;
            }
            for (const auto& [ky, kx] : taps_) {
                int64_t iy = y0 + ky * dilations_[0];
                int64_t ix = x0 + kx * dilations_[1];
                if (iy < 0 || iy >= h_ || ix < 0 || ix >= w_in_) {
                    for (int64_t c = 0; c < cg; ++c) dst[c] = 0.f;
                } else {
                    copy(dst, img + (iy * w_in_ + ix) * cin_);
                }
                dst += cg;
            }
        };
        const int64_t per_task = 64;
        int64_t tasks = (mc + per_task - 1) / per_task;
        auto body = [&](int64_t t) {
            for (int64_t row = t * per_task; row < std::min(mc, (t + 1) * per_task); ++row) fill(row);
        };
        if (pool_) pool_->parallel_for(tasks, body);
        else for (int64_t t = 0; t < tasks; ++t) body(t);
    }

    void add_residual(float* y, const float* r, int64_t n) const {
        for (int64_t i = 0; i < n; ++i) y[i] = apply_activation(y[i] + r[i], act_);
    }

    ThreadPool* pool_;
    PrepackedSet prepacked_;  // weights packed at conversion (.ecnn --target), adopted in prepare()
    std::vector<int64_t> strides_, dilations_, pads_;
    int64_t group_ = 1;
    ActivationParams act_;
    const Tensor* w_ = nullptr;
    const Tensor* b_ = nullptr;
    bool has_residual_ = false;
    bool nchw_input_ = false;
    bool prepared_ = false;
    int64_t n_ = 0, h_ = 0, w_in_ = 0, cin_ = 0, cout_ = 0, kh_ = 0, kw_ = 0, oh_ = 0, ow_ = 0;
    Path path_ = Path::Im2col;
    DwConvPacked dw_;
    DwConvParams dw_params_;
    ConvSmallCinPacked direct_;
    ConvSmallCinParams direct_params_;
    PackedGemmB packed_;
    PackedGemmBBf16 packed_bf16_;  // instead of packed_: a pointwise conv under FpMath::Bf16
    FpMath fpmath_;
    std::vector<PackedGemmB> group_packed_;
    std::vector<PackedGemmBBf16> group_packed_bf16_;  // instead of group_packed_ under FpMath::Bf16
    WinogradF43Weights wino_;
    WinogradParams wino_params_;
    std::vector<float> bias_;
    std::vector<std::pair<int64_t, int64_t>> taps_;
    std::vector<Band> row_bands_, col_bands_;
    std::vector<PackedGemmB> tap_packed_;  // zoned path: one [Cin, Cout] panel set per tap
    int64_t chunk_rows_ = 0, workspace_floats_ = 0;
    bool full_rows_ = false;  // every tap kept, rows contiguous: im2col copies whole kernel rows
    float* workspace_ = nullptr;
};

// edgecnn.ExpandDwNhwc (passes/fuse_expand_dwconv.cpp): a 1x1 stride-1 "expand" conv
// (GEMM) and the depthwise conv that alone reads its output, run band by band: each task
// expands the input rows one band of depthwise output rows needs (halo rows included, so
// neighbouring bands recompute a few rows) into a per-thread scratch that stays in L2,
// then runs the depthwise conv on it. Every value is made by the same operations as the
// two ConvNhwc ops (the GEMM's and the depthwise kernel's per-element arithmetic does not
// depend on M or on the rows around), so the results are bit-identical.
//   inputs: X[N,H,W,Cin], W1[Cexp,Cin,1,1], B1[Cexp]?, W2[Cexp,1,kh,kw], B2[Cexp]?
//   attributes: expand_activation(_alpha/_beta), and the depthwise conv's strides, pads,
//   dilations, activation(_alpha/_beta).
class ExpandDwNhwc final : public OpKernel {
public:
    // Output rows per band: the band's expanded input rows (about the core's L2, from sysfs:
    // 1 MiB on Zen 5, l2_cache_bytes()) mostly stay in cache between the GEMM writing and the depthwise conv reading them,
    // and the halo rows that two bands both expand stay at most ~1/16 of the rows (3x3: 32
    // rows at stride 1, 8 at stride 2). Measured on lraspp's 260x260x64 expansion (3x3
    // stride 2), 1 thread: 8 rows 1.09 ms, 4 rows 1.27, 16 rows 1.21, unfused 1.79.
    // EDGECNN_EXPAND_DW_BAND=R forces R rows (for measurements).
    static int64_t band_rows(int64_t w, int64_t c, int64_t kh, int64_t stride, int64_t dil, int64_t oh) {
        if (const char* e = std::getenv("EDGECNN_EXPAND_DW_BAND"); e && std::atoll(e) > 0) return std::min<int64_t>(std::atoll(e), oh);
        const int64_t ext = (kh - 1) * dil + 1, row_bytes = std::max<int64_t>(1, w * c * 4);
        const int64_t in_rows = std::max<int64_t>(ext, l2_cache_bytes() / row_bytes);
        int64_t band = (in_rows - ext) / stride + 1;
        const int64_t halo = std::max<int64_t>(0, ext - stride);
        band = std::max(band, (16 * halo + stride - 1) / stride);
        return std::clamp<int64_t>(band, 1, oh);
    }

    explicit ExpandDwNhwc(const OpAttrs& a) : pool_(a.pool()), prepacked_(a) {
        strides_ = ints_of_size(a, "strides", 2, 1);
        dilations_ = ints_of_size(a, "dilations", 2, 1);
        pads_ = ints_of_size(a, "pads", 4, 0);
        act1_ = read_activation(a, "expand_");
        act2_ = read_activation(a);
        w1_ = a.constant_input(1);
        b1_ = a.constant_input(2);
        w2_ = a.constant_input(3);
        b2_ = a.constant_input(4);
        if (!w1_ || w1_->dtype() != DType::F32 || w1_->rank() != 4 || w1_->dim(2) != 1 || w1_->dim(3) != 1)
            fail("ExpandDwNhwc needs constant [Cexp, Cin, 1, 1] float expand weights");
        if (!w2_ || w2_->dtype() != DType::F32 || w2_->rank() != 4 || w2_->dim(0) != w1_->dim(0) || w2_->dim(1) != 1)
            fail("ExpandDwNhwc needs constant [Cexp, 1, kh, kw] float depthwise weights");
        if ((a.has_input(2) && !b1_) || (a.has_input(4) && !b2_)) fail("ExpandDwNhwc needs constant biases");
        for (const Tensor* b : {b1_, b2_})
            if (b && (b->dtype() != DType::F32 || b->numel() != w1_->dim(0)))
                fail("ExpandDwNhwc bias " + shape_str(b->shape()) + " does not match " + std::to_string(w1_->dim(0)) + " channels");
        if (w2_->dim(2) < 1 || w2_->dim(3) < 1 || strides_[0] < 1 || strides_[1] < 1 || dilations_[0] < 1 || dilations_[1] < 1 ||
            *std::min_element(pads_.begin(), pads_.end()) < 0)
            fail("ExpandDwNhwc needs kernel, strides and dilations >= 1 and pads >= 0");
    }

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        const Shape& x = in[0].shape;
        if (x.size() != 4 || in[0].dtype != DType::F32) fail("ExpandDwNhwc input must be 4-D float32");
        n_ = x[0], h_ = x[1], w_in_ = x[2], cin_ = x[3];
        cexp_ = w1_->dim(0);
        if (w1_->dim(1) != cin_) fail("expand weights " + shape_str(w1_->shape()) + " do not match input " + shape_str(x));
        kh_ = w2_->dim(2), kw_ = w2_->dim(3);
        oh_ = dwconv_out_size(h_, kh_, strides_[0], dilations_[0], pads_[0], pads_[2]);
        ow_ = dwconv_out_size(w_in_, kw_, strides_[1], dilations_[1], pads_[1], pads_[3]);
        if (oh_ <= 0 || ow_ <= 0) fail("output would be empty");
        out[0].dtype = DType::F32;
        out[0].shape = {n_, oh_, ow_, cexp_};
        prepare();
        return true;
    }

    int64_t packed_bytes() const override {
        return int64_t(dw_.weights.size() + dw_.bias.size() + bias1_.size()) * 4 + int64_t(packed_.bytes());
    }
    int64_t workspace_bytes() const override { return workspace_floats_ * 4; }
    void set_workspace(void* w) override { workspace_ = static_cast<float*>(w); }
    std::vector<PackedWeights> packed_weights() const override { return {export_gemm_packing("b", packed_)}; }
    // Both convolutions' weights and biases (inputs 1-4) live in packed_, bias1_ and dw_.
    bool packs_constant_input(size_t i) const override { return i >= 1; }
    std::string kernel_name() const override {
        return "gemm+dwconv_f32_" + f32_isa_label() + " /" + std::to_string(band_) + "rows";
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const float* x = in[0]->data<float>();
        float* y = out[0]->data<float>();
        const int64_t per_image = (oh_ + band_ - 1) / band_, total = n_ * per_image;
        const int64_t slots = std::min<int64_t>(slots_, total);
        // One task per scratch slot; each claims bands until none is left, so a slow
        // thread takes fewer bands and every slot is used by one thread at a time.
        std::atomic<int64_t> next{0};
        auto body = [&](int64_t slot) {
            float* scratch = workspace_ + slot * slot_floats_;
            for (int64_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < total;)
                run_band(x, y, t / per_image, (t % per_image) * band_, scratch);
        };
        if (pool_ && slots > 1) pool_->parallel_for(slots, body);
        else body(0);
    }

private:
    // Input rows [r0, r1) that output rows [o0, o1) read (clipped to the image).
    void input_rows(int64_t o0, int64_t o1, int64_t& r0, int64_t& r1) const {
        r0 = std::max<int64_t>(0, o0 * strides_[0] - pads_[0]);
        r1 = std::min(h_, (o1 - 1) * strides_[0] - pads_[0] + (kh_ - 1) * dilations_[0] + 1);
    }

    void run_band(const float* x, float* y, int64_t b, int64_t o0, float* scratch) const {
        const int64_t o1 = std::min(oh_, o0 + band_);
        int64_t r0, r1;
        input_rows(o0, o1, r0, r1);
        GemmEpilogue ep;
        ep.bias = bias1_.empty() ? nullptr : bias1_.data();
        ep.act = act1_;
        gemm_f32((r1 - r0) * w_in_, x + (b * h_ + r0) * w_in_ * cin_, cin_, packed_, scratch, cexp_, ep, nullptr);
        // The band as an image of its own: rows above r0 that the window reaches are real
        // padding only when r0 == 0 (else they were clipped away by input_rows).
        DwConvParams p = dw_params_;
        p.n = 1;
        p.h = r1 - r0;
        p.pad_t = pads_[0] + r0 - o0 * strides_[0];
        p.out_h = o1 - o0;
        p.pad_b = std::max<int64_t>(0, (p.out_h - 1) * strides_[0] + (kh_ - 1) * dilations_[0] + 1 - p.h - p.pad_t);
        dwconv_f32_nhwc(p, scratch, dw_, y + (b * oh_ + o0) * ow_ * cexp_, act2_, nullptr);
    }

    // The most input rows a band reads, or 0 when some band reads none.
    int64_t band_input_rows_max() const {
        int64_t most = 0;
        for (int64_t o0 = 0; o0 < oh_; o0 += band_) {
            int64_t r0, r1;
            input_rows(o0, std::min(oh_, o0 + band_), r0, r1);
            if (r1 <= r0) return 0;
            most = std::max(most, r1 - r0);
        }
        return most;
    }

    void prepare() {
        if (prepared_) return;
        prepared_ = true;
        const float* w1 = w1_->data<float>();
        if (b1_) bias1_.assign(b1_->data<float>(), b1_->data<float>() + cexp_);
        packed_ = prepacked_.gemm_or("b", cin_, cexp_, [&] { return pack_gemm_b_f32(w1, cin_, cexp_, cin_, true); });
        dw_ = pack_dwconv_f32(w2_->data<float>(), b2_ ? b2_->data<float>() : nullptr, cexp_, kh_, kw_);
        DwConvParams& d = dw_params_;
        d.n = n_, d.h = h_, d.w = w_in_, d.c = cexp_, d.kh = kh_, d.kw = kw_;
        d.stride_h = strides_[0], d.stride_w = strides_[1], d.dil_h = dilations_[0], d.dil_w = dilations_[1];
        d.pad_t = pads_[0], d.pad_l = pads_[1], d.pad_b = pads_[2], d.pad_r = pads_[3];
        d.out_h = oh_, d.out_w = ow_;
        band_ = band_rows(w_in_, cexp_, kh_, strides_[0], dilations_[0], oh_);
        // A band whose rows all read padding would expand nothing: take the whole map as one
        // band then (the depthwise kernel handles padding-only rows inside a band).
        int64_t max_rows = band_input_rows_max();
        if (max_rows <= 0 && band_ < oh_) {
            band_ = oh_;
            max_rows = band_input_rows_max();
        }
        if (max_rows <= 0) fail("ExpandDwNhwc: every tap of the depthwise conv reads padding");
        slot_floats_ = (max_rows * w_in_ * cexp_ + 15) / 16 * 16;  // 64-byte aligned slots
        slots_ = pool_ ? pool_->size() : 1;
        workspace_floats_ = slots_ * slot_floats_;
    }

    ThreadPool* pool_;
    PrepackedSet prepacked_;
    std::vector<int64_t> strides_, dilations_, pads_;
    ActivationParams act1_, act2_;
    const Tensor *w1_ = nullptr, *b1_ = nullptr, *w2_ = nullptr, *b2_ = nullptr;
    bool prepared_ = false;
    int64_t n_ = 0, h_ = 0, w_in_ = 0, cin_ = 0, cexp_ = 0, kh_ = 0, kw_ = 0, oh_ = 0, ow_ = 0;
    PackedGemmB packed_;
    std::vector<float> bias1_;
    DwConvPacked dw_;
    DwConvParams dw_params_;
    int64_t band_ = 1, slot_floats_ = 0, slots_ = 1, workspace_floats_ = 0;
    float* workspace_ = nullptr;
};

// Max/average pooling on NHWC (src/kernels/pool).
class PoolNhwc final : public OpKernel {
public:
    PoolNhwc(const OpAttrs& a, bool is_max) : is_max_(is_max), pool_(a.pool()) {
        kernel_ = ints_of_size(a, "kernel_shape", 2, 1);
        strides_ = ints_of_size(a, "strides", 2, 1);
        pads_ = ints_of_size(a, "pads", 4, 0);
        dilations_ = ints_of_size(a, "dilations", 2, 1);
        out_hw_ = ints_of_size(a, "output_size", 2, 0);
        count_include_pad_ = a.get_int("count_include_pad", 0) != 0;
    }
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        const Shape& x = in[0].shape;
        if (x.size() != 4 || in[0].dtype != DType::F32) fail("pooling input must be 4-D float32");
        out[0].dtype = DType::F32;
        out[0].shape = {x[0], out_hw_[0], out_hw_[1], x[3]};
        return true;
    }
    std::string kernel_name() const override { return is_max_ ? "maxpool_f32_nhwc" : "avgpool_f32_nhwc"; }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Shape& xs = in[0]->shape();
        PoolNhwcParams p;
        p.n = xs[0], p.h = xs[1], p.w = xs[2], p.c = xs[3];
        p.kh = kernel_[0], p.kw = kernel_[1];
        p.stride_h = strides_[0], p.stride_w = strides_[1];
        p.dil_h = dilations_[0], p.dil_w = dilations_[1];
        p.pad_t = pads_[0], p.pad_l = pads_[1], p.pad_b = pads_[2], p.pad_r = pads_[3];
        p.out_h = out_hw_[0], p.out_w = out_hw_[1];
        if (is_max_) maxpool_f32_nhwc(p, in[0]->data<float>(), out[0]->data<float>(), pool_);
        else avgpool_f32_nhwc(p, in[0]->data<float>(), out[0]->data<float>(), count_include_pad_, pool_);
    }

private:
    bool is_max_;
    ThreadPool* pool_;
    std::vector<int64_t> kernel_, strides_, pads_, dilations_, out_hw_;
    bool count_include_pad_ = false;
};

class GlobalPoolNhwc final : public OpKernel {
public:
    GlobalPoolNhwc(const OpAttrs& a, bool is_max) : is_max_(is_max), pool_(a.pool()) {}
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        const Shape& x = in[0].shape;
        if (x.size() != 4 || in[0].dtype != DType::F32) fail("global pooling input must be 4-D float32");
        out[0].dtype = DType::F32;
        out[0].shape = {x[0], 1, 1, x[3]};
        return true;
    }
    std::string kernel_name() const override { return is_max_ ? "global_maxpool_f32_nhwc" : "global_avgpool_f32_nhwc"; }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        const Shape& xs = in[0]->shape();
        if (is_max_) global_maxpool_f32_nhwc(xs[0], xs[1] * xs[2], xs[3], in[0]->data<float>(), out[0]->data<float>(), pool_);
        else global_avgpool_f32_nhwc(xs[0], xs[1] * xs[2], xs[3], in[0]->data<float>(), out[0]->data<float>(), pool_);
    }

private:
    bool is_max_;
    ThreadPool* pool_;
};

}  // namespace

void register_nhwc_ops(OpRegistry& r) {
    r.add("edgecnn.ConvNhwc", [](const OpAttrs& a) { return std::make_unique<ConvNhwc>(a); });
    r.add("edgecnn.ExpandDwNhwc", [](const OpAttrs& a) { return std::make_unique<ExpandDwNhwc>(a); });
    r.add("edgecnn.MaxPoolNhwc", [](const OpAttrs& a) { return std::make_unique<PoolNhwc>(a, true); });
    r.add("edgecnn.AveragePoolNhwc", [](const OpAttrs& a) { return std::make_unique<PoolNhwc>(a, false); });
    r.add("edgecnn.GlobalAveragePoolNhwc", [](const OpAttrs& a) { return std::make_unique<GlobalPoolNhwc>(a, false); });
    r.add("edgecnn.GlobalMaxPoolNhwc", [](const OpAttrs& a) { return std::make_unique<GlobalPoolNhwc>(a, true); });
}

}  // namespace edgecnn
