#include "quant/quantize.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "base/error.hpp"
#include "passes/graph_util.hpp"
#include "passes/passes.hpp"
#include "runtime/session.hpp"

namespace edgecnn {

using namespace passes;

namespace {

struct QParam {
    float scale = 1;
    int32_t zero = 0;
};

struct Range {
    float mn = std::numeric_limits<float>::infinity(), mx = -std::numeric_limits<float>::infinity();
    std::vector<int64_t> hist;  // of |x| over [0, amax], percentile method
    std::vector<std::pair<float, float>> per_sample;  // (min, max) of each calibration input
};

constexpr int kHistBins = 4096;

// The automatic range margin: for each tensor and each calibration input, how much wider
// the tensor's range gets when that input joins the others (leave one out: a stand-in for
// an input the calibration set lacks); the 95th percentile of these ratios over all
// tensors, at least 1. A few calibration photos understate what other photos reach (PP-OCR
// det: unseen photos go up to 2x past the range of four calibration photos; clipping
// there costs far more than the coarser steps of a wider range).
double leave_one_out_margin(const std::map<ValueId, Range>& ranges) {
    std::vector<float> ratios;
    for (const auto& [v, r] : ranges) {
        const auto& s = r.per_sample;
        if (s.size() < 2) continue;
        float worst = 1.f;
        for (size_t i = 0; i < s.size(); ++i) {
            float mn = 0, mx = 0;  // the range always holds 0 (param_from_range)
            for (size_t j = 0; j < s.size(); ++j)
                if (j != i) {
                    mn = std::min(mn, s[j].first);
                    mx = std::max(mx, s[j].second);
                }
            const float w = mx - mn, wi = std::max(mx, s[i].second) - std::min(mn, s[i].first);
            if (w > 0 && std::isfinite(wi)) worst = std::max(worst, wi / w);
        }
        ratios.push_back(worst);
    }
    if (ratios.empty()) return 1.0;
    std::sort(ratios.begin(), ratios.end());
    return double(ratios[size_t(0.95 * double(ratios.size() - 1))]);
}

QParam param_from_range(float mn, float mx) {
    mn = std::min(mn, 0.f);
    mx = std::max(mx, 0.f);
    QParam p;
    p.scale = std::max((mx - mn) / 255.f, 1e-8f);
    p.zero = int32_t(std::min(255.f, std::max(0.f, std::nearbyint(-mn / p.scale))));
    return p;
}

// Shapes bound from the first calibration sample, BN folded, identities removed; then the
// declared shapes of intermediate values dropped again (the model keeps its dynamic batch).
std::shared_ptr<Graph> prepare(const Graph& g, CalibrationSource& calib) {
    auto pg = std::make_shared<Graph>(g);
    std::vector<std::optional<std::vector<Dim>>> in_shapes, out_shapes;
    NamedTensors sample = calib.get(0);
    for (ValueId v : pg->inputs) {
        in_shapes.push_back(pg->value(v).shape);
        const Tensor* t = nullptr;
        for (const auto& [name, tensor] : sample)
            if (name == pg->value(v).name) t = &tensor;
        if (!t) fail("calibration sample has no tensor for input '" + pg->value(v).name + "'");
        std::vector<Dim> dims;
        for (int64_t d : t->shape()) dims.push_back(Dim{d, ""});
        pg->value(v).shape = dims;
    }
    for (ValueId v : pg->outputs) out_shapes.push_back(pg->value(v).shape);
    verify_and_sort(*pg);
    infer_shapes(*pg);
    eliminate_identity(*pg);
    fold_constants(*pg);
    fold_batchnorm(*pg);
    fold_constants(*pg);
    remove_dead_code(*pg);
    verify_and_sort(*pg);
    std::set<ValueId> io(pg->inputs.begin(), pg->inputs.end());
    io.insert(pg->outputs.begin(), pg->outputs.end());
    for (size_t v = 0; v < pg->values.size(); ++v)
        if (!pg->values[v].constant && !io.count(ValueId(v))) pg->values[v].shape.reset();
    for (size_t i = 0; i < pg->inputs.size(); ++i) pg->value(pg->inputs[i]).shape = in_shapes[i];
    for (size_t i = 0; i < pg->outputs.size(); ++i) pg->value(pg->outputs[i]).shape = out_shapes[i];
    return pg;
}

bool is_layer(const Graph& g, const Node& n) {
    if (n.inputs.size() < 2 || n.outputs.size() != 1) return false;
    const Tensor* w = f32_constant_of(g, n.inputs[1]);
    if (!w || constant_of(g, n.inputs[0])) return false;
    const bool bias_ok = n.inputs.size() < 3 || n.inputs[2] == kNoValue || f32_constant_of(g, n.inputs[2]);
    if (!bias_ok) return false;
    if (is_op(n, "Conv")) return w->rank() == 4;
    if (is_op(n, "Gemm")) {
        if (w->rank() != 2 || node_int_attr(n, "transA", 0) != 0 || node_float_attr(n, "alpha", 1.f) != 1.f ||
            node_float_attr(n, "beta", 1.f) != 1.f)
            return false;
        if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
            const int64_t N = node_int_attr(n, "transB", 0) ? w->dim(0) : w->dim(1);
            if (f32_constant_of(g, n.inputs[2])->numel() != N) return false;
        }
        return true;
    }
    return false;
}

bool is_transparent(const Node& n) {
    return (is_op(n, "MaxPool") || is_op(n, "Flatten") || is_op(n, "Reshape")) && n.outputs.size() == 1 &&
           !n.inputs.empty();
}

ValueId new_value(Graph& g, const std::string& base, DType dtype) {
    Value v;
    v.name = unique_value_name(g, base);
    v.dtype = dtype;
    return g.add_value(std::move(v));
}

ValueId new_const(Graph& g, const std::string& base, Tensor t) {
    Value v;
    v.name = unique_value_name(g, base);
    v.dtype = t.dtype();
    v.constant = std::make_shared<const Tensor>(std::move(t));
    return g.add_value(std::move(v));
}

Node make_node(const std::string& name, const char* op, std::vector<ValueId> in, ValueId out) {
    Node n;
    n.name = name;
    n.op_type = op;
    n.inputs = std::move(in);
    n.outputs = {out};
    return n;
}

// The QDQ graph with `int8_layers` (node indices of the prepared graph) quantized.
class QdqBuilder {
public:
    QdqBuilder(const Graph& pg, const std::map<ValueId, QParam>& params) : pg_(pg), params_(params) {}

