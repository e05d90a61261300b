// The engine's own graph IR: values (typed, shaped, maybe constant), nodes with
// attributes, and the graph's inputs and outputs. Independent of ONNX's protobufs.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/tensor.hpp"

namespace edgecnn {

// One dimension of a declared shape: a fixed size, a named dynamic dim ("batch"),
// or unknown (neither).
struct Dim {
    int64_t value = -1;
    std::string param;
    bool is_static() const { return value >= 0; }
};

struct Attribute {
    enum class Kind { Int, Float, String, Ints, Floats, Strings, Tensor, Graph };
    Kind kind = Kind::Int;
    int64_t i = 0;
    float f = 0.f;
    std::string s;
    std::vector<int64_t> ints;
    std::vector<float> floats;
    std::vector<std::string> strings;
    std::shared_ptr<Tensor> t;
};
const char* attribute_kind_name(Attribute::Kind k);

using ValueId = int32_t;
constexpr ValueId kNoValue = -1;

struct Value {
    std::string name;
    DType dtype = DType::Undefined;
    std::optional<std::vector<Dim>> shape;  // declared shape, if any
    std::shared_ptr<const Tensor> constant;  // initializer / Constant / folded value
    int32_t producer = -1;                   // node index, -1 for inputs and constants
};

struct Node {
    std::string name;
    std::string op_type;
    std::string domain;  // "" for the default ONNX domain
    std::vector<ValueId> inputs;   // kNoValue marks an omitted optional input
    std::vector<ValueId> outputs;  // kNoValue marks an omitted optional output
    std::map<std::string, Attribute> attrs;

    const Attribute* attr(const std::string& key) const {
        auto it = attrs.find(key);
        return it == attrs.end() ? nullptr : &it->second;
    }
    // "node 'conv1' (Conv)" — how messages name a node.
    std::string label() const;
};

struct Graph {
    std::string name;
    std::string source;  // file the graph came from, for messages
    int64_t ir_version = 0;
    int64_t opset = 0;   // default-domain opset the model imports
    std::string producer;
    std::vector<Value> values;
    std::vector<Node> nodes;  // topologically ordered after verify()
    std::vector<ValueId> inputs;   // runtime inputs (not constants)
    std::vector<ValueId> outputs;
    // True when the graph is already specialized and optimized (fused, NHWC) — an .ecnn
    // file converted with static shapes: the runtime skips its own passes.
    bool optimized = false;
    // Free-form model metadata carried by .ecnn files: "preprocess" (JSON, defined by
    // src/vision) and "class_names" (one per line).
    std::map<std::string, std::string> metadata;

    ValueId add_value(Value v);
    ValueId find(const std::string& name) const;  // kNoValue if none
    const Value& value(ValueId id) const { return values.at(size_t(id)); }
    Value& value(ValueId id) { return values.at(size_t(id)); }
    // Number of parameters held in constant values (float or integer weights).
    int64_t parameter_count() const;

private:
    std::map<std::string, ValueId> by_name_;
};

// Checks structure and puts nodes in topological order: every input is produced,
// a graph input, or a constant; each value has one producer; no cycles; outputs exist.
// Throws Error(Invalid) naming the node and tensor at fault.
void verify_and_sort(Graph& g);

}  // namespace edgecnn
