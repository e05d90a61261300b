#include "passes/layout_nhwc.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>

#include "base/error.hpp"
#include "kernels/direct/conv_small_cin_f32.hpp"
#include "passes/graph_util.hpp"
#include "passes/passes.hpp"

namespace edgecnn {

using namespace passes;

namespace {

const std::vector<int64_t> kToNhwc = {0, 2, 3, 1};
const std::vector<int64_t> kToNchw = {0, 3, 1, 2};

Shape permuted(const Shape& s, const std::vector<int64_t>& perm) {
    Shape out(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) out[i] = s[size_t(perm[i])];
    return out;
}

std::vector<int64_t> inverse(const std::vector<int64_t>& perm) {
    std::vector<int64_t> inv(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) inv[size_t(perm[i])] = int64_t(i);
    return inv;
}

bool is_identity(const std::vector<int64_t>& perm) {
    for (size_t i = 0; i < perm.size(); ++i)
        if (perm[i] != int64_t(i)) return false;
    return true;
}

Attribute ints_attr(std::vector<int64_t> v) {
    Attribute a;
    a.kind = Attribute::Kind::Ints;
    a.ints = std::move(v);
    return a;
}

std::vector<int64_t> transpose_perm(const Graph& g, const Node& n) {
    const Attribute* a = n.attr("perm");
    if (a) return a->ints;
    auto s = static_shape(g, n.inputs[0]);
    std::vector<int64_t> perm(s ? s->size() : 0);
    for (size_t i = 0; i < perm.size(); ++i) perm[i] = int64_t(perm.size() - 1 - i);
    return perm;
}

Node make_transpose(const std::string& name, ValueId in, ValueId out, const std::vector<int64_t>& perm) {
    Node t;
    t.name = name;
    t.op_type = "Transpose";
    t.inputs = {in};
    t.outputs = {out};
    t.attrs["perm"] = ints_attr(perm);
    return t;
}

// Explicit [top, left, bottom, right] pads from a Conv/pool node's auto_pad/pads.
bool explicit_pads(const Node& n, const Shape& in_nchw, const std::vector<int64_t>& kernel,
                   const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations, std::vector<int64_t>& pads) {
    const Attribute* ap = n.attr("auto_pad");
    std::string mode = ap ? ap->s : "NOTSET";
    pads.assign(4, 0);
    if (mode == "NOTSET") {
        const Attribute* p = n.attr("pads");
        if (p) {
            if (p->ints.size() != 4) return false;
            pads = {p->ints[0], p->ints[1], p->ints[2], p->ints[3]};
        }
        return true;
    }
    if (mode == "VALID") return true;
    if (mode != "SAME_UPPER" && mode != "SAME_LOWER") return false;
    for (int d = 0; d < 2; ++d) {
        int64_t in = in_nchw[size_t(2 + d)];
        int64_t out = (in + strides[size_t(d)] - 1) / strides[size_t(d)];
        int64_t total = std::max<int64_t>(0, (out - 1) * strides[size_t(d)] + (kernel[size_t(d)] - 1) * dilations[size_t(d)] + 1 - in);
        int64_t small = total / 2, big = total - small;
        pads[size_t(d)] = mode == "SAME_UPPER" ? small : big;
        pads[size_t(d + 2)] = mode == "SAME_UPPER" ? big : small;
    }
    return true;
}

bool is_f32_4d(const Graph& g, ValueId v) {
    if (v == kNoValue) return false;
    auto s = static_shape(g, v);
    return s && s->size() == 4 && g.value(v).dtype == DType::F32;
}

// Ops whose output element depends only on the elements at the same position (after
// broadcasting) of their inputs: a transpose commutes with them.
bool is_elementwise(const Node& n) {
    static const std::set<std::string> ops = {
        "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Clip", "Elu", "Selu", "Softplus",
        "Softsign", "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Erf", "Floor", "Ceil", "Identity",
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "PRelu", "Where", "Equal", "Less",
        "Greater", "Not", "And", "Or", "Cast", "Gelu"};
    if (n.domain == "edgecnn") return n.op_type == "QAdd" || n.op_type == "QRequant";  // int8 (ops/quantize.cpp)
    return (n.domain.empty() || n.domain == "ai.onnx") && ops.count(n.op_type);
}

// Quantize/DequantizeLinear with one scale and zero point for the whole tensor act on each
// element alone (per-axis ones do not: their axis would move).
bool is_per_tensor_qdq(const Graph& g, const Node& n) {
    if (!(is_op(n, "QuantizeLinear") || is_op(n, "DequantizeLinear")) || n.inputs.size() < 2) return false;
    for (size_t i = 1; i < n.inputs.size(); ++i) {
        if (n.inputs[i] == kNoValue) continue;
        const Tensor* t = constant_of(g, n.inputs[i]);
        if (!t || t->numel() != 1) return false;
    }
    return true;
}

// Pad(Transpose(a, perm)) = Transpose(Pad(a, pads'), perm) with pads' the pads permuted
// back: every Pad mode commutes with a permutation of the axes.
bool push_through_pad(Graph& g, Node& c, ValueId a, const std::vector<int64_t>& perm, std::vector<Node>& added) {
    const size_t r = perm.size();
    if (c.outputs.size() != 1 || !static_shape(g, c.outputs[0])) return false;
    if (c.inputs.size() > 3 && c.inputs[3] != kNoValue) return false;  // opset-18 axes
    std::vector<int64_t> pads;
    bool from_attr = c.inputs.size() < 2 || c.inputs[1] == kNoValue;
    if (from_attr) {
        const Attribute* at = c.attr("pads");
        if (!at) return false;
        pads = at->ints;
    } else {
        const Tensor* t = constant_of(g, c.inputs[1]);
        if (!t || t->dtype() != DType::I64) return false;
        pads = t->to_i64();
    }
    if (pads.size() != 2 * r) return false;
    std::vector<int64_t> permuted_pads(2 * r);
    for (size_t i = 0; i < r; ++i) {
        permuted_pads[size_t(perm[i])] = pads[i];
        permuted_pads[r + size_t(perm[i])] = pads[r + i];
    }
    if (from_attr) c.attrs["pads"] = ints_attr(permuted_pads);
    else
        c.inputs[1] = add_constant(g, g.value(c.inputs[1]).name + "/nhwc",
                                   Tensor::from_vector<int64_t>(permuted_pads, {int64_t(2 * r)}));
    ValueId out = c.outputs[0];
    Shape oshape = *static_shape(g, out);
    ValueId nout = add_intermediate(g, g.value(out).name + "/nhwc", g.value(out).dtype, permuted(oshape, inverse(perm)));
    c.inputs[0] = a;
    c.outputs[0] = nout;
    added.push_back(make_transpose(c.name + "/post", nout, out, perm));
    return true;
}

}  // namespace

int convert_to_nhwc(Graph& g) {
    int converted = 0;
    std::vector<Node> out_nodes;
    std::vector<Node> added;
    for (Node& n : g.nodes) {
        bool conv = (is_op(n, "Conv") || is_fused_conv(n));
        bool maxpool = is_op(n, "MaxPool") && n.outputs.size() == 1 && node_int_attr(n, "storage_order", 0) == 0;
        bool avgpool = is_op(n, "AveragePool");
        bool gpool = is_op(n, "GlobalAveragePool") || is_op(n, "GlobalMaxPool");
        if (!(conv || maxpool || avgpool || gpool) || n.inputs.empty() || !is_f32_4d(g, n.inputs[0]) ||
            !is_f32_4d(g, n.outputs[0])) {
            out_nodes.push_back(std::move(n));
            continue;
        }
        Shape in_shape = *static_shape(g, n.inputs[0]);
        Shape out_shape = *static_shape(g, n.outputs[0]);
        Node nn;
        nn.name = n.name + "/nhwc";
        nn.domain = "edgecnn";
        if (conv) {
            const Tensor* w = f32_constant_of(g, n.inputs.size() > 1 ? n.inputs[1] : kNoValue);
            bool bias_ok = n.inputs.size() < 3 || n.inputs[2] == kNoValue || f32_constant_of(g, n.inputs[2]);
            if (!w || w->rank() != 4 || !bias_ok || (n.inputs.size() > 3 && n.inputs[3] != kNoValue && !is_f32_4d(g, n.inputs[3]))) {
                out_nodes.push_back(std::move(n));
                continue;
            }
            std::vector<int64_t> kernel = {w->dim(2), w->dim(3)};
            std::vector<int64_t> strides = node_ints_attr(n, "strides", {1, 1}), dil = node_ints_attr(n, "dilations", {1, 1}), pads;
            if (!explicit_pads(n, in_shape, kernel, strides, dil, pads)) {
                out_nodes.push_back(std::move(n));
                continue;
            }
            nn.op_type = "ConvNhwc";
            nn.attrs["strides"] = ints_attr(strides);
            nn.attrs["dilations"] = ints_attr(dil);
            nn.attrs["pads"] = ints_attr(pads);
            nn.attrs["group"] = make_attr_int(node_int_attr(n, "group", 1));
            for (const char* k : {"activation", "activation_alpha", "activation_beta"})
                if (const Attribute* a = n.attr(k)) nn.attrs[k] = *a;
        } else if (maxpool || avgpool) {
            std::vector<int64_t> kernel = node_ints_attr(n, "kernel_shape", {});
            if (kernel.size() != 2) {
                out_nodes.push_back(std::move(n));
                continue;
            }
            std::vector<int64_t> strides = node_ints_attr(n, "strides", {1, 1}), dil = node_ints_attr(n, "dilations", {1, 1}), pads;
            if (!explicit_pads(n, in_shape, kernel, strides, dil, pads)) {
                out_nodes.push_back(std::move(n));
                continue;
            }
            nn.op_type = maxpool ? "MaxPoolNhwc" : "AveragePoolNhwc";
            nn.attrs["kernel_shape"] = ints_attr(kernel);
            nn.attrs["strides"] = ints_attr(strides);
            nn.attrs["dilations"] = ints_attr(dil);
            nn.attrs["pads"] = ints_attr(pads);
            nn.attrs["output_size"] = ints_attr({out_shape[2], out_shape[3]});
            if (avgpool) nn.attrs["count_include_pad"] = make_attr_int(node_int_attr(n, "count_include_pad", 0));
        } else {
            nn.op_type = is_op(n, "GlobalAveragePool") ? "GlobalAveragePoolNhwc" : "GlobalMaxPoolNhwc";
        }
        // X (and the residual R of a fused conv) go through NCHW→NHWC transposes; the
        // result comes back through NHWC→NCHW into the node's original output value.
        for (size_t i = 0; i < n.inputs.size(); ++i) {
            ValueId v = n.inputs[i];
            bool activation = i == 0 || (conv && i == 3 && v != kNoValue);
            if (!activation) {
                nn.inputs.push_back(v);
                continue;
            }
            Shape s = *static_shape(g, v);
            ValueId t = add_intermediate(g, g.value(v).name + "/nhwc", DType::F32, permuted(s, kToNhwc));
            added.push_back(make_transpose(nn.name + "/in" + std::to_string(i), v, t, kToNhwc));
            nn.inputs.push_back(t);
        }
        ValueId y = add_intermediate(g, g.value(n.outputs[0]).name + "/nhwc", DType::F32, permuted(out_shape, kToNhwc));
        nn.outputs = {y};
        added.push_back(make_transpose(nn.name + "/out", y, n.outputs[0], kToNchw));
        out_nodes.push_back(std::move(nn));
        ++converted;
    }
    for (auto& a : added) out_nodes.push_back(std::move(a));
    g.nodes = std::move(out_nodes);
    verify_and_sort(g);
    return converted;
}

int sink_transposes(Graph& g) {
    int rewrites = 0;
    for (int round = 0; round < 1000; ++round) {
        bool changed = false;
        auto uses = compute_uses(g);
        std::vector<Node> added;
        for (size_t ti = 0; ti < g.nodes.size() && !changed; ++ti) {
            Node& t = g.nodes[ti];
            if (!is_op(t, "Transpose") || t.inputs.empty() || t.inputs[0] == kNoValue) continue;
            std::vector<int64_t> perm = transpose_perm(g, t);
            ValueId a = t.inputs[0], b = t.outputs[0];
            // Transpose of a transpose: compose (and vanish when the result is the identity).
            int32_t p = g.value(a).producer;
            if (p >= 0 && is_op(g.nodes[size_t(p)], "Transpose")) {
                const Node& q = g.nodes[size_t(p)];
                std::vector<int64_t> qperm = transpose_perm(g, q), composed(perm.size());
                for (size_t i = 0; i < perm.size(); ++i) composed[i] = qperm[size_t(perm[i])];
                ValueId x = q.inputs[0];
                if (is_identity(composed) && !is_graph_output(g, b)) {
                    replace_uses(g, b, x);
                } else {
                    t.inputs[0] = x;
                    t.attrs["perm"] = ints_attr(composed);
                }
                changed = true;
                break;
            }
            auto bshape = static_shape(g, b);
            if (!bshape) continue;
            std::vector<int64_t> inv = inverse(perm);
            for (const Use& u : uses[size_t(b)]) {
                Node& c = g.nodes[u.node];
                bool elementwise = is_elementwise(c) || is_per_tensor_qdq(g, c);
                bool concat = is_op(c, "Concat");
                if (is_op(c, "Pad") && u.input == 0 && push_through_pad(g, c, a, perm, added)) {
                    changed = true;
                    break;
                }
                if (!elementwise && !concat) continue;
                if (c.outputs.size() != 1 || !static_shape(g, c.outputs[0])) continue;
                // Every other input must be a constant (transposed here) or the output of
                // a transpose with the same permutation (which then cancels).
                std::vector<ValueId> new_inputs = c.inputs;
                bool ok = true;
                std::vector<std::pair<size_t, Tensor>> new_consts;
                for (size_t i = 0; i < c.inputs.size() && ok; ++i) {
                    ValueId v = c.inputs[i];
                    if (v == kNoValue) continue;
                    if (v == b) {
                        new_inputs[i] = a;
                        continue;
                    }
                    int32_t vp = g.value(v).producer;
                    if (vp >= 0 && is_op(g.nodes[size_t(vp)], "Transpose") && transpose_perm(g, g.nodes[size_t(vp)]) == perm) {
                        new_inputs[i] = g.nodes[size_t(vp)].inputs[0];
                        continue;
                    }
                    const Tensor* k = constant_of(g, v);
                    if (!k || (concat && k->rank() != perm.size())) {
                        ok = false;
                        break;
                    }
                    if (k->rank() == 0 || k->numel() == 1) continue;  // scalars broadcast in any layout
                    if (k->rank() > perm.size()) {
                        ok = false;
                        break;
                    }
                    Shape full(perm.size() - k->rank(), 1);
                    for (int64_t d : k->shape()) full.push_back(d);
                    // k' = transpose(k_full, inv): element-wise copy with permuted strides.
                    Tensor src = k->reshaped(full);
                    Shape ks = permuted(full, inv);
                    Tensor dst(k->dtype(), ks);
                    auto sst = strides_of(full), dstr = strides_of(ks);
                    size_t es = dtype_size(k->dtype());
                    for (int64_t e = 0; e < dst.numel(); ++e) {
                        int64_t rem = e, off = 0;
                        for (size_t d = 0; d < ks.size(); ++d) {
                            int64_t idx = rem / dstr[d];
                            rem %= dstr[d];
                            off += idx * sst[size_t(inv[d])];
                        }
                        std::memcpy(static_cast<char*>(dst.raw()) + e * int64_t(es),
                                    static_cast<const char*>(src.raw()) + off * int64_t(es), es);
                    }
                    new_consts.emplace_back(i, dst);
                }
                if (!ok) continue;
                for (auto& [i, tensor] : new_consts)
                    new_inputs[i] = add_constant(g, g.value(c.inputs[i]).name + "/nhwc", tensor);
                ValueId out = c.outputs[0];
                Shape oshape = *static_shape(g, out);
                ValueId nout = add_intermediate(g, g.value(out).name + "/nhwc", g.value(out).dtype, permuted(oshape, inv));
                c.inputs = new_inputs;
                c.outputs[0] = nout;
                if (concat) {
                    int64_t axis = node_int_attr(c, "axis", 0);
                    if (axis < 0) axis += int64_t(perm.size());
                    c.attrs["axis"] = make_attr_int(perm[size_t(axis)]);
                }
                added.push_back(make_transpose(c.name + "/post", nout, out, perm));
                changed = true;
                break;
            }
        }
        for (auto& n : added) g.nodes.push_back(std::move(n));
        if (!changed) break;
        ++rewrites;
        verify_and_sort(g);
        remove_dead_code(g);
        verify_and_sort(g);
    }
    // A transpose that only moves size-1 dims is a reshape: no data moves.
    for (Node& t : g.nodes) {
        if (!is_op(t, "Transpose") || t.inputs.empty()) continue;
        auto s = static_shape(g, t.inputs[0]);
        if (!s) continue;
        std::vector<int64_t> perm = transpose_perm(g, t), big;
        for (int64_t d : perm)
            if ((*s)[size_t(d)] != 1) big.push_back(d);
        if (!std::is_sorted(big.begin(), big.end())) continue;
        Shape out = permuted(*s, perm);
        ValueId shape_c = add_constant(g, g.value(t.outputs[0]).name + "/shape", Tensor::from_vector<int64_t>(out, {int64_t(out.size())}));
        t.op_type = "Reshape";
        t.attrs.clear();
        t.inputs.push_back(shape_c);
        ++rewrites;
    }
    verify_and_sort(g);
    remove_dead_code(g);
    verify_and_sort(g);
    return rewrites;
}

int read_small_conv_inputs_nchw(Graph& g) {
    // EDGECNN_NO_DIRECT_CONV sends these convs to im2col + GEMM (ops/nhwc.cpp), which needs NHWC.
    if (std::getenv("EDGECNN_NO_DIRECT_CONV")) return 0;
    int changed = 0;
    for (Node& n : g.nodes) {
        if (n.domain != "edgecnn" || n.op_type != "ConvNhwc" || n.inputs.empty() || n.inputs[0] == kNoValue) continue;
        if (node_int_attr(n, "group", 1) != 1 || node_int_attr(n, "input_nchw", 0) != 0) continue;
        const int32_t p = g.value(n.inputs[0]).producer;
        if (p < 0 || !is_op(g.nodes[size_t(p)], "Transpose")) continue;
        const Node& t = g.nodes[size_t(p)];
        if (t.inputs.empty() || transpose_perm(g, t) != kToNhwc || !is_f32_4d(g, t.inputs[0])) continue;
        if ((*static_shape(g, t.inputs[0]))[1] > kConvSmallCinMax) continue;
        n.inputs[0] = t.inputs[0];
        n.attrs["input_nchw"] = make_attr_int(1);
        ++changed;
    }
    if (changed) {
        remove_dead_code(g);
        verify_and_sort(g);
    }
    return changed;
}

}  // namespace edgecnn