    std::shared_ptr<Graph> build(const std::set<size_t>& int8_layers) {
        auto q = std::make_shared<Graph>(pg_);
        g_ = q.get();
        dq_.clear();
        of_dq_.clear();
        param_of_dq_.clear();
        added_.clear();
        const size_t count = g_->nodes.size();
        auto uses = compute_uses(*g_);
        for (size_t i = 0; i < count; ++i) {
            if (int8_layers.count(i)) {
                quantize_layer(i, uses);
            } else if (is_int8_add(i)) {
                quantize_add(i, uses);
            } else if (is_op(g_->nodes[i], "Concat")) {
                quantize_concat(i, uses);
            } else if (is_op(g_->nodes[i], "AveragePool") || is_op(g_->nodes[i], "GlobalAveragePool")) {
                // After int8 data: output through Q→DQ at its own range (int8 average pool).
                ValueId x = g_->nodes[i].inputs[0];
                ValueId y = g_->nodes[i].outputs[0];
                if (of_dq_.count(x) && !is_graph_output(*g_, y) && params_.count(y)) quantize_output(y, calibrated(y), i);
            } else if (is_transparent(g_->nodes[i])) {
                ValueId x = g_->nodes[i].inputs[0];
                auto it = of_dq_.find(x);
                ValueId y = g_->nodes[i].outputs[0];
                if (it == of_dq_.end() || is_graph_output(*g_, y)) continue;
                quantize_output(y, param_of_dq_.at(x), i);
            }
        }
        for (auto& n : added_) g_->nodes.push_back(std::move(n));
        verify_and_sort(*g_);
        return q;
    }

private:
    // DQ(Q(t)) for float tensor t (created once); returns the DQ output.
    ValueId qdq(ValueId t, const QParam& p) {
        auto it = dq_.find(t);
        if (it != dq_.end()) return it->second;
        const std::string base = g_->value(t).name;
        ValueId s = new_const(*g_, base + "_scale", Tensor::scalar<float>(p.scale));
        ValueId z = new_const(*g_, base + "_zero_point", Tensor::scalar<uint8_t>(uint8_t(p.zero)));
        ValueId qv = new_value(*g_, base + "_quantized", DType::U8);
        ValueId dv = new_value(*g_, base + "_dequantized", DType::F32);
        added_.push_back(make_node(base + "_QuantizeLinear", "QuantizeLinear", {t, s, z}, qv));
        added_.push_back(make_node(base + "_DequantizeLinear", "DequantizeLinear", {qv, s, z}, dv));
        dq_[t] = dv;
        of_dq_[dv] = t;
        param_of_dq_[dv] = p;
        return dv;
    }

