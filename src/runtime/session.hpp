// A Session runs one Graph. It creates a kernel for every node up front (reporting all
// unsupported ops/attributes at once), binds dynamic dims from the inputs it is given,
// folds everything that depends only on constants and bound shapes (shape subgraphs),
// and then evaluates the remaining nodes in order.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/tensor.hpp"
#include "ir/graph.hpp"
#include "ops/op.hpp"
#include "runtime/plan.hpp"

namespace edgecnn {

struct SessionOptions {
    // Threads used by kernels, counting the calling thread (1 = single-threaded).
    int num_threads = 1;
    // A pool shared between sessions (then num_threads and big_cores_only are ignored).
    std::shared_ptr<ThreadPool> thread_pool;
    // big.LITTLE: run the pool's workers on the big cores only (those with the highest
    // cpufreq maximum, base/cpu_topology.hpp; every core where all are alike). Pick
    // num_threads <= big_cores().size(); the calling thread is the application's to pin
    // (set_thread_affinity(big_cores()), as `edgecnn bench --big-cores` does).
    bool big_cores_only = false;
    // 0: run the graph as imported with the reference kernels; 1: optimized (passes,
    // NHWC layout, fast kernels).
    int optimization_level = 1;
    // Upper bound for the compiled plan's activation arena plus workspace (0: none); a
    // binding of input shapes that needs more fails with Error(Limit) (the public API's
    // arena option, for devices with a fixed memory budget).
    int64_t max_arena_bytes = 0;
    // Float arithmetic: F32 (default), or Bf16 where a layer's kernel has a bf16 path and
    // the CPU runs it (ops/op.hpp); elsewhere F32 as before.
    FpMath fpmath = FpMath::F32;
    // Time every node (Plan::step_ns()); costs two clock reads per node.
    bool profile = false;
    // Called after each node with every output it produced (for --dump-all).
    std::function<void(const Node&, const std::vector<std::pair<std::string, const Tensor*>>&)> on_node_output;
};

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Session {
public:
    explicit Session(std::shared_ptr<const Graph> graph, SessionOptions options = {});
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    const Graph& graph() const { return *graph_; }
    // Runs the graph. Every graph input must be given exactly once, by name, with the
    // declared dtype and a shape that matches the declared dims (named dims bind
    // consistently). Returns the graph outputs in declaration order.
    NamedTensors run(const NamedTensors& inputs);
    // Binds input shapes (graph input order) and propagates shapes and constants without
    // running anything; value_shapes() then tells each value's shape where it is known
    // before run time (for `info`, MAC counts and memory planning).
    void bind_shapes(const std::vector<Shape>& input_shapes);
    const std::vector<std::optional<Shape>>& value_shapes() const { return value_shapes_; }
    // Compiles the plan for these input shapes (graph input order) ahead of the first run:
    // what "session creation" costs before a model is ready (bench times it). run() reuses
    // the plan while the shapes stay the same.
    void compile(const std::vector<Shape>& input_shapes);
    // Bytes the engine holds for this session at its peak so far: weights (constants),
    // activations and workspaces.
    int64_t peak_memory_bytes() const;
    // The plan compiled for the last bound input shapes (null before the first run, or when
    // the model's shapes depend on run-time values and it is interpreted node by node).
    const Plan* plan() const { return plan_.get(); }

private:
    struct NodeState;
    NamedTensors run_unchecked(const NamedTensors& inputs);
    std::string source_prefix() const;
    void check_inputs(const NamedTensors& inputs) const;
    void prepare(const std::vector<Shape>& input_shapes);
    void ensure_plan(const std::vector<Shape>& shapes);
    NamedTensors run_interpreted(std::vector<Tensor>& values, const std::vector<Shape>& shapes);

    std::shared_ptr<const Graph> graph_;
    SessionOptions options_;
    std::vector<std::unique_ptr<OpKernel>> kernels_;
    // The interpreter's graph for the prepared input shapes (partially specialized), its
    // kernels, and per value the index of the last node reading it.
    std::vector<Shape> prepared_shapes_;
    std::shared_ptr<const Graph> interp_graph_;
    std::vector<std::unique_ptr<OpKernel>> interp_kernels_;
    std::vector<int32_t> last_use_;
    std::vector<std::optional<Shape>> value_shapes_;
    std::shared_ptr<ThreadPool> pool_;
    std::unique_ptr<Plan> plan_;
    std::vector<Shape> plan_shapes_;
    bool interpret_ = false;  // shapes depend on run-time values: no plan
    int64_t constant_bytes_ = 0;
    int64_t peak_activation_bytes_ = 0;
};

}  // namespace edgecnn
