#include "ir/graph.hpp"

#include "base/error.hpp"

namespace edgecnn {

const char* attribute_kind_name(Attribute::Kind k) {
    switch (k) {
        case Attribute::Kind::Int: return "int";
        case Attribute::Kind::Float: return "float";
        case Attribute::Kind::String: return "string";
        case Attribute::Kind::Ints: return "ints";
        case Attribute::Kind::Floats: return "floats";
        case Attribute::Kind::Strings: return "strings";
        case Attribute::Kind::Tensor: return "tensor";
        case Attribute::Kind::Graph: return "graph";
    }
    return "?";
}

std::string Node::label() const { return "node '" + name + "' (" + op_type + ")"; }

ValueId Graph::add_value(Value v) {
    auto it = by_name_.find(v.name);
    if (it != by_name_.end() && !v.name.empty()) fail("tensor '" + v.name + "' is defined twice");
    ValueId id = ValueId(values.size());
    if (!v.name.empty()) by_name_[v.name] = id;
    values.push_back(std::move(v));
    return id;
}

ValueId Graph::find(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? kNoValue : it->second;
}

int64_t Graph::parameter_count() const {
    int64_t n = 0;
    for (const Value& v : values)
        if (v.constant && v.producer < 0) n += v.constant->numel();
    return n;
}

void verify_and_sort(Graph& g) {
    const size_t nv = g.values.size();
    for (auto& v : g.values) v.producer = -1;
    std::vector<bool> is_input(nv, false);
    for (ValueId i : g.inputs) {
        if (is_input[size_t(i)]) fail("graph input '" + g.value(i).name + "' is listed twice");
        is_input[size_t(i)] = true;
    }
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        // Every ONNX op has at least one output; kernels index out[0] without checking.
        if (g.nodes[n].outputs.empty()) fail(g.nodes[n].label() + " has no outputs");
        for (ValueId o : g.nodes[n].outputs) {
            if (o == kNoValue) continue;
            Value& v = g.value(o);
            // Single assignment: a graph input's buffer is the caller's, with the caller's shape.
            if (is_input[size_t(o)]) fail(g.nodes[n].label() + " writes tensor '" + v.name + "', which is a graph input");
            if (v.producer >= 0)
                fail("tensor '" + v.name + "' is produced by both " + g.nodes[size_t(v.producer)].label() +
                     " and " + g.nodes[n].label());
            if (v.constant) fail(g.nodes[n].label() + " writes tensor '" + v.name + "', which is an initializer");
            v.producer = int32_t(n);
        }
    }
    for (const Node& node : g.nodes)
        for (ValueId i : node.inputs) {
            if (i == kNoValue) continue;
            const Value& v = g.value(i);
            if (v.producer < 0 && !v.constant && !is_input[size_t(i)])
                fail(node.label() + ": input tensor '" + v.name +
                     "' is not produced by any node and is neither a graph input nor an initializer");
        }
    for (ValueId o : g.outputs) {
        const Value& v = g.value(o);
        if (v.producer < 0 && !v.constant && !is_input[size_t(o)])
            fail("graph output '" + v.name + "' is not produced by any node");
    }
    // Kahn's algorithm, stable: keeps the file's order where it is already valid.
    std::vector<int> pending(g.nodes.size(), 0);
    std::vector<std::vector<size_t>> users(g.nodes.size());
    for (size_t n = 0; n < g.nodes.size(); ++n)
        for (ValueId i : g.nodes[n].inputs) {
            if (i == kNoValue) continue;
            int32_t p = g.value(i).producer;
            if (p >= 0) {
                ++pending[n];
                users[size_t(p)].push_back(n);
            }
        }
    std::vector<size_t> order;
    order.reserve(g.nodes.size());
    std::set<size_t> ready;
    for (size_t n = 0; n < g.nodes.size(); ++n)
        if (pending[n] == 0) ready.insert(n);
    while (!ready.empty()) {
        size_t n = *ready.begin();
        ready.erase(ready.begin());
        order.push_back(n);
        for (size_t u : users[n])
            if (--pending[u] == 0) ready.insert(u);
    }
    if (order.size() != g.nodes.size()) {
        for (size_t n = 0; n < g.nodes.size(); ++n)
            if (pending[n] > 0) fail("the graph has a cycle through " + g.nodes[n].label());
    }
    std::vector<Node> sorted;
    sorted.reserve(order.size());
    for (size_t n : order) sorted.push_back(std::move(g.nodes[n]));
    g.nodes = std::move(sorted);
    for (size_t n = 0; n < g.nodes.size(); ++n)
        for (ValueId o : g.nodes[n].outputs)
            if (o != kNoValue) g.value(o).producer = int32_t(n);
}

}  // namespace edgecnn