    QParam calibrated(ValueId t) const {
        auto it = params_.find(t);
        if (it == params_.end()) fail("no calibration range for tensor '" + pg_.value(t).name + "'");
        return it->second;
    }

    // Output y of node `producer` through Q→DQ, read by every reader of y.
    void quantize_output(ValueId y, const QParam& p, size_t producer) {
        (void)producer;
        ValueId dv = qdq(y, p);
        for (Node& n : g_->nodes)
            for (ValueId& in : n.inputs)
                if (in == y) in = dv;
        for (Node& n : added_)
            if (n.op_type != "QuantizeLinear")
                for (ValueId& in : n.inputs)
                    if (in == y) in = dv;
    }

    // Add of two activations: both read through Q→DQ, the output too (after a Relu/Clip
    // it feeds alone), so that the int8 plan adds uint8 tensors (edgecnn.QAdd).
    bool is_int8_add(size_t i) const {
        const Node& n = g_->nodes[i];
        return is_op(n, "Add") && n.inputs.size() == 2 && n.outputs.size() == 1 && !constant_of(*g_, n.inputs[0]) &&
               !constant_of(*g_, n.inputs[1]) && g_->value(n.outputs[0]).dtype == DType::F32;
    }
    // Only next to int8 data (an input already quantized): an Add between fp32 layers stays fp32.
    void quantize_add(size_t i, const std::vector<std::vector<Use>>& uses) {
        if (!of_dq_.count(g_->nodes[i].inputs[0]) && !of_dq_.count(g_->nodes[i].inputs[1])) return;
        for (size_t k = 0; k < 2; ++k) {
            ValueId v = g_->nodes[i].inputs[k];
            if (of_dq_.count(v)) continue;
            if (!params_.count(v)) return;
            g_->nodes[i].inputs[k] = qdq(v, calibrated(v));
        }
        quantize_tail(i, uses);
    }

    // Concat with an input already quantized: every input read through Q→DQ, the output
    // too (its own range; the int8 plan requantizes inputs whose parameters differ).
    void quantize_concat(size_t i, const std::vector<std::vector<Use>>& uses) {
        const Node& n = g_->nodes[i];
        if (n.outputs.size() != 1 || g_->value(n.outputs[0]).dtype != DType::F32) return;
        bool any = false;
        for (ValueId v : n.inputs) {
            if (v == kNoValue || constant_of(*g_, v)) return;
            any = any || of_dq_.count(v);
        }
        if (!any) return;
        for (size_t k = 0; k < g_->nodes[i].inputs.size(); ++k) {
            ValueId v = g_->nodes[i].inputs[k];
            if (of_dq_.count(v)) continue;
            if (!params_.count(v)) return;
            g_->nodes[i].inputs[k] = qdq(v, calibrated(v));
        }
        quantize_tail(i, uses);
    }

    // The output of node i, after a Relu/Clip that reads it alone, through Q→DQ.
    void quantize_tail(size_t i, const std::vector<std::vector<Use>>& uses) {
        ValueId y = g_->nodes[i].outputs[0];
        size_t producer = i;
        if (!is_graph_output(*g_, y) && uses[size_t(y)].size() == 1) {
            const Node& a = g_->nodes[uses[size_t(y)][0].node];
            if ((is_op(a, "Relu") || is_op(a, "Clip")) && a.inputs[0] == y) {
                producer = uses[size_t(y)][0].node;
                y = a.outputs[0];
            }
        }
        if (is_graph_output(*g_, y) || !params_.count(y)) return;
        quantize_output(y, calibrated(y), producer);
    }

