#include "runtime/session.hpp"

#include <algorithm>
#include <limits>
#include <new>
#include <map>

#include "base/cpu_topology.hpp"
#include "base/error.hpp"
#include "base/thread_pool.hpp"

namespace edgecnn {

namespace {

Error node_error(const Node& node, const Error& e) { return e.with_prefix(node.label() + ": "); }

// A kernel's own exception (std::invalid_argument for parameters it cannot take, bad_alloc)
// still becomes an Error naming the node. Kind Internal marks an engine bug (the op should
// have refused the node first); the ONNX fuzz target reports it as a finding.
Error internal_error(const Node& node, const std::exception& e) {
    if (dynamic_cast<const std::bad_alloc*>(&e)) return Error(ErrorKind::Limit, node.label() + ": out of memory");
    return Error(ErrorKind::Internal, node.label() + ": internal error: " + e.what());
}

}  // namespace

Session::Session(std::shared_ptr<const Graph> graph, SessionOptions options)
    : graph_(std::move(graph)), options_(std::move(options)) {
    const Graph& g = *graph_;
    const OpRegistry& reg = OpRegistry::instance();
    std::vector<std::string> problems;
    kernels_.resize(g.nodes.size());
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        const Node& node = g.nodes[n];
        // Internal ops made by the graph passes live in domain "edgecnn".
        if (!node.domain.empty() && node.domain != "ai.onnx" && node.domain != "edgecnn" && !reg.find_for(node, g.opset)) {
            problems.push_back(node.label() + ": op domain '" + node.domain + "' is not supported");
            continue;
        }
        // An optimized graph holds nodes the passes wrote, in their current form whatever
        // the model's opset (as Plan::compile looks them up).
        const OpDef* def = reg.find_for(node, g.optimized ? std::numeric_limits<int64_t>::max() : g.opset);
        if (!def) {
            problems.push_back(node.label() + ": op '" + node.op_type + "' is not supported");
            continue;
        }
        try {
            OpAttrs attrs(node, g.opset, &g);
            kernels_[n] = def->factory(attrs);
            for (const std::string& a : attrs.unread())
                problems.push_back(node.label() + ": attribute '" + a + "' is not supported");
        } catch (const Error& e) {
            problems.push_back(node.label() + ": " + e.what());
        } catch (const std::exception& e) {
            throw internal_error(node, e).with_prefix(source_prefix());
        }
    }
    if (!problems.empty()) {
        std::string msg = problems.size() == 1 ? problems[0]
                                                : std::to_string(problems.size()) + " unsupported or invalid nodes:";
        for (size_t i = 0; problems.size() > 1 && i < problems.size(); ++i) msg += "\n  " + problems[i];
        throw Error(ErrorKind::Unsupported, source_prefix() + msg);
    }
    for (const Value& v : g.values)
        if (v.constant) constant_bytes_ += int64_t(v.constant->nbytes());
    pool_ = options_.thread_pool
                ? options_.thread_pool
                : std::make_shared<ThreadPool>(std::max(1, options_.num_threads), ThreadPool::Tuning{},
                                               options_.big_cores_only ? big_cores() : std::vector<int>{});
}

void Session::bind_shapes(const std::vector<Shape>& input_shapes) {
    try {
        prepare(input_shapes);
    } catch (const Error& e) {
        throw e.with_prefix(source_prefix());
    }
}

int64_t Session::peak_memory_bytes() const {
    if (plan_)
        return plan_->constant_bytes() + plan_->packed_bytes() + plan_->arena_bytes() + plan_->workspace_bytes();
    return constant_bytes_ + peak_activation_bytes_;
}

Session::~Session() = default;

