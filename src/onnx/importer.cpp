#include "onnx/importer.hpp"

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.hpp"
#include "onnx/onnx_tensor.hpp"

namespace edgecnn {

namespace {

// Opsets 1..6 are accepted too: ops whose definition changed reject the legacy
// attributes (consumed_inputs, broadcast, is_test) as unsupported, by name.
constexpr int64_t kMinOpset = 1;
constexpr int64_t kMaxOpset = 21;

// Names (tensors, nodes, ops, attributes) and string attributes past these lengths are
// refused with Error(Limit): no real model comes near them, and every message quotes names.
constexpr size_t kMaxNameBytes = 4096;
constexpr size_t kMaxStringAttributeBytes = 65536;

std::string clipped(const std::string& s) { return s.size() <= 64 ? s : s.substr(0, 64) + "..."; }

const std::string& checked_name(const std::string& s, const char* what) {
    if (s.size() > kMaxNameBytes)
        throw Error(ErrorKind::Limit, std::string(what) + " '" + clipped(s) + "' is " + std::to_string(s.size()) +
                                          " bytes long (limit " + std::to_string(kMaxNameBytes) + ")");
    return s;
}

// List attributes count against the tensor memory limit (max_tensor_bytes), like tensors.
void check_attribute_size(const onnx::AttributeProto& a) {
    int64_t count = int64_t(a.ints_size()) + a.floats_size() + a.strings_size();
    if (count > max_tensor_bytes() / 8)
        throw Error(ErrorKind::Limit, "attribute '" + clipped(a.name()) + "' holds " + std::to_string(count) +
                                          " values, more than the memory limit of " +
                                          std::to_string(max_tensor_bytes()) + " bytes allows");
    auto check_string = [&](const std::string& s) {
        if (s.size() > kMaxStringAttributeBytes)
            throw Error(ErrorKind::Limit, "attribute '" + clipped(a.name()) + "' holds a string of " +
                                              std::to_string(s.size()) + " bytes (limit " +
                                              std::to_string(kMaxStringAttributeBytes) + ")");
    };
    check_string(a.s());
    for (const auto& s : a.strings()) check_string(s);
}

void set_type(Value& v, const onnx::TypeProto& type, const std::string& what) {
    if (!type.has_tensor_type()) fail_unsupported(what + " '" + v.name + "' is not a tensor (sequences and maps are not supported)");
    const auto& tt = type.tensor_type();
    if (tt.elem_type() != 0) {
        if (!dtype_known(tt.elem_type()))
            fail_unsupported(what + " '" + v.name + "' has unsupported data type " + std::to_string(tt.elem_type()));
        v.dtype = DType(tt.elem_type());
    }
    if (tt.has_shape()) {
        std::vector<Dim> dims;
        for (const auto& d : tt.shape().dim()) {
            Dim dim;
            if (d.has_dim_value()) {
                if (d.dim_value() < 0) fail(what + " '" + v.name + "' declares a negative dimension");
                dim.value = d.dim_value();
            } else if (d.has_dim_param()) {
                dim.param = d.dim_param();
            }
            dims.push_back(dim);
        }
        v.shape = std::move(dims);
    }
}

Attribute convert_attribute(const onnx::AttributeProto& a, const std::string& base_dir) {
    check_attribute_size(a);
    Attribute out;
    using A = onnx::AttributeProto;
    switch (a.type()) {
        case A::INT: out.kind = Attribute::Kind::Int; out.i = a.i(); break;
        case A::FLOAT: out.kind = Attribute::Kind::Float; out.f = a.f(); break;
        case A::STRING: out.kind = Attribute::Kind::String; out.s = a.s(); break;
        case A::INTS: out.kind = Attribute::Kind::Ints; out.ints.assign(a.ints().begin(), a.ints().end()); break;
        case A::FLOATS: out.kind = Attribute::Kind::Floats; out.floats.assign(a.floats().begin(), a.floats().end()); break;
        case A::STRINGS: out.kind = Attribute::Kind::Strings; out.strings.assign(a.strings().begin(), a.strings().end()); break;
        case A::TENSOR:
            out.kind = Attribute::Kind::Tensor;
            out.t = std::make_shared<Tensor>(tensor_from_proto(a.t(), base_dir));
            break;
        default:
            // Graphs, sparse tensors and type protos: kept so the op can report them as unsupported.
            out.kind = Attribute::Kind::Graph;
            break;
    }
    return out;
}

// A Constant node whose value the importer can take directly becomes a constant value.
std::shared_ptr<Tensor> constant_node_value(const onnx::NodeProto& n, const std::string& base_dir) {
    if (n.attribute_size() != 1) return nullptr;
    const auto& a = n.attribute(0);
    check_attribute_size(a);
    if (a.name() == "value" && a.type() == onnx::AttributeProto::TENSOR)
        return std::make_shared<Tensor>(tensor_from_proto(a.t(), base_dir));
    if (a.name() == "value_float" && a.type() == onnx::AttributeProto::FLOAT)
        return std::make_shared<Tensor>(Tensor::scalar<float>(a.f()));
    if (a.name() == "value_int" && a.type() == onnx::AttributeProto::INT)
        return std::make_shared<Tensor>(Tensor::scalar<int64_t>(a.i()));
    if (a.name() == "value_floats" && a.type() == onnx::AttributeProto::FLOATS) {
        std::vector<float> v(a.floats().begin(), a.floats().end());
        return std::make_shared<Tensor>(Tensor::from_vector(v, {int64_t(v.size())}));
    }
    if (a.name() == "value_ints" && a.type() == onnx::AttributeProto::INTS) {
        std::vector<int64_t> v(a.ints().begin(), a.ints().end());
        return std::make_shared<Tensor>(Tensor::from_vector(v, {int64_t(v.size())}));
    }
    return nullptr;
}

std::shared_ptr<Graph> convert_model(const onnx::ModelProto& m, const std::string& base_dir) {
    auto g = std::make_shared<Graph>();
    g->ir_version = m.ir_version();
    g->producer = m.producer_name() + (m.producer_version().empty() ? "" : " " + m.producer_version());
    if (m.ir_version() < 3)
        fail_unsupported("IR version " + std::to_string(m.ir_version()) + " is not supported (need 3 or newer)");
    if (!m.has_graph()) fail("the model has no graph");
    int64_t opset = -1;
    std::string other_domains;
    for (const auto& os : m.opset_import()) {
        if (os.domain().empty() || os.domain() == "ai.onnx") opset = os.version();
        else other_domains += (other_domains.empty() ? "" : ", ") + os.domain();
    }
    if (opset < 0 && !other_domains.empty())
        fail_unsupported("the model uses only op domains that are not supported: " + other_domains);
    if (opset < 0) fail("the model imports no opset");
    if (opset < kMinOpset || opset > kMaxOpset)
        fail_unsupported("opset " + std::to_string(opset) + " is not supported (supported: " +
                         std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) + ")");
    g->opset = opset;
    const onnx::GraphProto& gp = m.graph();
    g->name = gp.name();
    if (gp.sparse_initializer_size() > 0) fail_unsupported("sparse initializers are not supported");

