// QDQ models → int8 NHWC ops, so data stays uint8 between layers.
//
// A QDQ model (ONNX Runtime's format; what `edgecnn quantize` writes) carries int8 tensors
// between QuantizeLinear (Q) and DequantizeLinear (DQ) nodes around float ops. Recognised:
//   DQ(x u8) → Conv(DQ(w i8 const, per-channel), bias?) → [Relu | Clip] → Q(u8)
//        → edgecnn.QConvNhwc wrapped in NCHW↔NHWC Transposes (the layout pass cancels them)
//   DQ(x u8) → Gemm(DQ(w i8 const), bias?) → [Relu | Clip] → Q(u8)  → edgecnn.QGemm
//   DQ(x u8) → MaxPool → Q(u8) with the same scale and zero point → edgecnn.QMaxPoolNhwc
//   DQ(x u8) → Flatten | Reshape → Q(u8) with the same scale/zero point → the op on u8
//   DQ(a u8) + DQ(b u8) (same shapes) → [Relu | Clip] → Q(u8)  → edgecnn.QAdd
//   DQ(x u8) → AveragePool | GlobalAveragePool → Q(u8) → edgecnn.QAvgPoolNhwc (transposes around)
//   Concat(DQ(a u8), DQ(b u8), ...) → Q(u8) → Concat on uint8, each input whose scale or
//       zero point differs from the output's first requantized (edgecnn.QRequant)
// The bias is requantized to int32 at x_scale * w_scale[c] from its real value (float or
// DQ(int32)). A fused Relu/Clip becomes the uint8 clamp [Q(min), Q(max)] (Q is monotonic).
// Anything else is left as it is: its DQ → float op → Q runs in float (the reference
// Q/DQ ops; constant DQs of weights are folded to float weights), i.e. falls back.
#include <cmath>
#include <limits>
#include <optional>

#include "kernels/int8/requant.hpp"
#include "passes/graph_util.hpp"
#include "passes/fuse_qdq.hpp"
#include "passes/passes.hpp"

