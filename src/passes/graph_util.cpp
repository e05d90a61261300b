#include "passes/graph_util.hpp"

#include <algorithm>

#include "base/error.hpp"

namespace edgecnn::passes {

std::vector<std::vector<Use>> compute_uses(const Graph& g) {
    std::vector<std::vector<Use>> uses(g.values.size());
    for (size_t n = 0; n < g.nodes.size(); ++n)
        for (size_t i = 0; i < g.nodes[n].inputs.size(); ++i) {
            ValueId v = g.nodes[n].inputs[i];
            if (v != kNoValue) uses[size_t(v)].push_back({n, i});
        }
    return uses;
}

bool is_graph_output(const Graph& g, ValueId v) {
    return std::find(g.outputs.begin(), g.outputs.end(), v) != g.outputs.end();
}

std::optional<Shape> static_shape(const Graph& g, ValueId v) {
    if (v == kNoValue) return std::nullopt;
    const Value& val = g.value(v);
    if (val.constant) return val.constant->shape();
    if (!val.shape) return std::nullopt;
    Shape s;
    s.reserve(val.shape->size());
    for (const Dim& d : *val.shape) {
        if (!d.is_static()) return std::nullopt;
        s.push_back(d.value);
    }
    return s;
}

const Tensor* constant_of(const Graph& g, ValueId v) {
    if (v == kNoValue) return nullptr;
    const auto& c = g.value(v).constant;
    return c ? c.get() : nullptr;
}

const Tensor* f32_constant_of(const Graph& g, ValueId v) {
    const Tensor* t = constant_of(g, v);
    return t && t->dtype() == DType::F32 ? t : nullptr;
}

std::string unique_value_name(const Graph& g, const std::string& base) {
    if (g.find(base) == kNoValue) return base;
    for (int k = 2;; ++k) {
        std::string name = base + "_" + std::to_string(k);
        if (g.find(name) == kNoValue) return name;
    }
}

namespace {
std::vector<Dim> dims_of(const Shape& s) {
    std::vector<Dim> d(s.size());
    for (size_t i = 0; i < s.size(); ++i) d[i].value = s[i];
    return d;
}
}  // namespace

ValueId add_constant(Graph& g, const std::string& name, Tensor t) {
    Value v;
    v.name = unique_value_name(g, name);
    v.dtype = t.dtype();
    v.shape = dims_of(t.shape());
    v.constant = std::make_shared<const Tensor>(std::move(t));
    return g.add_value(std::move(v));
}

ValueId add_intermediate(Graph& g, const std::string& name, DType dtype, const Shape& shape) {
    Value v;
    v.name = unique_value_name(g, name);
    v.dtype = dtype;
    v.shape = dims_of(shape);
    return g.add_value(std::move(v));
}

void replace_uses(Graph& g, ValueId from, ValueId to) {
    for (Node& n : g.nodes)
        for (ValueId& i : n.inputs)
            if (i == from) i = to;
}

void recompute_producers(Graph& g) {
    for (Value& v : g.values) v.producer = -1;
    for (size_t n = 0; n < g.nodes.size(); ++n)
        for (ValueId o : g.nodes[n].outputs)
            if (o != kNoValue) g.value(o).producer = int32_t(n);
}

void erase_nodes(Graph& g, const std::vector<bool>& dead) {
    std::vector<Node> kept;
    kept.reserve(g.nodes.size());
    for (size_t n = 0; n < g.nodes.size(); ++n)
        if (n >= dead.size() || !dead[n]) kept.push_back(std::move(g.nodes[n]));
    g.nodes = std::move(kept);
    recompute_producers(g);
}

void finish_pass(Graph& g, const std::vector<bool>& dead) {
    erase_nodes(g, dead);
    verify_and_sort(g);
}

const std::vector<std::string>& conv_attribute_names() {
    static const std::vector<std::string> names = {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"};
    return names;
}

Attribute make_attr_int(int64_t v) {
    Attribute a;
    a.kind = Attribute::Kind::Int;
    a.i = v;
    return a;
}
Attribute make_attr_float(float v) {
    Attribute a;
    a.kind = Attribute::Kind::Float;
    a.f = v;
    return a;
}
Attribute make_attr_string(std::string v) {
    Attribute a;
    a.kind = Attribute::Kind::String;
    a.s = std::move(v);
    return a;
}

float node_float_attr(const Node& n, const std::string& key, float def) {
    const Attribute* a = n.attr(key);
    return a && a->kind == Attribute::Kind::Float ? a->f : def;
}
int64_t node_int_attr(const Node& n, const std::string& key, int64_t def) {
    const Attribute* a = n.attr(key);
    return a && a->kind == Attribute::Kind::Int ? a->i : def;
}

std::vector<int64_t> node_ints_attr(const Node& n, const std::string& key, std::vector<int64_t> def) {
    const Attribute* a = n.attr(key);
    return a && a->kind == Attribute::Kind::Ints ? a->ints : def;
}

std::unique_ptr<OpKernel> make_kernel(const Graph& g, const Node& n) {
    const OpDef* def = OpRegistry::instance().find_for(n, g.opset);
    if (!def) return nullptr;
    try {
        OpAttrs attrs(n, g.opset, &g);
        auto k = def->factory(attrs);
        if (!attrs.unread().empty()) return nullptr;
        return k;
    } catch (const Error&) {
        return nullptr;
    }
}

bool is_op(const Node& n, const char* op_type) {
    return (n.domain.empty() || n.domain == "ai.onnx") && n.op_type == op_type;
}
bool is_fused_conv(const Node& n) { return n.domain == "edgecnn" && n.op_type == "FusedConv"; }

std::string fused_activation(const Node& n) {
    const Attribute* a = n.attr("activation");
    return a && a->kind == Attribute::Kind::String ? a->s : "none";
}

void to_fused_conv(Node& n) {
    if (is_fused_conv(n)) return;
    n.op_type = "FusedConv";
    n.domain = "edgecnn";
    n.attrs["activation"] = make_attr_string("none");
    n.attrs["activation_alpha"] = make_attr_float(0.f);
    n.attrs["activation_beta"] = make_attr_float(0.f);
}

}  // namespace edgecnn::passes
