#include "runtime/plan.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <new>

#include "base/cpu_topology.hpp"
#include "base/error.hpp"
#include "passes/fuse_qdq.hpp"
#include "passes/layout_nhwc.hpp"
#include "passes/pipeline.hpp"

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

std::vector<Dim> static_dims(const Shape& s) {
    std::vector<Dim> dims(s.size());
    for (size_t i = 0; i < s.size(); ++i) dims[i].value = s[i];
    return dims;
}

// Bytes of physical memory (0: unknown). A plan that needs more cannot run: it gets a clear
// error instead of an allocation the system (or a sanitizer's allocator) refuses late.
uint64_t physical_memory_bytes() {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 0;
}

std::shared_ptr<void> aligned_buffer(int64_t bytes) {
    const uint64_t phys = physical_memory_bytes();
    if (bytes < 0 || (phys > 0 && uint64_t(bytes) > phys))
        throw Error(ErrorKind::Limit, "the plan needs " + std::to_string(bytes) + " bytes of memory, more than this machine has (" +
                                          std::to_string(phys) + ")");
    size_t n = size_t(std::max<int64_t>(64, (bytes + 63) / 64 * 64));
    void* p = std::aligned_alloc(64, n);
    if (!p) throw Error(ErrorKind::Limit, "out of memory allocating " + std::to_string(n) + " bytes");
    return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

// Offsets for arena buffers: greedy by size, each placed at the lowest offset that does not
// overlap, in address and in lifetime, with a buffer placed before it.
struct Buffer {
    ValueId value;
    int64_t bytes;
    int32_t first, last;  // steps that write first and read last
    int64_t offset = -1;
};

int64_t plan_arena(std::vector<Buffer>& buffers) {
    std::vector<size_t> order(buffers.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });
    std::vector<size_t> placed;
    int64_t total = 0;
    for (size_t i : order) {
        Buffer& b = buffers[i];
        std::vector<std::pair<int64_t, int64_t>> busy;
        for (size_t j : placed) {
            const Buffer& o = buffers[j];
            if (o.last < b.first || b.last < o.first) continue;
            busy.emplace_back(o.offset, o.offset + o.bytes);
        }
        std::sort(busy.begin(), busy.end());
        int64_t offset = 0;
        for (const auto& [lo, hi] : busy) {
            if (offset + b.bytes <= lo) break;
            offset = std::max(offset, hi);
        }
        b.offset = offset;
        total = std::max(total, offset + b.bytes);
        placed.push_back(i);
    }
    return total;
}

}  // namespace