    void quantize_layer(size_t i, const std::vector<std::vector<Use>>& uses) {
        Node& n = g_->nodes[i];
        const bool gemm = is_op(n, "Gemm");
        // Input: already quantized (read through a DQ), else Q→DQ with its own range.
        ValueId x = n.inputs[0];
        QParam xp;
        if (auto it = of_dq_.find(x); it != of_dq_.end()) {
            xp = param_of_dq_.at(x);
        } else {
            xp = calibrated(x);
            g_->nodes[i].inputs[0] = qdq(x, xp);
        }
        Node& L = g_->nodes[i];
        // Weights: int8 symmetric per output channel.
        const Tensor& w = *f32_constant_of(*g_, L.inputs[1]);
        const int64_t axis = gemm && !node_int_attr(L, "transB", 0) ? 1 : 0;
        const int64_t oc = w.dim(size_t(axis));
        const int64_t inner = axis == 0 ? w.numel() / oc : 1;  // [K,N]: stride between channels is 1
        std::vector<float> ws(size_t(oc), 0.f);
        for (int64_t e = 0; e < w.numel(); ++e) {
            const int64_t c = axis == 0 ? e / inner : e % oc;
            ws[size_t(c)] = std::max(ws[size_t(c)], std::fabs(w.data<float>()[e]));
        }
        for (auto& s : ws) s = s > 0.f ? s / 127.f : 1.f;
        Tensor wq(DType::I8, w.shape());
        for (int64_t e = 0; e < w.numel(); ++e) {
            const int64_t c = axis == 0 ? e / inner : e % oc;
            float r = std::nearbyint(w.data<float>()[e] / ws[size_t(c)]);
            wq.data<int8_t>()[e] = int8_t(std::min(127.f, std::max(-127.f, r)));
        }
        const std::string base = L.name.empty() ? g_->value(L.outputs[0]).name : L.name;
        ValueId wv = new_const(*g_, base + "_weight_int8", wq);
        ValueId wsv = new_const(*g_, base + "_weight_scale", Tensor::from_vector<float>(ws, {oc}));
        ValueId wz = new_const(*g_, base + "_weight_zero_point", Tensor(DType::I8, {oc}));
        ValueId wd = new_value(*g_, base + "_weight_dequantized", DType::F32);
        Node dqw = make_node(base + "_weight_DequantizeLinear", "DequantizeLinear", {wv, wsv, wz}, wd);
        dqw.attrs["axis"] = make_attr_int(axis);
        added_.push_back(std::move(dqw));
        g_->nodes[i].inputs[1] = wd;
        // Bias: int32 at x_scale * w_scale[c].
        if (g_->nodes[i].inputs.size() > 2 && g_->nodes[i].inputs[2] != kNoValue) {
            const Tensor& b = *f32_constant_of(*g_, g_->nodes[i].inputs[2]);
            Tensor bq(DType::I32, b.shape());
            std::vector<float> bs(static_cast<size_t>(oc));
            for (int64_t c = 0; c < oc; ++c) {
                bs[size_t(c)] = xp.scale * ws[size_t(c)];
                double r = std::nearbyint(double(b.data<float>()[c]) / double(bs[size_t(c)]));
                bq.data<int32_t>()[c] = int32_t(std::min(2147483000.0, std::max(-2147483000.0, r)));
            }
            ValueId bv = new_const(*g_, base + "_bias_int32", bq);
            ValueId bsv = new_const(*g_, base + "_bias_scale", Tensor::from_vector<float>(bs, {oc}));
            ValueId bd = new_value(*g_, base + "_bias_dequantized", DType::F32);
            Node dqb = make_node(base + "_bias_DequantizeLinear", "DequantizeLinear", {bv, bsv}, bd);
            dqb.attrs["axis"] = make_attr_int(int64_t(b.rank()) - 1);
            added_.push_back(std::move(dqb));
            g_->nodes[i].inputs[2] = bd;
        }
        // Output, after a Relu/Clip that reads it alone.
        quantize_tail(i, uses);
    }

