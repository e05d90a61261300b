// Resize (opsets 10-19) and its predecessor Upsample (7, 9). The op works out the output
// size and, per axis, where each output position samples the input (coordinate
// transformation + filter); kernels/reference/resize_ref applies those plans.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/reference/resize_ref.hpp"
#include "kernels/resize/resize_f32.hpp"
#include "ops/op.hpp"

namespace edgecnn {

namespace {

enum class Mode { Nearest, Linear, Cubic };
enum class Coord { HalfPixel, HalfPixelSymmetric, PytorchHalfPixel, AlignCorners, Asymmetric, TfHalfPixelForNearest,
                   TfCropAndResize };
// Simple is what Upsample and Resize-10 do: truncate when upsampling, ceil when downsampling.
enum class Round { PreferFloor, PreferCeil, Floor, Ceil, Simple };
enum class Keep { Stretch, NotLarger, NotSmaller };

struct ResizeConfig {
    Mode mode = Mode::Nearest;
    Coord coord = Coord::HalfPixel;
    Round round = Round::PreferFloor;
    Keep keep = Keep::Stretch;
    double cubic_a = -0.75;
    bool exclude_outside = false;
    bool antialias = false;
    float extrapolation = 0.f;
    std::vector<int64_t> axes;  // opset 18; empty = all axes
};

Mode parse_mode(const std::string& m, bool upsample) {
    if (m == "nearest") return Mode::Nearest;
    if (m == "linear" || (upsample && m == "bilinear")) return Mode::Linear;
    if (m == "cubic" && !upsample) return Mode::Cubic;
    fail_unsupported("attribute 'mode'='" + m + "' is not supported");
}

// Source coordinate of output position j along an axis. `len` is the output length the
// formulas divide by: in * scale when scales were given (the spec's reference does not
// round it), the integer size when sizes were.
double source_coord(const ResizeConfig& c, int64_t j, int64_t in, int64_t out, double len, double scale,
                    double roi_lo, double roi_hi) {
    const double x = double(j);
    switch (c.coord) {
        case Coord::HalfPixel: return (x + 0.5) / scale - 0.5;
        case Coord::HalfPixelSymmetric: {
            const double adjustment = double(out) / len;
            const double center = double(in) / 2;
            return center * (1 - adjustment) + (x + 0.5) / scale - 0.5;
        }
        case Coord::PytorchHalfPixel: return out > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
        case Coord::AlignCorners: return len != 1 ? x * double(in - 1) / (len - 1) : 0.0;
        case Coord::Asymmetric: return x / scale;
        case Coord::TfHalfPixelForNearest: return (x + 0.5) / scale;
        case Coord::TfCropAndResize:
            if (len != 1) return roi_lo * double(in - 1) + x * (roi_hi - roi_lo) * double(in - 1) / (len - 1);
            return 0.5 * (roi_lo + roi_hi) * double(in - 1);
    }
    return x;
}

int64_t nearest_index(Round r, double x, double scale) {
    switch (r) {
        case Round::PreferFloor: return int64_t(std::ceil(x - 0.5));
        case Round::PreferCeil: return int64_t(std::floor(x + 0.5));
        case Round::Floor: return int64_t(std::floor(x));
        case Round::Ceil: return int64_t(std::ceil(x));
        case Round::Simple: return scale < 1 ? int64_t(std::ceil(x)) : int64_t(x);
    }
    return 0;
}

double cubic_kernel(double x, double a) {
    x = std::fabs(x);
    if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    return 0;
}

ref::ResizeAxisPlan make_plan(const ResizeConfig& c, int64_t in, int64_t out, double len, double scale,
                              double roi_lo, double roi_hi) {
    ref::ResizeAxisPlan p;
    p.in_size = in;
    p.out_size = out;
    if (c.coord == Coord::TfCropAndResize) p.outside.assign(size_t(out), 0);
    if (c.mode == Mode::Nearest) {
        p.taps = 1;
        for (int64_t j = 0; j < out; ++j) {
            const double x = source_coord(c, j, in, out, len, scale, roi_lo, roi_hi);
            if (!p.outside.empty() && (x < 0 || x > double(in - 1))) p.outside[size_t(j)] = 1;
            p.index.push_back(std::clamp<int64_t>(nearest_index(c.round, x, scale), 0, in - 1));
            p.weight.push_back(1.f);
        }
        return p;
    }
    // Linear has support 1, cubic 2; antialiasing widens the filter by 1/scale when
    // downsampling. Taps sit at floor(x) + k for k in [start, 1 - start].
    const double support = c.mode == Mode::Linear ? 1.0 : 2.0;
    const double s = c.antialias ? std::min(scale, 1.0) : 1.0;
    const int64_t start = int64_t(std::floor(-support / s)) + 1;
    p.taps = 2 - 2 * start;
    // An antialiased extreme downscale would need a huge tap table; refuse rather than allocate it.
    if (double(p.taps) * double(out) > double(int64_t(1) << 28))
        throw Error(ErrorKind::Limit, "antialiased resize from " + std::to_string(in) + " to " + std::to_string(out) +
                                          " needs too many filter taps");
    std::vector<double> w(size_t(p.taps));
    for (int64_t j = 0; j < out; ++j) {
        const double x = source_coord(c, j, in, out, len, scale, roi_lo, roi_hi);
        if (!p.outside.empty() && (x < 0 || x > double(in - 1))) p.outside[size_t(j)] = 1;
        const double base = std::floor(x), frac = x - base;
        double sum = 0;
        for (int64_t k = 0; k < p.taps; ++k) {
            const double d = (double(start + k) - frac) * s;
            double v = c.mode == Mode::Linear ? std::max(0.0, 1 - std::fabs(d)) : cubic_kernel(d, c.cubic_a);
            const int64_t idx = int64_t(base) + start + k;
            if (c.exclude_outside && (idx < 0 || idx >= in)) v = 0;
            w[size_t(k)] = v;
            sum += v;
        }
        const bool normalize = c.antialias || c.exclude_outside;
        for (int64_t k = 0; k < p.taps; ++k) {
            // Out-of-range taps read the edge value, as the spec's edge padding does.
            p.index.push_back(std::clamp<int64_t>(int64_t(base) + start + k, 0, in - 1));
            p.weight.push_back(float(normalize && sum != 0 ? w[size_t(k)] / sum : w[size_t(k)]));
        }
    }
    return p;
}

class ResizeOp : public OpKernel {
public:
    // `upsample`: Upsample-7/9 (scales attribute or input 1). `opset`: Resize's version.
    // `argmax`: edgecnn.ResizeArgMax, the Resize followed by ArgMax over axis 1 (attribute
    // keepdims as ArgMax's; first index on ties), which passes/fuse_resize_argmax makes.
    ResizeOp(const OpAttrs& a, bool upsample, bool argmax = false)
        : upsample_(upsample), argmax_(argmax), opset_(a.opset()), for_plan_(a.for_plan()), pool_(a.pool()) {
        if (argmax_) argmax_keepdims_ = a.get_int("keepdims", 1) != 0;
        c_.mode = parse_mode(a.get_string("mode", "nearest"), upsample);
        if (upsample) {
            c_.coord = Coord::Asymmetric;
            c_.round = Round::Simple;
            if (a.has("scales")) scales_attr_ = a.get_floats("scales");
            else if (a.opset() < 9) fail("Upsample-7 needs attribute 'scales'");
            return;
        }
        if (opset_ < 11) {
            c_.coord = Coord::Asymmetric;
            c_.round = Round::Simple;
            return;
        }
        const std::string ctm = a.get_string("coordinate_transformation_mode", "half_pixel");
        if (ctm == "half_pixel") c_.coord = Coord::HalfPixel;
        else if (ctm == "half_pixel_symmetric") c_.coord = Coord::HalfPixelSymmetric;
        else if (ctm == "pytorch_half_pixel") c_.coord = Coord::PytorchHalfPixel;
        else if (ctm == "align_corners") c_.coord = Coord::AlignCorners;
        else if (ctm == "asymmetric") c_.coord = Coord::Asymmetric;
        // "tf_half_pixel_for_nn" is the name some early exporters (and onnx test data) used.
        else if (ctm == "tf_half_pixel_for_nearest" || ctm == "tf_half_pixel_for_nn") c_.coord = Coord::TfHalfPixelForNearest;
        else if (ctm == "tf_crop_and_resize") c_.coord = Coord::TfCropAndResize;
        else fail_unsupported("attribute 'coordinate_transformation_mode'='" + ctm + "' is not supported");
        const std::string nm = a.get_string("nearest_mode", "round_prefer_floor");
        if (nm == "round_prefer_floor") c_.round = Round::PreferFloor;
        else if (nm == "round_prefer_ceil") c_.round = Round::PreferCeil;
        else if (nm == "floor") c_.round = Round::Floor;
        else if (nm == "ceil") c_.round = Round::Ceil;
        else fail_unsupported("attribute 'nearest_mode'='" + nm + "' is not supported");
        c_.cubic_a = a.get_float("cubic_coeff_a", -0.75f);
        c_.exclude_outside = a.get_int("exclude_outside", 0) != 0;
        c_.extrapolation = a.get_float("extrapolation_value", 0.f);
        c_.antialias = a.get_int("antialias", 0) != 0;
        c_.axes = a.get_ints("axes", {});
        const std::string keep = a.get_string("keep_aspect_ratio_policy", "stretch");
        if (keep == "stretch") c_.keep = Keep::Stretch;
        else if (keep == "not_larger") c_.keep = Keep::NotLarger;
        else if (keep == "not_smaller") c_.keep = Keep::NotSmaller;
        else fail_unsupported("attribute 'keep_aspect_ratio_policy'='" + keep + "' is not supported");
    }

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        if (out.empty()) fail("Resize needs one output");
        if (in.empty() || !in[0].present) fail("required input 0 'X' is missing");
        const ValueInfo& x = in[0];
        if (dtype_size(x.dtype) == 0) fail_unsupported("input 'X' of type " + dtype_name(x.dtype) + " is not supported");
        if (c_.mode != Mode::Nearest) require_dtype(x.dtype, {DType::F32}, "input 'X' with linear/cubic mode");
        if (argmax_) require_dtype(x.dtype, {DType::F32}, "input 'X' of ResizeArgMax");
        const int64_t r = int64_t(x.shape.size());
        std::vector<int64_t> axes;
        for (int64_t v : c_.axes) {
            const int64_t n = normalize_axis(v, r);
            if (std::find(axes.begin(), axes.end(), n) != axes.end()) fail("attribute 'axes' repeats axis " + std::to_string(v));
            axes.push_back(n);
        }
        if (axes.empty())
            for (int64_t d = 0; d < r; ++d) axes.push_back(d);