void Session::check_inputs(const NamedTensors& inputs) const {
    const Graph& g = *graph_;
    std::map<std::string, int64_t> bound;
    std::vector<bool> seen(g.inputs.size(), false);
    for (const auto& [name, t] : inputs) {
        size_t k = 0;
        while (k < g.inputs.size() && g.value(g.inputs[k]).name != name) ++k;
        if (k == g.inputs.size()) fail("the model has no input named '" + name + "'");
        if (seen[k]) fail("input '" + name + "' is given twice");
        seen[k] = true;
        const Value& v = g.value(g.inputs[k]);
        if (v.dtype != DType::Undefined && t.dtype() != v.dtype)
            fail("input '" + name + "' must be " + dtype_name(v.dtype) + ", got " + dtype_name(t.dtype()));
        if (!v.shape) continue;
        const auto& dims = *v.shape;
        std::string expected = "[";
        for (size_t d = 0; d < dims.size(); ++d)
            expected += (d ? "," : "") + (dims[d].is_static() ? std::to_string(dims[d].value)
                                                               : (dims[d].param.empty() ? "?" : dims[d].param));
        expected += "]";
        if (t.rank() != dims.size())
            fail("input '" + name + "' must have shape " + expected + ", got " + shape_str(t.shape()));
        for (size_t d = 0; d < dims.size(); ++d) {
            if (dims[d].is_static() && dims[d].value != t.dim(d))
                fail("input '" + name + "' must have shape " + expected + ", got " + shape_str(t.shape()));
            if (!dims[d].is_static() && !dims[d].param.empty()) {
                auto [it, inserted] = bound.emplace(dims[d].param, t.dim(d));
                if (!inserted && it->second != t.dim(d))
                    fail("input '" + name + "': dim '" + dims[d].param + "' is " + std::to_string(t.dim(d)) +
                         " here but " + std::to_string(it->second) + " in another input");
            }
        }
    }
    for (size_t k = 0; k < g.inputs.size(); ++k)
        if (!seen[k]) fail("input '" + g.value(g.inputs[k]).name + "' was not given");
}

// Specializes the graph for the bound input shapes as far as they determine it (constant
// and shape subgraphs folded, known shapes filled in) and makes its reference kernels:
// what run_interpreted evaluates, and where value_shapes() comes from.
void Session::prepare(const std::vector<Shape>& input_shapes) {
    bool complete = false;
    interp_graph_ = specialize_graph(*graph_, input_shapes, kernels_, &complete);
    const Graph& sg = *interp_graph_;
    value_shapes_.assign(sg.values.size(), std::nullopt);
    for (size_t v = 0; v < sg.values.size(); ++v) {
        const Value& val = sg.values[v];
        if (val.constant) {
            value_shapes_[v] = val.constant->shape();
        } else if (val.shape && std::all_of(val.shape->begin(), val.shape->end(), [](const Dim& d) { return d.is_static(); })) {
            Shape s;
            for (const Dim& d : *val.shape) s.push_back(d.value);
            value_shapes_[v] = s;
        }
    }
    const OpRegistry& reg = OpRegistry::instance();
    interp_kernels_.clear();
    for (const Node& node : sg.nodes) {
        OpAttrs attrs(node, sg.opset, &sg);
        interp_kernels_.push_back(reg.find_for(node, sg.optimized ? std::numeric_limits<int64_t>::max() : sg.opset)->factory(attrs));
    }
    last_use_.assign(sg.values.size(), -1);
    for (size_t n = 0; n < sg.nodes.size(); ++n)
        for (ValueId i : sg.nodes[n].inputs)
            if (i != kNoValue) last_use_[size_t(i)] = int32_t(n);
    for (ValueId o : sg.outputs) last_use_[size_t(o)] = int32_t(sg.nodes.size());
    prepared_shapes_ = input_shapes;
}

std::string Session::source_prefix() const { return graph_->source.empty() ? "" : graph_->source + ": "; }

NamedTensors Session::run(const NamedTensors& inputs) {
    try {
        return run_unchecked(inputs);
    } catch (const Error& e) {
        throw e.with_prefix(source_prefix());
    }
}

// Compiles the plan for `shapes` unless the current one is for them (or the model's shapes
// are known to depend on run-time values).
void Session::ensure_plan(const std::vector<Shape>& shapes) {
    if (interpret_) return;  // shapes depend on run-time values: no plan, ever
    if (!plan_ || shapes != plan_shapes_) {
        const Graph& g = *graph_;
        CompileOptions co;
        co.optimization_level = options_.optimization_level;
        co.pool = pool_.get();
        co.fpmath = options_.fpmath;
        plan_ = Plan::compile(g, kernels_, shapes, co);
        if (plan_ && options_.max_arena_bytes > 0 &&
            plan_->arena_bytes() + plan_->workspace_bytes() > options_.max_arena_bytes) {
            int64_t need = plan_->arena_bytes() + plan_->workspace_bytes();
            plan_.reset();
            throw Error(ErrorKind::Limit, "activations need " + std::to_string(need) + " bytes of arena, over the " +
                                              std::to_string(options_.max_arena_bytes) + "-byte limit");
        }
        if (plan_) plan_->set_profiling(options_.profile);
        plan_shapes_ = shapes;
        interpret_ = plan_ == nullptr;
    }
}