    const Graph& pg_;
    const std::map<ValueId, QParam>& params_;
    Graph* g_ = nullptr;
    std::map<ValueId, ValueId> dq_;      // float tensor → its DQ output
    std::map<ValueId, ValueId> of_dq_;   // DQ output → float tensor
    std::map<ValueId, QParam> param_of_dq_;
    std::vector<Node> added_;
};

// Reference outputs of the float model, kept for repeated comparisons.
class ErrorMeter {
public:
    ErrorMeter(const Graph& reference, CalibrationSource& src, int64_t samples) : src_(src) {
        n_ = std::min(samples, src.size());
        Session s(std::make_shared<Graph>(reference));
        for (int64_t i = 0; i < n_; ++i) {
            auto out = s.run(src.get(i));
            if (ref_.empty()) {
                lo_.assign(out.size(), std::numeric_limits<double>::infinity());
                hi_.assign(out.size(), -std::numeric_limits<double>::infinity());
            }
            for (size_t o = 0; o < out.size(); ++o) {
                if (out[o].second.dtype() != DType::F32) fail("the model's outputs must be float32");
                for (int64_t e = 0; e < out[o].second.numel(); ++e) {
                    const double v = out[o].second.data<float>()[e];
                    lo_[o] = std::min(lo_[o], v);
                    hi_[o] = std::max(hi_[o], v);
                }
            }
            ref_.push_back(std::move(out));
        }
    }
    double error(const Graph& candidate) {
        Session s(std::make_shared<Graph>(candidate));
        double worst = 0;
        for (int64_t i = 0; i < n_; ++i) {
            auto out = s.run(src_.get(i));
            for (size_t o = 0; o < out.size(); ++o) {
                const Tensor& r = ref_[size_t(i)][o].second;
                const Tensor& c = out[o].second;
                if (c.numel() != r.numel() || c.dtype() != DType::F32) fail("quantized model's outputs differ in shape");
                const double range = hi_[o] > lo_[o] ? hi_[o] - lo_[o] : 1.0;
                for (int64_t e = 0; e < r.numel(); ++e)
                    worst = std::max(worst, std::fabs(double(c.data<float>()[e]) - double(r.data<float>()[e])) / range);
            }
        }
        return worst;
    }

private:
    CalibrationSource& src_;
    int64_t n_ = 0;
    std::vector<NamedTensors> ref_;
    std::vector<double> lo_, hi_;
};

}  // namespace

double relative_output_error(const Graph& reference, const Graph& candidate, CalibrationSource& src, int64_t samples) {
    ErrorMeter m(reference, src, samples);
    return m.error(candidate);
}