        // Where the scales and sizes come from in each version; an empty tensor means absent.
        const size_t scales_at = upsample_ || opset_ < 11 ? 1 : 2;
        const size_t sizes_at = upsample_ || opset_ < 11 ? size_t(-1) : 3;
        auto given = [&](size_t i) { return i < in.size() && in[i].present && shape_numel(in[i].shape) > 0; };
        const bool has_scales = !scales_attr_.empty() || given(scales_at);
        const bool has_sizes = given(sizes_at);
        if (has_scales == has_sizes) fail("exactly one of 'scales' and 'sizes' must be given");

        roi_.assign(size_t(2 * r), 0.0);
        for (int64_t d = 0; d < r; ++d) roi_[size_t(r + d)] = 1.0;
        if (c_.coord == Coord::TfCropAndResize && given(1)) {
            if (!in[1].data) return false;
            std::vector<double> roi = in[1].data->to_f64();
            if (roi.size() != 2 * axes.size())
                fail("'roi' has " + std::to_string(roi.size()) + " values, expected " + std::to_string(2 * axes.size()));
            for (size_t i = 0; i < axes.size(); ++i) {
                roi_[size_t(axes[i])] = roi[i];
                roi_[size_t(r + axes[i])] = roi[axes.size() + i];
            }
        }