void Session::compile(const std::vector<Shape>& input_shapes) {
    try {
        if (input_shapes.size() != graph_->inputs.size())
            fail("compile: " + std::to_string(input_shapes.size()) + " shapes for " + std::to_string(graph_->inputs.size()) +
                 " inputs");
        ensure_plan(input_shapes);
    } catch (const Error& e) {
        throw e.with_prefix(source_prefix());
    }
}

NamedTensors Session::run_unchecked(const NamedTensors& inputs) {
    const Graph& g = *graph_;
    check_inputs(inputs);
    std::vector<Shape> shapes(g.inputs.size());
    std::vector<Tensor> values(g.values.size());
    for (const auto& [name, t] : inputs)
        for (size_t k = 0; k < g.inputs.size(); ++k)
            if (g.value(g.inputs[k]).name == name) {
                shapes[k] = t.shape();
                values[size_t(g.inputs[k])] = t;
            }
    ensure_plan(shapes);
    if (plan_) {
        std::vector<Tensor> ins(g.inputs.size());
        for (size_t k = 0; k < g.inputs.size(); ++k) ins[k] = values[size_t(g.inputs[k])];
        std::vector<Tensor> outs = plan_->execute(ins, options_.on_node_output);
        NamedTensors result;
        for (size_t k = 0; k < outs.size(); ++k) result.emplace_back(g.value(g.outputs[k]).name, outs[k]);
        return result;
    }
    return run_interpreted(values, shapes);
}

// Node-by-node evaluation for graphs whose shapes depend on run-time values.
NamedTensors Session::run_interpreted(std::vector<Tensor>& values, const std::vector<Shape>& shapes) {
    if (!interp_graph_ || shapes != prepared_shapes_) prepare(shapes);
    const Graph& g = *interp_graph_;
    for (size_t v = 0; v < g.values.size(); ++v)
        if (g.values[v].constant) values[v] = *g.values[v].constant;
    int64_t live_bytes = 0;
    for (ValueId i : g.inputs) live_bytes += int64_t(values[size_t(i)].nbytes());
    std::vector<ValueInfo> in, out;
    std::vector<const Tensor*> in_t;
    std::vector<Tensor*> out_t;
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        const Node& node = g.nodes[n];
        in.assign(node.inputs.size(), ValueInfo{});
        out.assign(node.outputs.size(), ValueInfo{});
        in_t.assign(node.inputs.size(), nullptr);
        out_t.assign(node.outputs.size(), nullptr);
        for (size_t i = 0; i < node.inputs.size(); ++i) {
            ValueId id = node.inputs[i];
            if (id == kNoValue) {
                in[i].present = false;
                continue;
            }
            const Tensor& t = values[size_t(id)];
            in[i].dtype = t.dtype();
            in[i].shape = t.shape();
            in[i].data = &t;
            in_t[i] = &t;
        }
        for (size_t o = 0; o < node.outputs.size(); ++o) out[o].present = node.outputs[o] != kNoValue;
        try {
            if (!interp_kernels_[n]->infer(in, out)) fail("could not infer output shapes with all inputs known");
            for (size_t o = 0; o < node.outputs.size(); ++o)
                if (out[o].present) {
                    values[size_t(node.outputs[o])] = Tensor(out[o].dtype, out[o].shape);
                    out_t[o] = &values[size_t(node.outputs[o])];
                    live_bytes += int64_t(out_t[o]->nbytes());
                }
            peak_activation_bytes_ = std::max(peak_activation_bytes_, live_bytes);
            interp_kernels_[n]->run(in_t, out_t);
        } catch (const Error& e) {
            throw node_error(node, e);
        } catch (const std::exception& e) {
            throw internal_error(node, e);
        }
        if (options_.on_node_output) {
            std::vector<std::pair<std::string, const Tensor*>> outs;
            for (ValueId o : node.outputs)
                if (o != kNoValue) outs.emplace_back(g.value(o).name, &values[size_t(o)]);
            options_.on_node_output(node, outs);
        }
        // Release intermediates after their last reader.
        for (ValueId i : node.inputs)
            if (i != kNoValue && last_use_[size_t(i)] == int32_t(n) && !g.value(i).constant && !values[size_t(i)].empty()) {
                live_bytes -= int64_t(values[size_t(i)].nbytes());
                values[size_t(i)] = Tensor();
            }
    }
    NamedTensors result;
    for (ValueId o : g.outputs) result.emplace_back(g.value(o).name, values[size_t(o)]);
    return result;
}

}  // namespace edgecnn