namespace edgecnn {

using namespace passes;

namespace {

// A 2-D pool window the int8 NHWC pools take: kernel, strides, explicit pads. Nothing when
// the node asks for what they do not do (SAME auto-padding, dilation, other ranks).
struct PoolWindow2d {
    std::vector<int64_t> kernel, strides, pads;
};
std::optional<PoolWindow2d> pool_window_2d(const Node& n) {
    const Attribute* ap = n.attr("auto_pad");
    if (ap && ap->s != "NOTSET" && ap->s != "VALID") return std::nullopt;
    const Attribute* ks = n.attr("kernel_shape");
    if (!ks || ks->ints.size() != 2) return std::nullopt;
    const Attribute* dl = n.attr("dilations");
    if (dl && (dl->ints.size() != 2 || dl->ints[0] != 1 || dl->ints[1] != 1)) return std::nullopt;
    PoolWindow2d w{ks->ints, {1, 1}, {0, 0, 0, 0}};
    if (const Attribute* p = n.attr("pads"); p && !(ap && ap->s == "VALID")) {
        if (p->ints.size() != 4) return std::nullopt;
        w.pads = p->ints;
    }
    if (const Attribute* st = n.attr("strides")) w.strides = st->ints;
    return w;
}

const std::vector<int64_t> kToNhwc = {0, 2, 3, 1};
const std::vector<int64_t> kToNchw = {0, 3, 1, 2};

struct QParam {
    ValueId q = kNoValue;  // the uint8 tensor (DQ input / Q output)
    float scale = 1;
    int32_t zero = 0;
    bool operator==(const QParam& o) const { return scale == o.scale && zero == o.zero; }
};

std::optional<float> scalar_f32(const Graph& g, ValueId v) {
    const Tensor* t = f32_constant_of(g, v);
    if (!t || t->numel() != 1) return std::nullopt;
    return t->data<float>()[0];
}

// Per-tensor uint8 (scale, zero point) of a Q or DQ node's inputs 1 and 2.
std::optional<QParam> per_tensor_u8(const Graph& g, const Node& n) {
    if (n.inputs.size() < 2) return std::nullopt;
    auto s = scalar_f32(g, n.inputs[1]);
    if (!s || !(*s > 0.f)) return std::nullopt;
    QParam p;
    p.scale = *s;
    if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
        const Tensor* z = constant_of(g, n.inputs[2]);
        if (!z || z->dtype() != DType::U8 || z->numel() != 1) return std::nullopt;
        p.zero = z->data<uint8_t>()[0];
    }
    return p;
}

// v = DQ(x) with x a non-constant uint8 tensor, per tensor.
std::optional<QParam> dq_activation(const Graph& g, ValueId v) {
    if (v == kNoValue) return std::nullopt;
    int32_t p = g.value(v).producer;
    if (p < 0) return std::nullopt;
    const Node& d = g.nodes[size_t(p)];
    if (!is_op(d, "DequantizeLinear") || constant_of(g, d.inputs[0]) || g.value(d.inputs[0]).dtype != DType::U8)
        return std::nullopt;
    auto q = per_tensor_u8(g, d);
    if (!q) return std::nullopt;
    q->q = d.inputs[0];
    return q;
}

// v = DQ(w) with w a constant int8 tensor, zero points 0, scales per tensor or along
// `axis` (which must be the output-channel axis).
struct QWeight {
    const Tensor* w = nullptr;
    std::vector<float> scales;
};
std::optional<QWeight> dq_weight(const Graph& g, ValueId v, int64_t axis) {
    if (v == kNoValue) return std::nullopt;
    int32_t p = g.value(v).producer;
    if (p < 0) return std::nullopt;
    const Node& d = g.nodes[size_t(p)];
    if (!is_op(d, "DequantizeLinear") || d.inputs.size() < 2) return std::nullopt;
    const Tensor* w = constant_of(g, d.inputs[0]);
    const Tensor* s = f32_constant_of(g, d.inputs[1]);
    if (!w || w->dtype() != DType::I8 || !s || s->rank() > 1) return std::nullopt;
    if (d.inputs.size() > 2 && d.inputs[2] != kNoValue) {
        const Tensor* z = constant_of(g, d.inputs[2]);
        if (!z) return std::nullopt;
        for (int64_t zv : z->to_i64())
            if (zv != 0) return std::nullopt;
    }
    if (s->numel() != 1) {
        int64_t a = node_int_attr(d, "axis", 1);
        if (a < 0) a += int64_t(w->rank());
        if (a != axis || s->numel() != w->dim(size_t(axis))) return std::nullopt;
    }
    QWeight q;
    q.w = w;
    q.scales.assign(s->data<float>(), s->data<float>() + s->numel());
    for (float x : q.scales)
        if (!(x > 0.f) || !std::isfinite(x)) return std::nullopt;
    return q;
}

// The real bias values (float constant, or DQ of a constant), or nullopt.
std::optional<std::vector<float>> real_bias(const Graph& g, ValueId v, int64_t n) {
    if (const Tensor* t = f32_constant_of(g, v)) {
        if (t->numel() != n) return std::nullopt;
        return std::vector<float>(t->data<float>(), t->data<float>() + n);
    }
    int32_t p = g.value(v).producer;
    if (p < 0) return std::nullopt;
    const Node& d = g.nodes[size_t(p)];
    if (!is_op(d, "DequantizeLinear")) return std::nullopt;
    const Tensor* q = constant_of(g, d.inputs[0]);
    const Tensor* s = f32_constant_of(g, d.inputs[1]);
    if (!q || !s || q->numel() != n || (s->numel() != 1 && s->numel() != n)) return std::nullopt;
    std::vector<int64_t> zero(size_t(s->numel()), 0);
    if (d.inputs.size() > 2 && d.inputs[2] != kNoValue) {
        const Tensor* z = constant_of(g, d.inputs[2]);
        if (!z || z->numel() != s->numel()) return std::nullopt;
        zero = z->to_i64();
    }
    std::vector<int64_t> qv = q->to_i64();
    std::vector<float> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        size_t c = s->numel() == 1 ? 0 : size_t(i);
        out[size_t(i)] = float(qv[size_t(i)] - zero[c]) * s->data<float>()[c];
    }
    return out;
}

// The single reader of v (not a graph output), or null.
const Use* single_use(const Graph& g, const std::vector<std::vector<Use>>& uses, ValueId v) {
    if (is_graph_output(g, v) || uses[size_t(v)].size() != 1) return nullptr;
    return &uses[size_t(v)][0];
}