        scale_.assign(size_t(r), 1.0);
        Shape os = x.shape;
        if (has_scales) {
            std::vector<float> sc = scales_attr_;
            if (sc.empty()) {
                if (!in[scales_at].data) return false;
                require_dtype(in[scales_at].dtype, {DType::F32}, "input 'scales'");
                const Tensor& t = *in[scales_at].data;
                sc.assign(t.data<float>(), t.data<float>() + t.numel());
            }
            if (sc.size() != axes.size())
                fail("'scales' has " + std::to_string(sc.size()) + " values for " + std::to_string(axes.size()) +
                     " axes");
            for (size_t i = 0; i < axes.size(); ++i) {
                const size_t d = size_t(axes[i]);
                if (!(sc[i] > 0)) fail("'scales' must be positive, got " + std::to_string(sc[i]));
                scale_[d] = sc[i];
                float len = float(x.shape[d]);
                if (c_.coord == Coord::TfCropAndResize) len *= float(roi_[size_t(r) + d] - roi_[d]);
                // float arithmetic, as ONNX shape inference and onnxruntime compute it
                const float o = std::floor(len * sc[i]);
                if (!(o >= 0 && o < 9.0e18f)) fail("output size for axis " + std::to_string(d) + " is out of range");
                os[d] = int64_t(o);
            }
        } else {
            if (!in[sizes_at].data) return false;
            std::vector<int64_t> sz = in[sizes_at].data->to_i64();
            if (sz.size() != axes.size())
                fail("'sizes' has " + std::to_string(sz.size()) + " values for " + std::to_string(axes.size()) + " axes");
            for (int64_t v : sz)
                if (v < 0) fail("'sizes' must not be negative");
            if (c_.keep == Keep::Stretch) {
                for (size_t i = 0; i < axes.size(); ++i) {
                    const size_t d = size_t(axes[i]);
                    os[d] = sz[i];
                    scale_[d] = x.shape[d] > 0 ? double(sz[i]) / double(x.shape[d]) : 1.0;
                }
            } else {
                // One scale for all listed axes, the largest that fits (not_larger) or the
                // smallest that covers (not_smaller); sizes then follow from it.
                double s = c_.keep == Keep::NotLarger ? 1e300 : 0.0;
                for (size_t i = 0; i < axes.size(); ++i) {
                    const int64_t n = x.shape[size_t(axes[i])];
                    if (n == 0) fail("cannot keep the aspect ratio of an empty axis");
                    const double si = double(sz[i]) / double(n);
                    s = c_.keep == Keep::NotLarger ? std::min(s, si) : std::max(s, si);
                }
                for (size_t i = 0; i < axes.size(); ++i) {
                    const size_t d = size_t(axes[i]);
                    scale_[d] = s;
                    os[d] = int64_t(std::floor(s * double(x.shape[d]) + 0.5));
                }
            }
        }
        len_.assign(os.begin(), os.end());
        if (has_scales)
            for (int64_t d = 0; d < r; ++d) len_[size_t(d)] = double(x.shape[size_t(d)]) * scale_[size_t(d)];
        for (int64_t d = 0; d < r; ++d)
            if (x.shape[size_t(d)] == 0 && os[size_t(d)] > 0)
                fail("cannot resize empty axis " + std::to_string(d) + " to size " + std::to_string(os[size_t(d)]));
        resized_ = os;
        if (argmax_) {
            if (os.size() < 2) fail("ResizeArgMax needs an input of rank 2 or more (classes on axis 1)");
            if (os[1] == 0) fail("cannot take ArgMax over an empty axis");
        }
        if (out[0].present) {
            out[0].dtype = argmax_ ? DType::I64 : x.dtype;
            out[0].shape = os;
            if (argmax_) {
                if (argmax_keepdims_) out[0].shape[1] = 1;
                else out[0].shape.erase(out[0].shape.begin() + 1);
            }
        }
        prepare_fast(x, os);
        return true;
    }

