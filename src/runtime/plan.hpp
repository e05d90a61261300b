// Compilation of a Graph for one binding of input shapes, and its execution.
//
//   specialize: bind input dims, fold every node whose inputs are constant (shape
//               subgraphs disappear), give every value a static shape;
//   optimize:   graph passes (src/passes) — fusion, layout (NHWC inside, NCHW at the edges);
//   compile:    one kernel per node (fast kernels where one applies, packed once),
//               one activation arena planned from value lifetimes, one shared workspace;
//   execute:    runs the steps; no allocation but the returned outputs.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/tensor.hpp"
#include "ir/graph.hpp"
#include "ops/op.hpp"

namespace edgecnn {

class ThreadPool;

struct CompileOptions {
    int optimization_level = 1;  // 0: run the graph as imported (reference kernels)
    ThreadPool* pool = nullptr;
    FpMath fpmath = FpMath::F32;  // SessionOptions::fpmath, handed to every kernel
};

using NodeOutputCallback = std::function<void(const Node&, const std::vector<std::pair<std::string, const Tensor*>>&)>;

class Plan {
public:
    // Returns null when some shape can only be known at run time (data-dependent shapes);
    // the caller then interprets the graph node by node.
    // `kernels` are reference kernels for the nodes of `g` (the Session made them to validate).
    static std::unique_ptr<Plan> compile(const Graph& g, const std::vector<std::unique_ptr<OpKernel>>& kernels,
                                         const std::vector<Shape>& input_shapes,
                                         const CompileOptions& options);
    ~Plan();

    // `inputs` in graph-input order, already checked against the declared shapes.
    std::vector<Tensor> execute(const std::vector<Tensor>& inputs, const NodeOutputCallback& on_node);

    const Graph& graph() const { return *graph_; }
    const std::vector<std::unique_ptr<OpKernel>>& kernels() const { return kernels_; }
    int64_t arena_bytes() const { return arena_bytes_; }
    int64_t workspace_bytes() const { return workspace_bytes_; }
    int64_t packed_bytes() const { return packed_bytes_; }
    int64_t constant_bytes() const { return constant_bytes_; }

    // Per-node timing: when enabled, execute() adds each step's wall time (ns) to
    // step_ns()[i], where step i runs graph().nodes[i].
    void set_profiling(bool on) { profile_ = on; }
    const std::vector<int64_t>& step_ns() const { return step_ns_; }

private:
    Plan() = default;
    struct Step {
        size_t node;
        std::vector<const Tensor*> in;
        std::vector<Tensor*> out;
    };
    std::shared_ptr<Graph> graph_;
    std::vector<std::unique_ptr<OpKernel>> kernels_;
    std::vector<Tensor> values_;  // per value: constant, arena view, bound input or per-run output
    std::vector<Step> steps_;
    std::vector<ValueId> outputs_;
    std::vector<bool> output_is_fresh_;  // allocated per run (not a constant or an input)
    std::shared_ptr<void> arena_;
    std::shared_ptr<void> workspace_;
    bool profile_ = false;
    std::vector<int64_t> step_ns_;
    int64_t arena_bytes_ = 0, workspace_bytes_ = 0, packed_bytes_ = 0, constant_bytes_ = 0;
};

// Binds input shapes and folds every node whose inputs are constants (Shape/Size of
// bound values included); values whose shape is known get it as static dims. `kernels`
// are the reference kernels of `g`'s nodes; value ids are kept. With `complete` null,
// returns null when some shape depends on run-time values; otherwise sets *complete and
// returns the partially specialized graph (what the interpreter runs).
std::shared_ptr<Graph> specialize_graph(const Graph& g, const std::vector<Shape>& input_shapes,
                                        const std::vector<std::unique_ptr<OpKernel>>& kernels,
                                        bool* complete = nullptr);

}  // namespace edgecnn