// After an op's output v: optional Relu/Clip then Q(u8). Fills the output's Q parameters,
// the clamp, and the nodes consumed.
struct Tail {
    QParam y;
    int32_t lo = 0, hi = 255;
    std::vector<size_t> nodes;  // activation (if any) and the Q
};
std::optional<Tail> quantized_tail(const Graph& g, const std::vector<std::vector<Use>>& uses, ValueId v) {
    Tail t;
    const Use* u = single_use(g, uses, v);
    if (!u) return std::nullopt;
    const Node* n = &g.nodes[u->node];
    std::optional<float> amin, amax;
    if (is_op(*n, "Relu") || is_op(*n, "Clip")) {
        if (is_op(*n, "Relu")) {
            amin = 0.f;
        } else if (g.opset < 11) {
            amin = node_float_attr(*n, "min", std::numeric_limits<float>::lowest());
            amax = node_float_attr(*n, "max", std::numeric_limits<float>::max());
        } else {
            amin = n->inputs.size() > 1 && n->inputs[1] != kNoValue ? scalar_f32(g, n->inputs[1])
                                                                     : std::numeric_limits<float>::lowest();
            amax = n->inputs.size() > 2 && n->inputs[2] != kNoValue ? scalar_f32(g, n->inputs[2])
                                                                     : std::numeric_limits<float>::max();
            if (!amin || !amax) return std::nullopt;
        }
        t.nodes.push_back(u->node);
        u = single_use(g, uses, n->outputs[0]);
        if (!u) return std::nullopt;
        n = &g.nodes[u->node];
    }
    if (!is_op(*n, "QuantizeLinear") || u->input != 0) return std::nullopt;
    auto q = per_tensor_u8(g, *n);
    if (!q || g.value(n->outputs[0]).dtype != DType::U8) return std::nullopt;
    q->q = n->outputs[0];
    t.y = *q;
    t.nodes.push_back(u->node);
    if (amin) t.lo = quantize_u8(*amin, q->scale, q->zero);
    if (amax) t.hi = quantize_u8(*amax, q->scale, q->zero);
    if (t.lo > t.hi) return std::nullopt;
    return t;
}

Attribute ints_attr(std::vector<int64_t> v) {
    Attribute a;
    a.kind = Attribute::Kind::Ints;
    a.ints = std::move(v);
    return a;
}
Attribute floats_attr(std::vector<float> v) {
    Attribute a;
    a.kind = Attribute::Kind::Floats;
    a.floats = std::move(v);
    return a;
}

Shape permuted(const Shape& s, const std::vector<int64_t>& perm) {
    Shape out(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) out[i] = s[size_t(perm[i])];
    return out;
}

Node transpose_node(const std::string& name, ValueId in, ValueId out, const std::vector<int64_t>& perm) {
    Node t;
    t.name = name;
    t.op_type = "Transpose";
    t.inputs = {in};
    t.outputs = {out};
    t.attrs["perm"] = ints_attr(perm);
    return t;
}

void set_q_attrs(Node& n, const QParam& x, const QParam& y, const std::vector<float>& w_scales, int32_t lo, int32_t hi) {
    n.attrs["x_scale"] = make_attr_float(x.scale);
    n.attrs["x_zero_point"] = make_attr_int(x.zero);
    n.attrs["y_scale"] = make_attr_float(y.scale);
    n.attrs["y_zero_point"] = make_attr_int(y.zero);
    n.attrs["w_scales"] = floats_attr(w_scales);
    n.attrs["act_lo"] = make_attr_int(lo);
    n.attrs["act_hi"] = make_attr_int(hi);
}

// int32 bias at x_scale * w_scale[c]; nullopt when a value would not fit.
std::optional<Tensor> quantize_bias(const std::vector<float>& b, float x_scale, const std::vector<float>& w_scales) {
    Tensor t(DType::I32, {int64_t(b.size())});
    for (size_t c = 0; c < b.size(); ++c) {
        const double s = double(x_scale) * double(w_scales[w_scales.size() == 1 ? 0 : c]);
        const double q = std::nearbyint(double(b[c]) / s);
        if (!(std::fabs(q) < 2147483647.0)) return std::nullopt;
        t.data<int32_t>()[c] = int32_t(q);
    }
    return t;
}