    std::string kernel_name() const override {
        if (argmax_) return fast_ ? std::string(resize2d_f32_kernel_name(fast_plan_.linear)) + "+argmax" : "reference";
        return fast_ ? resize2d_f32_kernel_name(fast_plan_.linear) : "reference";
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        if (!argmax_) {
            resize(*in[0], *out[0]);
            return;
        }
        const Tensor& x = *in[0];
        Tensor& labels = *out[0];
        if (labels.numel() == 0) return;
        if (fast_ && x.shape() == fast_in_) {
            resize2d_argmax_f32(fast_plan_, x.dim(1), x.data<float>(), labels.data<int64_t>(), pool_);
            return;
        }
        // Elsewhere (interpreter, other modes): the resize, then the argmax over axis 1.
        Tensor y(x.dtype(), resized_);
        resize(x, y);
        const int64_t outer = resized_[0], k = resized_[1], inner = y.numel() / std::max<int64_t>(1, outer * k);
        const float* py = y.data<float>();
        int64_t* pl = labels.data<int64_t>();
        for (int64_t o = 0; o < outer; ++o) {
            const float* base = py + o * k * inner;
            for (int64_t i = 0; i < inner; ++i) {
                float best = base[i];
                int64_t arg = 0;
                for (int64_t c = 1; c < k; ++c)
                    if (base[c * inner + i] > best) {
                        best = base[c * inner + i];
                        arg = c;
                    }
                pl[o * inner + i] = arg;
            }
        }
    }

private:
    void resize(const Tensor& x, Tensor& y) {
        if (y.numel() == 0) return;
        if (fast_ && x.shape() == fast_in_) {
            resize2d_f32(fast_plan_, x.data<float>(), y.data<float>(), pool_);
            return;
        }
        const size_t r = x.rank();
        std::vector<ref::ResizeAxisPlan> plans;
        for (size_t d = 0; d < r; ++d)
            plans.push_back(make_plan(c_, x.dim(d), y.dim(d), len_[d], scale_[d], roi_[d], roi_[r + d]));
        if (c_.mode == Mode::Nearest) {
            const size_t es = dtype_size(x.dtype());
            std::vector<uint8_t> fill(es, 0);
            if (c_.coord == Coord::TfCropAndResize) {
                // The extrapolation value converted to the data type.
                Tensor f = Tensor::scalar<float>(c_.extrapolation);
                if (x.dtype() == DType::F32) std::memcpy(fill.data(), f.raw(), es);
                else if (x.dtype() == DType::F64) { double v = c_.extrapolation; std::memcpy(fill.data(), &v, es); }
                else if (x.dtype() == DType::I64) { int64_t v = int64_t(c_.extrapolation); std::memcpy(fill.data(), &v, es); }
                else if (x.dtype() == DType::I32) { int32_t v = int32_t(c_.extrapolation); std::memcpy(fill.data(), &v, es); }
                else if (x.dtype() == DType::U8) fill[0] = uint8_t(c_.extrapolation);
                else if (x.dtype() == DType::I8) fill[0] = uint8_t(int8_t(c_.extrapolation));
            }
            ref::resize_nearest(x.raw(), y.raw(), x.shape(), plans, es, fill.data());
        } else {
            ref::resize_filter_f32(x.data<float>(), y.data<float>(), x.shape(), plans, c_.extrapolation);
        }
    }