std::shared_ptr<Graph> specialize_graph(const Graph& g, const std::vector<Shape>& input_shapes,
                                        const std::vector<std::unique_ptr<OpKernel>>& kernels, bool* complete) {
    bool all_inferred = true;
    auto sg = std::make_shared<Graph>(g);
    std::vector<ValueInfo> info(g.values.size());
    std::vector<bool> known(g.values.size(), false);
    std::vector<std::shared_ptr<const Tensor>> folded(g.values.size());
    for (size_t v = 0; v < g.values.size(); ++v)
        if (g.values[v].constant) {
            folded[v] = g.values[v].constant;
            info[v].dtype = folded[v]->dtype();
            info[v].shape = folded[v]->shape();
            info[v].data = folded[v].get();
            known[v] = true;
        }
    for (size_t k = 0; k < g.inputs.size(); ++k) {
        size_t v = size_t(g.inputs[k]);
        info[v].dtype = g.values[v].dtype;
        info[v].shape = input_shapes[k];
        known[v] = true;
    }
    std::vector<bool> node_folded(g.nodes.size(), false);
    std::vector<Tensor> shape_only;  // data-less stand-ins for Shape/Size inputs
    shape_only.reserve(g.nodes.size());
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        const Node& node = g.nodes[n];
        std::vector<ValueInfo> in(node.inputs.size()), out(node.outputs.size());
        // Shape and Size read only their input's shape, which is bound here: they fold.
        bool reads_shape_only = (node.domain.empty() || node.domain == "ai.onnx") &&
                                (node.op_type == "Shape" || node.op_type == "Size") && node.inputs.size() == 1 &&
                                node.inputs[0] != kNoValue && known[size_t(node.inputs[0])] &&
                                !folded[size_t(node.inputs[0])];
        if (reads_shape_only) {
            size_t v = size_t(node.inputs[0]);
            shape_only.push_back(Tensor::view(info[v].dtype, info[v].shape, nullptr));
            folded[v] = std::shared_ptr<const Tensor>(std::shared_ptr<void>(), &shape_only.back());
        }
        bool all_const = true, inputs_known = true;
        for (size_t i = 0; i < node.inputs.size(); ++i) {
            ValueId id = node.inputs[i];
            if (id == kNoValue) {
                in[i].present = false;
                continue;
            }
            if (!known[size_t(id)]) inputs_known = false;  // after a node with run-time shapes
            if (!folded[size_t(id)]) all_const = false;
            in[i] = info[size_t(id)];
        }
        if (!inputs_known) {
            if (reads_shape_only) folded[size_t(node.inputs[0])].reset();
            continue;
        }
        for (size_t o = 0; o < node.outputs.size(); ++o) out[o].present = node.outputs[o] != kNoValue;
        try {
            if (!kernels[n]->infer(in, out)) {
                if (std::getenv("EDGECNN_DEBUG_PLAN")) std::fprintf(stderr, "plan: %s has run-time shapes\n", node.label().c_str());
                all_inferred = false;
                if (!complete) return nullptr;
                continue;
            }
            // DequantizeLinear of constant int8 weights stays a node: the int8 pass
            // (passes/fuse_qdq.cpp) reads the int8 values; optimize_graph folds the rest.
            const bool keep_dq = node.domain.empty() && node.op_type == "DequantizeLinear";
            if (all_const && !keep_dq) {
                std::vector<const Tensor*> in_t(node.inputs.size(), nullptr);
                for (size_t i = 0; i < node.inputs.size(); ++i)
                    if (node.inputs[i] != kNoValue) in_t[i] = folded[size_t(node.inputs[i])].get();
                std::vector<Tensor> results(node.outputs.size());
                std::vector<Tensor*> out_t(node.outputs.size(), nullptr);
                for (size_t o = 0; o < node.outputs.size(); ++o)
                    if (out[o].present) {
                        results[o] = Tensor(out[o].dtype, out[o].shape);
                        out_t[o] = &results[o];
                    }
                kernels[n]->run(in_t, out_t);
                node_folded[n] = true;
                for (size_t o = 0; o < node.outputs.size(); ++o)
                    if (out[o].present) folded[size_t(node.outputs[o])] = std::make_shared<const Tensor>(results[o]);
            }
        } catch (const Error& e) {
            throw node_error(node, e);
        } catch (const std::exception& e) {
            throw internal_error(node, e);
        }
        if (reads_shape_only) folded[size_t(node.inputs[0])].reset();
        for (size_t o = 0; o < node.outputs.size(); ++o) {
            if (!out[o].present) continue;
            size_t v = size_t(node.outputs[o]);
            info[v] = out[o];
            info[v].data = folded[v].get();
            known[v] = true;
        }
    }
    if (complete) *complete = all_inferred;
    else if (!all_inferred) return nullptr;
    std::vector<Node> kept;
    for (size_t n = 0; n < g.nodes.size(); ++n)
        if (!node_folded[n]) kept.push_back(g.nodes[n]);
    sg->nodes = std::move(kept);
    for (size_t v = 0; v < g.values.size(); ++v) {
        Value& val = sg->values[v];
        if (folded[v]) val.constant = folded[v];
        if (known[v]) {
            val.dtype = info[v].dtype;
            val.shape = static_dims(info[v].shape);
        }
    }
    verify_and_sort(*sg);
    return sg;
}

Plan::~Plan() = default;