// NCHW value v → new NHWC value through a Transpose appended to `added`.
ValueId to_nhwc(Graph& g, ValueId v, const std::string& name, std::vector<Node>& added) {
    Shape s = *static_shape(g, v);
    ValueId t = add_intermediate(g, g.value(v).name + "/nhwc", g.value(v).dtype, permuted(s, kToNhwc));
    added.push_back(transpose_node(name, v, t, kToNhwc));
    return t;
}

}  // namespace

int fuse_qdq(Graph& g) {
    int fused = 0;
    auto uses = compute_uses(g);
    std::vector<bool> dead(g.nodes.size(), false);
    std::vector<Node> added;
    const size_t count = g.nodes.size();
    for (size_t i = 0; i < count; ++i) {
        if (dead[i]) continue;
        const Node& n = g.nodes[i];
        const bool conv = is_op(n, "Conv"), gemm = is_op(n, "Gemm");
        const bool pool = is_op(n, "MaxPool"), reshape = is_op(n, "Flatten") || is_op(n, "Reshape");
        const bool add = is_op(n, "Add");
        if (is_op(n, "Concat") && n.outputs.size() == 1) {
            const Use* u = single_use(g, uses, n.outputs[0]);
            if (!u || !is_op(g.nodes[u->node], "QuantizeLinear") || u->input != 0 || dead[u->node]) continue;
            auto y = per_tensor_u8(g, g.nodes[u->node]);
            if (!y || g.value(g.nodes[u->node].outputs[0]).dtype != DType::U8) continue;
            std::vector<QParam> ins;
            for (ValueId v : n.inputs) {
                auto q = dq_activation(g, v);
                if (!q || !static_shape(g, v)) break;
                ins.push_back(*q);
            }
            if (ins.size() != n.inputs.size() || ins.empty()) continue;
            Node c = n;
            c.name = n.name + "/int8";
            for (size_t k = 0; k < ins.size(); ++k) {
                c.inputs[k] = ins[k].q;
                if (ins[k] == *y) continue;
                Node r;
                r.name = n.name + "/requant" + std::to_string(k);
                r.domain = "edgecnn";
                r.op_type = "QRequant";
                r.attrs["a_scale"] = make_attr_float(ins[k].scale);
                r.attrs["a_zero_point"] = make_attr_int(ins[k].zero);
                r.attrs["y_scale"] = make_attr_float(y->scale);
                r.attrs["y_zero_point"] = make_attr_int(y->zero);
                ValueId rv = add_intermediate(g, g.value(ins[k].q).name + "/requant", DType::U8, *static_shape(g, n.inputs[k]));
                r.inputs = {ins[k].q};
                r.outputs = {rv};
                c.inputs[k] = rv;
                added.push_back(std::move(r));
            }
            c.outputs[0] = g.nodes[u->node].outputs[0];
            added.push_back(std::move(c));
            dead[i] = dead[u->node] = true;
            ++fused;
            continue;
        }
        const bool avg = is_op(n, "AveragePool") || is_op(n, "GlobalAveragePool");
        if (!(conv || gemm || pool || reshape || add || avg) || n.inputs.empty() || n.outputs.size() != 1) continue;
        auto x = dq_activation(g, n.inputs[0]);
        if (!x) continue;
        auto xs = static_shape(g, n.inputs[0]);
        auto ys = static_shape(g, n.outputs[0]);
        if (!xs || !ys) continue;
        if (pool || reshape) {
            // Same scale on both sides: the op moves or selects uint8 values exactly.
            const Use* u = single_use(g, uses, n.outputs[0]);
            if (!u || !is_op(g.nodes[u->node], "QuantizeLinear") || u->input != 0) continue;
            auto y = per_tensor_u8(g, g.nodes[u->node]);
            if (!y || !(*y == *x) || g.value(g.nodes[u->node].outputs[0]).dtype != DType::U8) continue;
            const ValueId yq = g.nodes[u->node].outputs[0];
            if (reshape) {
                Node r = n;
                r.inputs[0] = x->q;
                r.outputs[0] = yq;
                added.push_back(std::move(r));
            } else {
                if (xs->size() != 4 || node_int_attr(n, "storage_order", 0) != 0) continue;
                const auto w = pool_window_2d(n);
                if (!w) continue;
                Node mp;
                mp.name = n.name + "/int8";
                mp.domain = "edgecnn";
                mp.op_type = "QMaxPoolNhwc";
                mp.attrs["kernel_shape"] = ints_attr(w->kernel);
                mp.attrs["strides"] = ints_attr(w->strides);
                mp.attrs["pads"] = ints_attr(w->pads);
                mp.attrs["output_size"] = ints_attr({(*ys)[2], (*ys)[3]});
                mp.inputs = {to_nhwc(g, x->q, mp.name + "/in", added)};
                ValueId yn = add_intermediate(g, g.value(yq).name + "/nhwc", DType::U8, permuted(*ys, kToNhwc));
                mp.outputs = {yn};
                added.push_back(transpose_node(mp.name + "/out", yn, yq, kToNchw));
                added.push_back(std::move(mp));
            }
            dead[i] = dead[u->node] = true;
            ++fused;
            continue;
        }
        if (avg) {
            const Use* u = single_use(g, uses, n.outputs[0]);
            if (!u || !is_op(g.nodes[u->node], "QuantizeLinear") || u->input != 0 || dead[u->node] || xs->size() != 4) continue;
            auto y = per_tensor_u8(g, g.nodes[u->node]);
            if (!y || g.value(g.nodes[u->node].outputs[0]).dtype != DType::U8) continue;
            Node ap;
            ap.name = n.name + "/int8";
            ap.domain = "edgecnn";
            ap.op_type = "QAvgPoolNhwc";
            if (is_op(n, "GlobalAveragePool")) {
                ap.attrs["global"] = make_attr_int(1);
            } else {
                if (node_int_attr(n, "ceil_mode", 0) != 0) continue;
                const auto w = pool_window_2d(n);
                if (!w) continue;
                ap.attrs["kernel_shape"] = ints_attr(w->kernel);
                ap.attrs["strides"] = ints_attr(w->strides);
                ap.attrs["pads"] = ints_attr(w->pads);
                ap.attrs["output_size"] = ints_attr({(*ys)[2], (*ys)[3]});
                ap.attrs["count_include_pad"] = make_attr_int(node_int_attr(n, "count_include_pad", 0));
            }
            ap.attrs["x_scale"] = make_attr_float(x->scale);
            ap.attrs["x_zero_point"] = make_attr_int(x->zero);
            ap.attrs["y_scale"] = make_attr_float(y->scale);
            ap.attrs["y_zero_point"] = make_attr_int(y->zero);
            const ValueId yq = g.nodes[u->node].outputs[0];
            ap.inputs = {to_nhwc(g, x->q, ap.name + "/in", added)};
            ValueId yn = add_intermediate(g, g.value(yq).name + "/nhwc", DType::U8, permuted(*ys, kToNhwc));
            ap.outputs = {yn};
            added.push_back(transpose_node(ap.name + "/out", yn, yq, kToNchw));
            added.push_back(std::move(ap));
            dead[i] = dead[u->node] = true;
            ++fused;
            continue;
        }
        auto tail = quantized_tail(g, uses, n.outputs[0]);
        // A Gemm with no Q after it (the classifier, whose float output leaves the model)
        // still runs int8, with a float epilogue (QGemm float_output).
        const bool float_out = !tail && gemm && g.value(n.outputs[0]).dtype == DType::F32;
        if (!tail && !float_out) continue;
        bool skip = false;
        if (tail)
            for (size_t t : tail->nodes) skip = skip || dead[t];
        if (skip) continue;
        if (add) {
            auto b = n.inputs.size() == 2 ? dq_activation(g, n.inputs[1]) : std::nullopt;
            auto bs = n.inputs.size() == 2 ? static_shape(g, n.inputs[1]) : std::nullopt;
            if (!b || !bs || *bs != *xs || *ys != *xs) continue;
            Node q;
            q.name = n.name + "/int8";
            q.domain = "edgecnn";
            q.op_type = "QAdd";
            q.attrs["a_scale"] = make_attr_float(x->scale);
            q.attrs["a_zero_point"] = make_attr_int(x->zero);
            q.attrs["b_scale"] = make_attr_float(b->scale);
            q.attrs["b_zero_point"] = make_attr_int(b->zero);
            q.attrs["y_scale"] = make_attr_float(tail->y.scale);
            q.attrs["y_zero_point"] = make_attr_int(tail->y.zero);
            q.attrs["act_lo"] = make_attr_int(tail->lo);
            q.attrs["act_hi"] = make_attr_int(tail->hi);
            q.inputs = {x->q, b->q};
            q.outputs = {tail->y.q};
            added.push_back(std::move(q));
        } else if (conv) {
            if (xs->size() != 4 || n.inputs.size() < 2) continue;
            auto w = dq_weight(g, n.inputs[1], 0);
            if (!w || w->w->rank() != 4) continue;
            const int64_t oc = w->w->dim(0);
            const Attribute* ap = n.attr("auto_pad");
            if (ap && ap->s != "NOTSET" && ap->s != "VALID") continue;
            std::vector<int64_t> pads = {0, 0, 0, 0};
            if (const Attribute* p = n.attr("pads"); p && !(ap && ap->s == "VALID")) {
                if (p->ints.size() != 4) continue;
                pads = p->ints;
            }
            std::vector<float> b(size_t(oc), 0.f);
            if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
                auto rb = real_bias(g, n.inputs[2], oc);
                if (!rb) continue;
                b = *rb;
            }
            auto bq = quantize_bias(b, x->scale, w->scales);
            if (!bq) continue;
            Node q;
            q.name = n.name + "/int8";
            q.domain = "edgecnn";
            q.op_type = "QConvNhwc";
            const Attribute* st = n.attr("strides");
            const Attribute* dl = n.attr("dilations");
            q.attrs["strides"] = ints_attr(st ? st->ints : std::vector<int64_t>{1, 1});
            q.attrs["dilations"] = ints_attr(dl ? dl->ints : std::vector<int64_t>{1, 1});
            q.attrs["pads"] = ints_attr(pads);
            q.attrs["group"] = make_attr_int(node_int_attr(n, "group", 1));
            set_q_attrs(q, *x, tail->y, w->scales, tail->lo, tail->hi);
            ValueId wv = add_constant(g, n.name + "/w_int8", *w->w);
            ValueId bv = add_constant(g, n.name + "/b_int32", *bq);
            q.inputs = {to_nhwc(g, x->q, q.name + "/in", added), wv, bv};
            ValueId yn = add_intermediate(g, g.value(tail->y.q).name + "/nhwc", DType::U8, permuted(*ys, kToNhwc));
            q.outputs = {yn};
            added.push_back(transpose_node(q.name + "/out", yn, tail->y.q, kToNchw));
            added.push_back(std::move(q));
        } else {
            // Gemm: Y = X W' + C with alpha = beta = 1, no transA.
            if (xs->size() != 2 || n.inputs.size() < 2 || node_int_attr(n, "transA", 0) != 0 ||
                node_float_attr(n, "alpha", 1.f) != 1.f || node_float_attr(n, "beta", 1.f) != 1.f)
                continue;
            const bool trans_b = node_int_attr(n, "transB", 0) != 0;
            auto w = dq_weight(g, n.inputs[1], trans_b ? 0 : 1);
            if (!w || w->w->rank() != 2) continue;
            const int64_t N = (*ys)[1], K = (*xs)[1];
            Tensor wnk(DType::I8, {N, K});
            for (int64_t r = 0; r < N; ++r)
                for (int64_t c = 0; c < K; ++c)
                    wnk.data<int8_t>()[r * K + c] = trans_b ? w->w->data<int8_t>()[r * K + c] : w->w->data<int8_t>()[c * N + r];
            std::vector<float> b(size_t(N), 0.f);
            if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
                auto rb = real_bias(g, n.inputs[2], N);  // a [N] (or [1,N]) bias only
                if (!rb) continue;
                b = *rb;
            }
            auto bq = quantize_bias(b, x->scale, w->scales);
            if (!bq) continue;
            Node q;
            q.name = n.name + "/int8";
            q.domain = "edgecnn";
            q.op_type = "QGemm";
            if (float_out) {
                QParam unit;  // y parameters unused by a float output
                set_q_attrs(q, *x, unit, w->scales, 0, 255);
                q.attrs["float_output"] = make_attr_int(1);
            } else {
                set_q_attrs(q, *x, tail->y, w->scales, tail->lo, tail->hi);
            }
            q.inputs = {x->q, add_constant(g, n.name + "/w_int8", wnk), add_constant(g, n.name + "/b_int32", *bq)};
            q.outputs = {float_out ? n.outputs[0] : tail->y.q};
            added.push_back(std::move(q));
        }
        dead[i] = true;
        if (tail)
            for (size_t t : tail->nodes) dead[t] = true;
        ++fused;
    }
    if (!fused) return 0;
    for (auto& a : added) {
        g.nodes.push_back(std::move(a));
        dead.push_back(false);
    }
    finish_pass(g, dead);
    remove_dead_code(g);
    verify_and_sort(g);
    return fused;
}