    // In a compiled plan, a float32 NCHW resize over H and W only, nearest or (bi)linear
    // without antialiasing or cropping, runs the fast 2-D kernel; its per-row and
    // per-column tables are made here, once per bound shape.
    void prepare_fast(const ValueInfo& x, const Shape& os) {
        fast_ = false;
        if (!for_plan_ || x.dtype != DType::F32 || x.shape.size() != 4) return;
        if (c_.mode == Mode::Cubic || c_.antialias || c_.coord == Coord::TfCropAndResize) return;
        if (os[0] != x.shape[0] || os[1] != x.shape[1] || shape_numel(x.shape) == 0 || shape_numel(os) == 0) return;
        if (x.shape[2] > INT32_MAX || x.shape[3] > INT32_MAX) return;
        for (size_t d = 0; d < 2; ++d)
            if (!make_plan(c_, x.shape[d], os[d], len_[d], scale_[d], roi_[d], roi_[4 + d]).is_identity()) return;
        const ref::ResizeAxisPlan ph = make_plan(c_, x.shape[2], os[2], len_[2], scale_[2], roi_[2], roi_[6]);
        const ref::ResizeAxisPlan pw = make_plan(c_, x.shape[3], os[3], len_[3], scale_[3], roi_[3], roi_[7]);
        const int64_t taps = c_.mode == Mode::Nearest ? 1 : 2;
        if (ph.taps != taps || pw.taps != taps) return;
        Resize2dPlan& f = fast_plan_;
        f = Resize2dPlan{};
        f.linear = taps == 2;
        f.planes = x.shape[0] * x.shape[1];
        f.ih = x.shape[2];
        f.iw = x.shape[3];
        f.oh = os[2];
        f.ow = os[3];
        auto fill = [&](const ref::ResizeAxisPlan& p, std::vector<int32_t>& i0, std::vector<int32_t>& i1,
                        std::vector<float>& w0, std::vector<float>& w1) {
            for (int64_t j = 0; j < p.out_size; ++j) {
                const size_t t = size_t(j * taps);
                i0.push_back(int32_t(p.index[t]));
                w0.push_back(p.weight[t]);
                if (taps == 2) {
                    i1.push_back(int32_t(p.index[t + 1]));
                    w1.push_back(p.weight[t + 1]);
                }
            }
        };
        fill(ph, f.y0, f.y1, f.wy0, f.wy1);
        fill(pw, f.x0, f.x1, f.wx0, f.wx1);
        fast_in_ = x.shape;
        fast_ = true;
    }

    bool upsample_;
    bool argmax_;
    bool argmax_keepdims_ = true;
    Shape resized_;  // the resize's output shape (before the argmax)
    int64_t opset_;
    bool for_plan_;
    ThreadPool* pool_;
    bool fast_ = false;
    Shape fast_in_;
    Resize2dPlan fast_plan_;
    ResizeConfig c_;
    std::vector<float> scales_attr_;
    std::vector<double> scale_, len_, roi_;
};

}  // namespace

void register_resize_ops(OpRegistry& r) {
    r.add("Resize", [](const OpAttrs& a) -> std::unique_ptr<OpKernel> { return std::make_unique<ResizeOp>(a, false); },
          10);
    r.add("Upsample", [](const OpAttrs& a) -> std::unique_ptr<OpKernel> { return std::make_unique<ResizeOp>(a, true); },
          7);
    // Resize-13+ attributes (the opset of the Resize it was made from) plus keepdims.
    r.add("edgecnn.ResizeArgMax",
          [](const OpAttrs& a) -> std::unique_ptr<OpKernel> { return std::make_unique<ResizeOp>(a, false, true); });
}

}  // namespace edgecnn
