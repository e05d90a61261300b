#include <algorithm>
#include <cstdio>
#include <map>

#include "base/error.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "format/ecnn.hpp"

namespace edgecnn::cli {

namespace {
std::string dims_str(const Value& v) {
    if (!v.shape) return "(unknown shape)";
    std::string s = "[";
    for (size_t i = 0; i < v.shape->size(); ++i) {
        const Dim& d = (*v.shape)[i];
        s += (i ? "," : "") + (d.is_static() ? std::to_string(d.value) : (d.param.empty() ? "?" : d.param));
    }
    return s + "]";
}
}  // namespace

int cmd_info(const InfoArgs& a) {
    auto graph = load_model(a.model);
    const Graph& g = *graph;
    std::printf("model: %s\n", a.model.c_str());
    std::printf("ir_version: %lld  opset: %lld  producer: %s\n", (long long)g.ir_version, (long long)g.opset,
                g.producer.empty() ? "-" : g.producer.c_str());
    if (is_ecnn_file(a.model)) {
        EcnnInfo e = load_ecnn_file(a.model).info;
        std::printf("ecnn: version %u.%u  target %s  weights %s  graph %s  converter %s\n", e.version_major,
                    e.version_minor, e.target.c_str(), e.fp16_weights ? "fp16" : "fp32", g.optimized ? "optimized" : "as imported",
                    e.converter.empty() ? "-" : e.converter.c_str());
        auto pre = g.metadata.find("preprocess");
        if (pre != g.metadata.end()) std::printf("preprocess: %s\n", pre->second.c_str());
        auto cls = g.metadata.find("class_names");
        if (cls != g.metadata.end())
            std::printf("class names: %zu\n", size_t(std::count(cls->second.begin(), cls->second.end(), '\n')));
    }
    std::map<std::string, Shape> given;
    for (const auto& s : a.input_shapes) {
        auto eq = s.find('=');
        if (eq == std::string::npos) fail("--input-shape wants NAME=1x3x224x224, got '" + s + "'");
        given[s.substr(0, eq)] = parse_shape(s.substr(eq + 1));
    }
    std::printf("inputs:\n");
    std::vector<Shape> bound;
    bool all_bound = true;
    for (ValueId id : g.inputs) {
        const Value& v = g.value(id);
        std::printf("  %s: %s %s\n", v.name.c_str(), dtype_name(v.dtype).c_str(), dims_str(v).c_str());
        Shape s;
        if (given.count(v.name)) {
            s = given[v.name];
        } else if (v.shape) {
            for (size_t i = 0; i < v.shape->size(); ++i) {
                const Dim& d = (*v.shape)[i];
                if (d.is_static()) s.push_back(d.value);
                else if (i == 0) s.push_back(1);  // a dynamic leading dim is the batch
                else all_bound = false;
            }
        } else {
            all_bound = false;
        }
        bound.push_back(s);
    }
    std::printf("outputs:\n");
    for (ValueId id : g.outputs) {
        const Value& v = g.value(id);
        std::printf("  %s: %s %s\n", v.name.c_str(), dtype_name(v.dtype).c_str(), dims_str(v).c_str());
    }
    std::map<std::string, int> hist;
    for (const Node& n : g.nodes) hist[(n.domain.empty() ? "" : n.domain + ".") + n.op_type]++;
    std::printf("nodes: %zu\nops:\n", g.nodes.size());
    for (const auto& [op, count] : hist) std::printf("  %-28s %d\n", op.c_str(), count);
    std::printf("parameters: %lld\n", (long long)g.parameter_count());
    if (!all_bound) {
        std::printf("MACs: unknown (bind dynamic dims with --input-shape NAME=1x3xHxW)\n");
        return 0;
    }
    Session session(graph);
    session.bind_shapes(bound);
    int64_t macs = count_macs(g, session.value_shapes());
    std::string shapes;
    for (size_t k = 0; k < bound.size(); ++k) shapes += (k ? ", " : "") + g.value(g.inputs[k]).name + "=" + shape_str(bound[k]);
    if (macs < 0) std::printf("MACs: unknown (shapes depend on input values)\n");
    else std::printf("MACs: %lld (%.3f G) at %s\n", (long long)macs, double(macs) / 1e9, shapes.c_str());
    return 0;
}

}  // namespace edgecnn::cli