namespace {

bool is_edgecnn(const Node& n, const char* op) { return n.domain == "edgecnn" && n.op_type == op; }

// A QConvNhwc that can take a residual: none yet, and not depthwise (dwconv_u8s8 has no
// residual epilogue).
bool qconv_accepts_residual(const Graph& g, const Node& c) {
    if (!is_edgecnn(c, "QConvNhwc") || c.outputs.size() != 1 || c.inputs.size() < 2) return false;
    if (c.inputs.size() > 3 && c.inputs[3] != kNoValue) return false;
    const Tensor* w = constant_of(g, c.inputs[1]);
    if (!w || w->rank() != 4) return false;
    const int64_t group = node_int_attr(c, "group", 1);
    return !(group > 1 && group == w->dim(0) && w->dim(1) == 1);
}

}  // namespace

int fuse_qconv_residual(Graph& g) {
    const auto uses = compute_uses(g);
    std::vector<bool> dead(g.nodes.size(), false);
    int fused = 0;
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        const Node& add = g.nodes[n];
        if (!is_edgecnn(add, "QAdd") || add.inputs.size() != 2 || add.outputs.size() != 1) continue;
        auto zs = static_shape(g, add.outputs[0]);
        if (!zs || zs->size() != 4 || add.inputs[0] == add.inputs[1]) continue;
        bool attrs_ok = true;
        for (const char* key : {"a_scale", "a_zero_point", "b_scale", "b_zero_point", "y_scale", "y_zero_point"})
            attrs_ok = attrs_ok && add.attr(key);
        if (!attrs_ok) continue;  // QAdd's own checks report it
        int best = -1;
        int32_t best_producer = -1;
        for (int k = 0; k < 2; ++k) {
            const ValueId y = add.inputs[size_t(k)], r = add.inputs[size_t(1 - k)];
            const int32_t p = g.value(y).producer;
            if (p < 0 || dead[size_t(p)] || !qconv_accepts_residual(g, g.nodes[size_t(p)])) continue;
            if (uses[size_t(y)].size() != 1 || is_graph_output(g, y)) continue;
            auto ys = static_shape(g, y), rs = static_shape(g, r);
            if (!ys || !rs || *ys != *zs || *rs != *zs || g.value(r).dtype != DType::U8) continue;
            // The conv that runs later: its residual is then already computed.
            if (p > best_producer) best = k, best_producer = p;
        }
        if (best < 0) continue;
        Node& conv = g.nodes[size_t(best_producer)];
        // The conv output is the add's side `a` (the sum is symmetric: fa + fb == fb + fa).
        const char* self = best == 0 ? "a" : "b";
        const char* other = best == 0 ? "b" : "a";
        conv.attrs["add_a_scale"] = *add.attr(std::string(self) + "_scale");
        conv.attrs["add_a_zero_point"] = *add.attr(std::string(self) + "_zero_point");
        conv.attrs["add_b_scale"] = *add.attr(std::string(other) + "_scale");
        conv.attrs["add_b_zero_point"] = *add.attr(std::string(other) + "_zero_point");
        conv.attrs["add_y_scale"] = *add.attr("y_scale");
        conv.attrs["add_y_zero_point"] = *add.attr("y_zero_point");
        conv.attrs["add_lo"] = make_attr_int(node_int_attr(add, "act_lo", 0));
        conv.attrs["add_hi"] = make_attr_int(node_int_attr(add, "act_hi", 255));
        conv.inputs.resize(4, kNoValue);
        conv.inputs[3] = add.inputs[size_t(1 - best)];
        conv.outputs[0] = add.outputs[0];
        dead[n] = true;
        ++fused;
    }
    if (fused) finish_pass(g, dead);
    return fused;
}

}  // namespace edgecnn