std::unique_ptr<Plan> Plan::compile(const Graph& g, const std::vector<std::unique_ptr<OpKernel>>& ref_kernels,
                                    const std::vector<Shape>& input_shapes, const CompileOptions& options) {
    // An optimized graph is already specialized for its (static) input shapes, which the
    // Session checked the inputs against; specializing again would run every reference
    // kernel's shape inference, and ConvNhwc's packs its weights there.
    std::shared_ptr<Graph> sg = g.optimized ? std::make_shared<Graph>(g) : specialize_graph(g, input_shapes, ref_kernels);
    if (!sg) return nullptr;
    // An optimized graph (.ecnn converted with static shapes) went through the passes at
    // conversion; running them again would only cost load time.
    if (options.optimization_level > 0 && !g.optimized) {
        OptimizeOptions opt;
        opt.level = options.optimization_level;
        optimize_graph(*sg, opt);
        convert_to_nhwc(*sg);
        sink_transposes(*sg);
        // The layout pass puts a Transpose on every constant an NHWC node reads in NCHW
        // (e.g. a full-size addend fused as a conv's residual): fold those now rather
        // than transposing the constant on every run.
        if (fold_constants(*sg) > 0) remove_dead_code(*sg);
        read_small_conv_inputs_nchw(*sg);  // the RGB stem reads the model's NCHW input as is
        // After the stem's pass: an expand conv must be NHWC and settled. Worth it where the
        // expanded map does not fit the core's L2.
        fuse_expand_dwconv(*sg, l2_cache_bytes());
        fuse_qconv_residual(*sg);  // int8: needs the NHWC layout the passes above settle
    }
    std::unique_ptr<Plan> plan(new Plan());
    plan->graph_ = sg;
    const Graph& G = *sg;
    const OpRegistry& reg = OpRegistry::instance();
    plan->values_.resize(G.values.size());
    for (size_t v = 0; v < G.values.size(); ++v)
        if (G.values[v].constant) plan->values_[v] = *G.values[v].constant;
    // Kernels, created on the optimized graph (fast ones pack their weights here), and
    // shape inference once more: passes add and rewrite nodes.
    std::vector<Shape> shapes(G.values.size());
    std::vector<DType> dtypes(G.values.size(), DType::Undefined);
    for (size_t v = 0; v < G.values.size(); ++v)
        if (G.values[v].constant) {
            shapes[v] = G.values[v].constant->shape();
            dtypes[v] = G.values[v].constant->dtype();
        }
    for (size_t k = 0; k < G.inputs.size(); ++k) {
        shapes[size_t(G.inputs[k])] = input_shapes[k];
        dtypes[size_t(G.inputs[k])] = G.value(G.inputs[k]).dtype;
    }
    plan->kernels_.resize(G.nodes.size());
    int64_t workspace = 0;
    for (size_t n = 0; n < G.nodes.size(); ++n) {
        const Node& node = G.nodes[n];
        try {
            // Nodes the passes wrote are in their current form whatever the model's opset
            // (a Reshape with a shape input in an opset-1 model); the model's own nodes were
            // checked against its opset when the Session was created.
            const OpDef* def = reg.find_for(node, std::numeric_limits<int64_t>::max());
            if (!def) fail_unsupported("op '" + node.op_type + "' is not supported");
            OpAttrs attrs(node, G.opset, &G, options.pool, true, options.fpmath);
            plan->kernels_[n] = def->factory(attrs);
            std::vector<ValueInfo> in(node.inputs.size()), out(node.outputs.size());
            for (size_t i = 0; i < node.inputs.size(); ++i) {
                ValueId id = node.inputs[i];
                if (id == kNoValue) {
                    in[i].present = false;
                    continue;
                }
                in[i].dtype = dtypes[size_t(id)];
                in[i].shape = shapes[size_t(id)];
                in[i].data = G.values[size_t(id)].constant.get();
            }
            for (size_t o = 0; o < node.outputs.size(); ++o) out[o].present = node.outputs[o] != kNoValue;
            if (!plan->kernels_[n]->infer(in, out)) return nullptr;
            for (size_t o = 0; o < node.outputs.size(); ++o)
                if (out[o].present) {
                    shapes[size_t(node.outputs[o])] = out[o].shape;
                    dtypes[size_t(node.outputs[o])] = out[o].dtype;
                }
            plan->packed_bytes_ += plan->kernels_[n]->packed_bytes();
            workspace = std::max(workspace, plan->kernels_[n]->workspace_bytes());
        } catch (const Error& e) {
            throw node_error(node, e);
        } catch (const std::exception& e) {
            throw internal_error(node, e);
        }
    }
    // Constants the plan holds: those some kernel reads while running, or a graph output.
    // A constant every reader copied into packed form (OpKernel::packs_constant_input) is
    // counted once, in packed_bytes_.
    std::vector<bool> read_at_run(G.values.size(), false);
    for (size_t n = 0; n < G.nodes.size(); ++n)
        for (size_t i = 0; i < G.nodes[n].inputs.size(); ++i) {
            const ValueId id = G.nodes[n].inputs[i];
            if (id != kNoValue && !plan->kernels_[n]->packs_constant_input(i)) read_at_run[size_t(id)] = true;
        }
    for (ValueId o : G.outputs) read_at_run[size_t(o)] = true;
    for (size_t v = 0; v < G.values.size(); ++v)
        if (G.values[v].constant && read_at_run[v]) plan->constant_bytes_ += int64_t(G.values[v].constant->nbytes());
    // Arena: every value a node writes, except graph outputs (handed to the caller).
    std::vector<int32_t> first(G.values.size(), -1), last(G.values.size(), -1);
    for (size_t n = 0; n < G.nodes.size(); ++n) {
        for (ValueId i : G.nodes[n].inputs)
            if (i != kNoValue) last[size_t(i)] = int32_t(n);
        for (ValueId o : G.nodes[n].outputs)
            if (o != kNoValue) {
                first[size_t(o)] = int32_t(n);
                last[size_t(o)] = std::max(last[size_t(o)], int32_t(n));
            }
    }
    std::vector<bool> is_output(G.values.size(), false);
    for (ValueId o : G.outputs) is_output[size_t(o)] = true;
    std::vector<Buffer> buffers;
    for (size_t v = 0; v < G.values.size(); ++v) {
        if (first[v] < 0 || is_output[v]) continue;
        const int64_t numel = shape_numel(shapes[v]), es = int64_t(dtype_size(dtypes[v]));
        if (es > 0 && numel > max_tensor_bytes() / es)
            throw Error(ErrorKind::Limit, "value '" + G.value(ValueId(v)).name + "' " + shape_str(shapes[v]) + " needs more than " +
                                              std::to_string(max_tensor_bytes()) + " bytes (the tensor size limit)");
        const int64_t bytes = numel * es;
        buffers.push_back({ValueId(v), (bytes + 63) / 64 * 64, first[v], last[v]});
    }
    plan->arena_bytes_ = plan_arena(buffers);
    plan->arena_ = aligned_buffer(plan->arena_bytes_);
    for (const Buffer& b : buffers)
        plan->values_[size_t(b.value)] = Tensor::view(dtypes[size_t(b.value)], shapes[size_t(b.value)],
                                                      static_cast<char*>(plan->arena_.get()) + b.offset, plan->arena_);
    plan->outputs_ = G.outputs;
    for (ValueId o : G.outputs) {
        bool fresh = first[size_t(o)] >= 0;
        plan->output_is_fresh_.push_back(fresh);
        if (fresh) plan->values_[size_t(o)] = Tensor::view(dtypes[size_t(o)], shapes[size_t(o)], nullptr);
    }
    if (workspace > 0) {
        plan->workspace_bytes_ = workspace;
        plan->workspace_ = aligned_buffer(workspace);
        for (auto& k : plan->kernels_) k->set_workspace(plan->workspace_.get());
    }
    for (size_t n = 0; n < G.nodes.size(); ++n) {
        Step s;
        s.node = n;
        for (ValueId i : G.nodes[n].inputs) s.in.push_back(i == kNoValue ? nullptr : &plan->values_[size_t(i)]);
        for (ValueId o : G.nodes[n].outputs) s.out.push_back(o == kNoValue ? nullptr : &plan->values_[size_t(o)]);
        plan->steps_.push_back(std::move(s));
    }
    return plan;
}

