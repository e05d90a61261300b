// Small helpers the graph passes share: who reads a value, static shapes, new constants,
// rewiring uses, and removing nodes. Passes work on a graph whose Value::producer fields
// are current (verify_and_sort sets them) and call finish_pass() when done.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "base/tensor.hpp"
#include "ir/graph.hpp"
#include "ops/op.hpp"

namespace edgecnn::passes {

struct Use {
    size_t node;   // index into Graph::nodes
    size_t input;  // input slot of that node
};

// Per value: every (node, input slot) that reads it. Graph outputs are not uses; ask
// is_graph_output() for them.
std::vector<std::vector<Use>> compute_uses(const Graph& g);
bool is_graph_output(const Graph& g, ValueId v);

// The value's shape when it is fully known: a constant's shape, else the declared
// Value::shape when every dim is static.
std::optional<Shape> static_shape(const Graph& g, ValueId v);
// The value's constant tensor, or null.
const Tensor* constant_of(const Graph& g, ValueId v);
// A float32 constant, or null (other dtypes and non-constants).
const Tensor* f32_constant_of(const Graph& g, ValueId v);

// A name no value has yet: `base`, else `base_2`, `base_3`, ...
std::string unique_value_name(const Graph& g, const std::string& base);
// Adds a constant value (name made unique) with dtype and static shape filled in.
ValueId add_constant(Graph& g, const std::string& name, Tensor t);
// Adds an intermediate value (name made unique) with the given dtype and shape.
ValueId add_intermediate(Graph& g, const std::string& name, DType dtype, const Shape& shape);

// Every node input reading `from` reads `to` instead (graph outputs are not changed).
void replace_uses(Graph& g, ValueId from, ValueId to);

// Removes the nodes marked dead (keeping the others' order) and recomputes producers.
void erase_nodes(Graph& g, const std::vector<bool>& dead);
// Sets Value::producer from the current nodes (without sorting).
void recompute_producers(Graph& g);

// Ends a pass that changed something: removes dead nodes, re-sorts topologically and
// recomputes producers (verify_and_sort).
void finish_pass(Graph& g, const std::vector<bool>& dead);

// The Conv attribute names FusedConv shares with Conv.
const std::vector<std::string>& conv_attribute_names();

// Attribute constructors.
Attribute make_attr_int(int64_t v);
Attribute make_attr_float(float v);
Attribute make_attr_string(std::string v);

// Float attribute `key` of `n`, or `def` when absent (or of another kind).
float node_float_attr(const Node& n, const std::string& key, float def);
int64_t node_int_attr(const Node& n, const std::string& key, int64_t def);
// Ints attribute `key` of `n`, or `def` when absent (or of another kind).
std::vector<int64_t> node_ints_attr(const Node& n, const std::string& key, std::vector<int64_t> def);

// The node's reference kernel from the OpRegistry (domain "" / "ai.onnx" / "edgecnn"),
// or null when the op is unknown or its attributes are rejected.
std::unique_ptr<OpKernel> make_kernel(const Graph& g, const Node& n);

// Runs the node's infer() with its inputs' static shapes (and constant data) and writes
// dtype and shape of its outputs; false (nothing written) when an input shape is unknown
// or the kernel cannot tell. Defined in infer_shapes.cpp.
bool infer_node_shapes(Graph& g, const Node& node);

bool is_op(const Node& n, const char* op_type);  // default ONNX domain
bool is_fused_conv(const Node& n);              // edgecnn.FusedConv
// The node's FusedConv activation attribute ("none" when absent).
std::string fused_activation(const Node& n);
// Turns a Conv node into an edgecnn.FusedConv with activation "none" (same inputs and
// attributes); a FusedConv is left as it is.
void to_fused_conv(Node& n);

}  // namespace edgecnn::passes
