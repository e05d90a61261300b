#include "ops/op.hpp"

#include <algorithm>
#include <list>
#include <mutex>

namespace edgecnn {
// ops/quantize.cpp: QuantizeLinear, DequantizeLinear and the int8 fast path's edgecnn.Q* ops.
void register_quant_ops(OpRegistry& r);

bool OpAttrs::has(const std::string& key) const {
    used_.insert(key);
    return node_.attr(key) != nullptr;
}

const Attribute& OpAttrs::get(const std::string& key, Attribute::Kind kind) const {
    used_.insert(key);
    const Attribute* a = node_.attr(key);
    if (!a) fail("required attribute '" + key + "' is missing");
    if (a->kind != kind)
        fail("attribute '" + key + "' should be of type " + attribute_kind_name(kind) + ", not " +
             attribute_kind_name(a->kind));
    return *a;
}

int64_t OpAttrs::get_int(const std::string& key) const { return get(key, Attribute::Kind::Int).i; }
int64_t OpAttrs::get_int(const std::string& key, int64_t def) const {
    return has(key) ? get_int(key) : def;
}
float OpAttrs::get_float(const std::string& key) const { return get(key, Attribute::Kind::Float).f; }
float OpAttrs::get_float(const std::string& key, float def) const { return has(key) ? get_float(key) : def; }
std::string OpAttrs::get_string(const std::string& key) const { return get(key, Attribute::Kind::String).s; }
std::string OpAttrs::get_string(const std::string& key, const std::string& def) const {
    return has(key) ? get_string(key) : def;
}
std::vector<int64_t> OpAttrs::get_ints(const std::string& key) const { return get(key, Attribute::Kind::Ints).ints; }
std::vector<int64_t> OpAttrs::get_ints(const std::string& key, const std::vector<int64_t>& def) const {
    return has(key) ? get_ints(key) : def;
}
std::vector<float> OpAttrs::get_floats(const std::string& key) const {
    return get(key, Attribute::Kind::Floats).floats;
}
std::vector<float> OpAttrs::get_floats(const std::string& key, const std::vector<float>& def) const {
    return has(key) ? get_floats(key) : def;
}
std::shared_ptr<Tensor> OpAttrs::get_tensor(const std::string& key) const {
    return get(key, Attribute::Kind::Tensor).t;
}

std::vector<std::string> OpAttrs::unread() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : node_.attrs)
        if (!used_.count(k) && k.rfind("_prepacked", 0) != 0) out.push_back(k);
    return out;
}

const Tensor* OpAttrs::prepacked(const std::string& slot, std::vector<int64_t>* meta) const {
    const Attribute* t = node_.attr(std::string(kPrepackedAttr) + slot);
    const Attribute* m = node_.attr(std::string(kPrepackedMetaAttr) + slot);
    if (!t || !m || t->kind != Attribute::Kind::Tensor || !t->t || m->kind != Attribute::Kind::Ints) return nullptr;
    if (meta) *meta = m->ints;
    return t->t.get();
}

const OpRegistry& OpRegistry::instance() {
    static const OpRegistry registry = [] {
        OpRegistry r;
        register_elementwise_ops(r);
        register_activation_ops(r);
        register_reduce_ops(r);
        register_nn_ops(r);
        register_pool_ops(r);
        register_resize_ops(r);
        register_tensor_ops(r);
        register_fused_ops(r);
        register_nhwc_ops(r);
        register_quant_ops(r);
        register_fast_eltwise_ops(r);
        return r;
    }();
    return registry;
}

void OpRegistry::add(const std::string& name, OpFactory f, int64_t min_opset) {
    defs_.push_back({name, std::move(f), min_opset});
}

void OpRegistry::decorate(const std::string& name, const std::function<OpFactory(OpFactory)>& wrap) {
    for (auto& d : defs_)
        if (d.name == name) d.factory = wrap(d.factory);
}

const OpDef* OpRegistry::find(const std::string& name) const {
    for (const auto& d : defs_)
        if (d.name == name) return &d;
    return nullptr;
}

namespace {
// Ops of other domains, registered at run time through the public API. OpDefs are never
// removed or moved (std::list), so the pointers find_for hands out stay valid.
struct CustomOps {
    std::mutex mutex;
    std::list<OpDef> defs;
};
CustomOps& custom_ops() {
    static CustomOps ops;
    return ops;
}
}  // namespace

void register_custom_op(const std::string& domain, const std::string& op_type, OpFactory f) {
    if (domain.empty() || domain == "ai.onnx" || domain == "edgecnn")
        fail("custom op '" + op_type + "': domain '" + domain + "' is reserved (use your own, e.g. com.example)");
    if (op_type.empty()) fail("custom op in domain '" + domain + "' needs a name");
    CustomOps& c = custom_ops();
    std::lock_guard<std::mutex> lock(c.mutex);
    std::string key = domain + "." + op_type;
    for (OpDef& d : c.defs)
        if (d.name == key) fail("custom op '" + key + "' is already registered");
    c.defs.push_back({key, std::move(f), 1});
}

const OpDef* OpRegistry::find_for(const Node& node, int64_t opset) const {
    if (node.domain == "edgecnn") return find("edgecnn." + node.op_type);
    if (!node.domain.empty() && node.domain != "ai.onnx") {
        CustomOps& c = custom_ops();
        std::lock_guard<std::mutex> lock(c.mutex);
        std::string key = node.domain + "." + node.op_type;
        for (const OpDef& d : c.defs)
            if (d.name == key) return &d;
        return nullptr;
    }
    const OpDef* def = find(node.op_type);
    return def && opset >= def->min_opset ? def : nullptr;
}

std::vector<std::string> OpRegistry::names() const {
    std::vector<std::string> out;
    for (const auto& d : defs_) out.push_back(d.name);
    std::sort(out.begin(), out.end());
    return out;
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
    size_t r = std::max(a.size(), b.size());
    Shape out(r);
    for (size_t i = 0; i < r; ++i) {
        int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
        int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
        if (da == db || db == 1) out[i] = da;
        else if (da == 1) out[i] = db;
        else fail("shapes " + shape_str(a) + " and " + shape_str(b) + " cannot be broadcast together");
    }
    return out;
}

int64_t normalize_axis(int64_t axis, int64_t rank) {
    if (axis < -rank || axis >= rank)
        fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    return axis < 0 ? axis + rank : axis;
}

void require_dtype(DType t, std::initializer_list<DType> allowed, const std::string& what) {
    for (DType a : allowed)
        if (a == t) return;
    fail_unsupported(what + " of type " + dtype_name(t) + " is not supported");
}

std::vector<int64_t> strides_of(const Shape& s) {
    std::vector<int64_t> st(s.size(), 1);
    for (size_t i = s.size(); i-- > 1;) st[i - 1] = st[i] * s[i];
    return st;
}

}  // namespace edgecnn
