// edgecnn profile: where the time goes, per layer of the compiled plan.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

#include "base/error.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "image_inputs.hpp"
#include "profile_html.hpp"
#include "random_inputs.hpp"

namespace edgecnn::cli {

namespace {
// Multiply-accumulates of one node of the compiled graph (every shape is static there).
int64_t plan_node_macs(const Graph& g, const Node& n, std::vector<Shape>& scratch) {
    scratch.clear();
    scratch.reserve(n.inputs.size() + n.outputs.size());
    auto shape_of = [&](ValueId v) -> const Shape* {
        if (v == kNoValue) return nullptr;
        const Value& val = g.value(v);
        if (val.constant) return &val.constant->shape();
        if (!val.shape) return nullptr;
        Shape s;
        for (const Dim& d : *val.shape) s.push_back(d.value);
        scratch.push_back(std::move(s));
        return &scratch.back();
    };
    return std::max<int64_t>(0, node_macs(n, shape_of));
}
}  // namespace

int cmd_profile(const ProfileArgs& a) {
    auto graph = load_model(a.model);
    std::mt19937 rng(1);
    NamedTensors inputs = inputs_with_image(*graph, a.model, a.image, parse_input_shapes(a.input_shapes), rng);
    SessionOptions opts;
    opts.num_threads = a.threads;
    opts.profile = true;
    opts.fpmath = parse_fpmath(a.fpmath);
    Session session(graph, opts);
    session.run(inputs);  // compiles the plan
    const Plan* plan = session.plan();
    if (!plan) fail(a.model + ": the model's shapes depend on run-time values; it cannot be profiled per layer yet");
    const_cast<Plan*>(plan)->set_profiling(false);
    for (int i = 0; i < a.warmup; ++i) session.run(inputs);
    const_cast<Plan*>(plan)->set_profiling(true);
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < a.runs; ++i) session.run(inputs);
    double total_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / a.runs;
    const Graph& g = plan->graph();
    const auto& ns = plan->step_ns();
    // ns accumulates over the compile run too; the first run's share is small but subtract
    // nothing: report per-run averages over all profiled runs.
    double sum_ms = 0;
    std::vector<size_t> order(g.nodes.size());
    for (size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
        sum_ms += double(ns[i]) / 1e6 / (a.runs + 1);
    }
    if (a.sort) std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return ns[x] > ns[y]; });
    const double peak = 260.0 * a.threads;
    std::vector<Shape> scratch;
    ProfileReport rep;
    rep.model = a.model;
    rep.threads = a.threads;
    rep.runs = a.runs;
    rep.total_ms = total_ms;
    rep.sum_ms = sum_ms;
    rep.peak_gflops = peak;
    for (const auto& [name, t] : inputs) rep.inputs += (rep.inputs.empty() ? "" : ", ") + name + " " + shape_str(t.shape());
    for (size_t i = 0; i < g.nodes.size(); ++i) {
        const Node& n = g.nodes[i];
        ProfileRow row;
        row.layer = n.name;
        row.op = n.op_type;
        row.kernel = plan->kernels()[i]->kernel_name();
        std::string out;
        if (n.outputs.empty() || !g.value(n.outputs[0]).shape) out = "?";
        else
            for (const Dim& d : *g.value(n.outputs[0]).shape) {
                if (!out.empty()) out += 'x';
                out += std::to_string(d.value);
            }
        row.output = out;
        row.ms = double(ns[i]) / 1e6 / (a.runs + 1);
        row.macs = plan_node_macs(g, n, scratch);
        row.gflops = row.ms > 0 ? 2.0 * double(row.macs) / (row.ms * 1e6) : 0;
        row.percent = 100.0 * row.ms / std::max(sum_ms, 1e-9);
        row.percent_of_peak = 100.0 * row.gflops / peak;
        rep.total_macs += row.macs;
        rep.rows.push_back(std::move(row));
    }
    std::printf("%-48s %-16s %-28s %-18s %8s %6s %8s %6s\n", "layer", "op", "kernel", "output", "ms", "%", "GFLOP/s", "%peak");
    for (size_t idx = 0; idx < order.size() && (a.top <= 0 || idx < size_t(a.top)); ++idx) {
        const ProfileRow& r = rep.rows[order[idx]];
        std::string name = r.layer;
        if (name.size() > 47) name = std::string("...").append(r.layer, r.layer.size() - 44, 44);
        std::printf("%-48s %-16s %-28s %-18s %8.3f %6.1f %8.1f %6.1f\n", name.c_str(), r.op.c_str(), r.kernel.c_str(),
                    r.output.c_str(), r.ms, r.percent, r.gflops, r.percent_of_peak);
    }
    const int64_t total_macs = rep.total_macs;
    std::printf("total: %.3f ms per run (sum of layers %.3f ms), %zu layers, %.3f GMACs, %.1f GFLOP/s (%.1f%% of %.0f)\n",
                total_ms, sum_ms, g.nodes.size(), double(total_macs) / 1e9, 2.0 * double(total_macs) / (total_ms * 1e6),
                100.0 * 2.0 * double(total_macs) / (total_ms * 1e6) / peak, peak);
    if (!a.html.empty()) {
        write_profile_html(a.html, rep);
        std::printf("html report: %s\n", a.html.c_str());
    }
    return 0;
}

}  // namespace edgecnn::cli