std::vector<Tensor> Plan::execute(const std::vector<Tensor>& inputs, const NodeOutputCallback& on_node) {
    const Graph& G = *graph_;
    for (size_t k = 0; k < G.inputs.size(); ++k) values_[size_t(G.inputs[k])] = inputs[k];
    for (size_t k = 0; k < outputs_.size(); ++k)
        if (output_is_fresh_[k]) {
            // Reuse last run's output buffer when the caller has let go of it: a fresh
            // allocation would fault in new pages every run (22 MB for a 520x520 mask).
            Tensor& t = values_[size_t(outputs_[k])];
            if (!t.sole_owner()) t = Tensor::uninitialized(t.dtype(), t.shape());
        }
    if (profile_ && step_ns_.size() != steps_.size()) step_ns_.assign(steps_.size(), 0);
    for (size_t si = 0; si < steps_.size(); ++si) {
        const Step& s = steps_[si];
        const Node& node = G.nodes[s.node];
        try {
            if (profile_) {
                auto t0 = std::chrono::steady_clock::now();
                kernels_[s.node]->run(s.in, s.out);
                step_ns_[si] += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
            } else {
                kernels_[s.node]->run(s.in, s.out);
            }
        } catch (const Error& e) {
            throw node_error(node, e);
        } catch (const std::exception& e) {
            throw internal_error(node, e);
        }
        if (on_node) {
            std::vector<std::pair<std::string, const Tensor*>> outs;
            for (size_t o = 0; o < node.outputs.size(); ++o)
                if (s.out[o]) outs.emplace_back(G.value(node.outputs[o]).name, s.out[o]);
            on_node(node, outs);
        }
    }
    std::vector<Tensor> result;
    for (size_t k = 0; k < outputs_.size(); ++k) {
        Tensor& t = values_[size_t(outputs_[k])];
        result.push_back(output_is_fresh_[k] ? t : t.clone());
    }
    for (size_t k = 0; k < G.inputs.size(); ++k) values_[size_t(G.inputs[k])] = Tensor();  // drop the caller's buffers
    return result;
}

}  // namespace edgecnn