    for (const auto& init : gp.initializer()) {
        if (init.name().empty()) fail("an initializer has no name");
        Value v;
        v.name = checked_name(init.name(), "initializer name");
        try {
            v.constant = std::make_shared<const Tensor>(tensor_from_proto(init, base_dir));
        } catch (const Error& e) {
            throw e.with_prefix("initializer: ");
        }
        v.dtype = v.constant->dtype();
        g->add_value(std::move(v));
    }
    for (const auto& in : gp.input()) {
        ValueId existing = g->find(in.name());
        if (existing != kNoValue) {
            // An initializer listed as input (IR < 4) is a constant; any other repeat is an error.
            if (g->value(existing).constant) continue;
            fail("graph input '" + in.name() + "' is listed twice");
        }
        if (in.name().empty()) fail("a graph input has no name");
        Value v;
        v.name = checked_name(in.name(), "graph input name");
        set_type(v, in.type(), "graph input");
        g->inputs.push_back(g->add_value(std::move(v)));
    }
    auto value_for = [&](const std::string& name) -> ValueId {
        if (name.empty()) return kNoValue;
        ValueId id = g->find(name);
        if (id == kNoValue) {
            Value v;
            v.name = checked_name(name, "tensor name");
            id = g->add_value(std::move(v));
        }
        return id;
    };
    for (int k = 0; k < gp.node_size(); ++k) {
        const onnx::NodeProto& np = gp.node(k);
        checked_name(np.name(), "node name");
        checked_name(np.op_type(), "op type");
        checked_name(np.domain(), "op domain");
        std::string label = np.name().empty() ? np.op_type() + "_" + std::to_string(k) : np.name();
        try {
            bool default_domain = np.domain().empty() || np.domain() == "ai.onnx";
            if (default_domain && np.op_type() == "Constant" && np.output_size() == 1 && !np.output(0).empty()) {
                if (auto t = constant_node_value(np, base_dir)) {
                    ValueId id = value_for(np.output(0));
                    Value& v = g->value(id);
                    if (v.constant) fail("tensor '" + v.name + "' is defined twice");
                    v.constant = t;
                    v.dtype = t->dtype();
                    continue;
                }
            }
            Node node;
            node.name = label;
            node.op_type = np.op_type();
            node.domain = np.domain() == "ai.onnx" ? "" : np.domain();
            for (const auto& a : np.attribute()) {
                if (a.name().empty()) fail("an attribute has no name");
                checked_name(a.name(), "attribute name");
                if (node.attrs.count(a.name())) fail("attribute '" + a.name() + "' appears twice");
                node.attrs[a.name()] = convert_attribute(a, base_dir);
            }
            for (const auto& i : np.input()) node.inputs.push_back(value_for(i));
            for (const auto& o : np.output()) node.outputs.push_back(value_for(o));
            g->nodes.push_back(std::move(node));
        } catch (const Error& e) {
            throw e.with_prefix("node '" + label + "' (" + np.op_type() + "): ");
        }
    }
    for (const auto& out : gp.output()) {
        ValueId id = value_for(out.name());
        if (id == kNoValue) fail("a graph output has no name");
        Value& v = g->value(id);
        Value declared;
        declared.name = v.name;
        set_type(declared, out.type(), "graph output");
        if (v.dtype == DType::Undefined) v.dtype = declared.dtype;
        if (!v.shape) v.shape = declared.shape;
        g->outputs.push_back(id);
    }
    for (const auto& vi : gp.value_info()) {
        ValueId id = g->find(vi.name());
        if (id == kNoValue || !vi.type().has_tensor_type()) continue;
        Value& v = g->value(id);
        if (v.constant) continue;
        Value declared;
        declared.name = v.name;
        try {
            set_type(declared, vi.type(), "value");
        } catch (const Error&) {
            continue;  // value_info is advisory
        }
        if (v.dtype == DType::Undefined) v.dtype = declared.dtype;
        if (!v.shape) v.shape = declared.shape;
    }
    if (g->outputs.empty()) fail("the graph has no outputs");
    verify_and_sort(*g);
    return g;
}

}  // namespace

std::shared_ptr<Graph> import_onnx_bytes(const void* data, size_t size, const std::string& name,
                                         const ImportOptions& options) {
    if (size == 0) fail(name + ": the file is empty");
    if (size > size_t(INT32_MAX)) fail_unsupported(name + ": models over 2 GiB must keep weights in external data");
    onnx::ModelProto m;
    if (!m.ParseFromArray(data, int(size))) fail(name + ": not a valid ONNX model (protobuf parsing failed; truncated or not ONNX?)");
    try {
        auto g = convert_model(m, options.external_data_dir);
        g->source = name;
        return g;
    } catch (const Error& e) {
        throw e.with_prefix(name + ": ");
    }
}

std::shared_ptr<Graph> import_onnx_file(const std::string& path, const ImportOptions& options) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::Io, path + ": cannot open file");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string bytes = ss.str();
    ImportOptions opts = options;
    if (opts.external_data_dir.empty()) {
        auto parent = std::filesystem::path(path).parent_path();
        opts.external_data_dir = parent.empty() ? "." : parent.string();
    }
    return import_onnx_bytes(bytes.data(), bytes.size(), path, opts);
}

}  // namespace edgecnn
