#include "onnx/exporter.hpp"

#include <onnx/onnx_pb.h>

#include <fstream>
#include <set>

#include "base/error.hpp"
#include "onnx/onnx_tensor.hpp"

namespace edgecnn {

namespace {

void write_value_info(const Graph& g, ValueId v, onnx::ValueInfoProto* p) {
    const Value& val = g.value(v);
    p->set_name(val.name);
    auto* tt = p->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(int(val.dtype));
    if (val.shape) {
        auto* shape = tt->mutable_shape();
        for (const Dim& d : *val.shape) {
            auto* dim = shape->add_dim();
            if (d.is_static()) dim->set_dim_value(d.value);
            else if (!d.param.empty()) dim->set_dim_param(d.param);
        }
    }
}

void write_attribute(const Node& n, const std::string& key, const Attribute& a, onnx::AttributeProto* p) {
    using A = onnx::AttributeProto;
    p->set_name(key);
    switch (a.kind) {
        case Attribute::Kind::Int: p->set_type(A::INT); p->set_i(a.i); break;
        case Attribute::Kind::Float: p->set_type(A::FLOAT); p->set_f(a.f); break;
        case Attribute::Kind::String: p->set_type(A::STRING); p->set_s(a.s); break;
        case Attribute::Kind::Ints:
            p->set_type(A::INTS);
            for (int64_t v : a.ints) p->add_ints(v);
            break;
        case Attribute::Kind::Floats:
            p->set_type(A::FLOATS);
            for (float v : a.floats) p->add_floats(v);
            break;
        case Attribute::Kind::Strings:
            p->set_type(A::STRINGS);
            for (const auto& v : a.strings) p->add_strings(v);
            break;
        case Attribute::Kind::Tensor:
            p->set_type(A::TENSOR);
            if (a.t) tensor_to_proto(*a.t, "", p->mutable_t());
            break;
        case Attribute::Kind::Graph:
            fail_unsupported(n.label() + ": attribute '" + key + "' holds a subgraph, which the ONNX writer does not write");
    }
}

}  // namespace

std::string export_onnx_bytes(const Graph& g, int64_t opset) {
    onnx::ModelProto m;
    m.set_ir_version(std::max<int64_t>(g.ir_version, 7));
    m.set_producer_name("edgecnn");
    auto* op = m.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
    auto* gp = m.mutable_graph();
    gp->set_name(g.name.empty() ? "edgecnn" : g.name);
    std::set<ValueId> written;
    for (const Node& n : g.nodes) {
        if (!n.domain.empty() && n.domain != "ai.onnx")
            fail_unsupported(n.label() + " is an internal op (domain '" + n.domain + "'): not writable as ONNX");
        auto* np = gp->add_node();
        np->set_name(n.name);
        np->set_op_type(n.op_type);
        for (ValueId v : n.inputs) {
            np->add_input(v == kNoValue ? "" : g.value(v).name);
            if (v != kNoValue && g.value(v).constant && written.insert(v).second)
                tensor_to_proto(*g.value(v).constant, g.value(v).name, gp->add_initializer());
        }
        for (ValueId v : n.outputs) np->add_output(v == kNoValue ? "" : g.value(v).name);
        for (const auto& [key, a] : n.attrs) write_attribute(n, key, a, np->add_attribute());
    }
    for (ValueId v : g.inputs) write_value_info(g, v, gp->add_input());
    for (ValueId v : g.outputs) {
        if (g.value(v).constant && written.insert(v).second)
            tensor_to_proto(*g.value(v).constant, g.value(v).name, gp->add_initializer());
        write_value_info(g, v, gp->add_output());
    }
    std::string bytes;
    if (!m.SerializeToString(&bytes)) fail("could not serialize the ONNX model (over 2 GB?)");
    return bytes;
}

void export_onnx_file(const Graph& g, const std::string& path, int64_t opset) {
    std::string bytes = export_onnx_bytes(g, opset);
    std::ofstream f(path, std::ios::binary);
    if (!f) throw Error(ErrorKind::Io, "cannot write '" + path + "'");
    f.write(bytes.data(), std::streamsize(bytes.size()));
    if (!f) throw Error(ErrorKind::Io, "error writing '" + path + "'");
}

}  // namespace edgecnn