QuantizeResult quantize_model(const Graph& float_model, CalibrationSource& calib, const QuantizeOptions& opt) {
    if (calib.size() <= 0) fail("the calibration source is empty");
    if (opt.method != "minmax" && opt.method != "percentile")
        fail_unsupported("calibration method '" + opt.method + "' is not implemented (minmax, percentile)");
    auto progress = [&](const std::string& phase, int64_t done, int64_t total) {
        if (opt.progress) opt.progress(phase, done, total);
    };
    std::shared_ptr<Graph> pg = prepare(float_model, calib);

    // Calibration: every float activation (graph inputs and node outputs) as an output.
    std::vector<ValueId> observed;
    for (ValueId v : pg->inputs)
        if (pg->value(v).dtype == DType::F32) observed.push_back(v);
    for (const Node& n : pg->nodes)
        for (ValueId v : n.outputs)
            if (v != kNoValue && pg->value(v).dtype == DType::F32) observed.push_back(v);
    auto og = std::make_shared<Graph>(*pg);
    std::set<ValueId> outs(og->outputs.begin(), og->outputs.end());
    for (ValueId v : observed)
        if (!outs.count(v)) og->outputs.push_back(v);
    std::map<std::string, ValueId> by_name;
    for (ValueId v : observed) by_name[pg->value(v).name] = v;
    std::map<ValueId, Range> ranges;
    const bool pct = opt.method == "percentile";
    for (int pass = 0; pass < (pct ? 2 : 1); ++pass) {
        Session s(og);
        for (int64_t i = 0; i < calib.size(); ++i) {
            auto out = s.run(calib.get(i));
            for (const auto& [name, t] : out) {
                auto it = by_name.find(name);
                if (it == by_name.end() || t.dtype() != DType::F32) continue;
                Range& r = ranges[it->second];
                const float* d = t.data<float>();
                if (pass == 0) {
                    float smn = std::numeric_limits<float>::infinity(), smx = -smn;
                    for (int64_t e = 0; e < t.numel(); ++e) {
                        smn = std::min(smn, d[e]);
                        smx = std::max(smx, d[e]);
                    }
                    r.mn = std::min(r.mn, smn);
                    r.mx = std::max(r.mx, smx);
                    r.per_sample.emplace_back(smn, smx);
                } else {
                    const float amax = std::max(std::fabs(r.mn), std::fabs(r.mx));
                    if (r.hist.empty()) r.hist.assign(kHistBins, 0);
                    if (!(amax > 0)) continue;
                    for (int64_t e = 0; e < t.numel(); ++e) {
                        int b = int(std::fabs(d[e]) / amax * (kHistBins - 1));
                        r.hist[size_t(std::min(std::max(b, 0), kHistBins - 1))]++;
                    }
                }
            }
            progress(pass == 0 ? "calibrating" : "calibrating (histograms)", i + 1, calib.size());
        }
    }
    const double range_margin = opt.range_margin > 0 ? opt.range_margin : leave_one_out_margin(ranges);
    const float margin = float(range_margin);
    std::map<ValueId, QParam> params;
    for (auto& [v, r] : ranges) {
        if (!std::isfinite(r.mn) || !std::isfinite(r.mx)) continue;
        float mn = r.mn, mx = r.mx;
        if (pct && !r.hist.empty()) {
            int64_t total = 0;
            for (int64_t h : r.hist) total += h;
            const float amax = std::max(std::fabs(r.mn), std::fabs(r.mx));
            int64_t acc = 0;
            for (int b = 0; b < kHistBins; ++b) {
                acc += r.hist[size_t(b)];
                if (double(acc) >= double(total) * opt.percentile / 100.0) {
                    const float clip = amax * float(b + 1) / float(kHistBins - 1);
                    mn = std::max(mn, -clip);
                    mx = std::min(mx, clip);
                    break;
                }
            }
        }
        params[v] = param_from_range(mn * margin, mx * margin);  // about 0: the range holds 0
    }

    std::vector<size_t> layers;
    for (size_t i = 0; i < pg->nodes.size(); ++i)
        if (is_layer(*pg, pg->nodes[i])) layers.push_back(i);
    QdqBuilder builder(*pg, params);
    QuantizeResult res;
    res.range_margin = range_margin;
    std::set<size_t> chosen(layers.begin(), layers.end());
    for (size_t i : layers) res.layers.push_back({pg->nodes[i].name, pg->nodes[i].op_type, 0.0, true});

    ErrorMeter meter(*pg, calib, opt.guard_samples);
    std::shared_ptr<Graph> all8 = builder.build(chosen);
    res.error_all_int8 = meter.error(*all8);
    res.final_error = res.error_all_int8;
    const bool use_drop = bool(opt.drop);
    if (use_drop) res.drop_all_int8 = res.final_drop = opt.drop(*all8);
    auto holds = [&] {
        return (opt.max_error <= 0 || res.final_error <= opt.max_error) && (!use_drop || res.final_drop <= opt.max_drop);
    };
    if (opt.max_error > 0 || use_drop) {
        for (size_t k = 0; k < layers.size(); ++k) {
            auto one = builder.build({layers[k]});
            res.layers[k].sensitivity = use_drop && opt.rank_by_drop ? opt.drop(*one) : meter.error(*one);
            progress("sensitivity", int64_t(k + 1), int64_t(layers.size()));
        }
        std::vector<size_t> order(layers.size());
        for (size_t k = 0; k < order.size(); ++k) order[k] = k;
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return res.layers[a].sensitivity > res.layers[b].sensitivity; });
        for (size_t k : order) {
            if (holds()) break;
            chosen.erase(layers[k]);
            res.layers[k].int8 = false;
            std::shared_ptr<Graph> cand = builder.build(chosen);
            res.final_error = meter.error(*cand);
            if (use_drop) res.final_drop = opt.drop(*cand);
            progress("guard", int64_t(layers.size() - chosen.size()), int64_t(layers.size()));
        }
    }
    res.graph = builder.build(chosen);
    return res;
}

}  // namespace edgecnn
