// edgecnn bench: latency of one model (or two, alternated) on random inputs.
//
//   edgecnn bench MODEL [--vs MODEL2] [--threads N] [--warmup N] [--runs N]
//                 [--input-shape NAME=1x3x224x224 ...] [--opt-level 0|1] [--json] [--big-cores]
//
// Inputs are random (uniform [0,1) for floats, zeros for integers: integer inputs are
// usually indices or shapes, where random values would be out of range). Dynamic dims
// are bound from --input-shape; a dynamic leading dim defaults to 1 (the batch); any
// other unbound dim is an error that names the input and asks for --input-shape.
// With --vs, both sessions are created first, then warmed up and timed alternately
// (A, B, A, B, ...) so that drift in the machine's speed hits both alike.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>

#include "base/cpu_topology.hpp"
#include "base/error.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "image_inputs.hpp"
#include "random_inputs.hpp"

namespace edgecnn::cli {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Resident set size of this process in bytes (0 where /proc is unavailable).
int64_t rss_bytes() {
    FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return 0;
    long long pages_total = 0, pages_resident = 0;
    int n = std::fscanf(f, "%lld %lld", &pages_total, &pages_resident);
    std::fclose(f);
    if (n != 2) return 0;
    return int64_t(pages_resident) * 4096;
}


struct Stats {
    double min = 0, median = 0, mean = 0, p90 = 0, p99 = 0, max = 0;
};

// Nearest-rank percentile of sorted samples.
double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * double(sorted.size())));
    rank = std::clamp<size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

Stats compute_stats(std::vector<double> t) {
    Stats s;
    if (t.empty()) return s;
    std::sort(t.begin(), t.end());
    size_t n = t.size();
    s.min = t.front();
    s.max = t.back();
    s.median = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    double sum = 0;
    for (double x : t) sum += x;
    s.mean = sum / double(n);
    s.p90 = percentile(t, 90);
    s.p99 = percentile(t, 99);
    return s;
}

struct Bench {
    std::string model;
    FpMath fpmath = FpMath::F32;
    std::string label;  // the model, and its --fpmath when not f32
    std::shared_ptr<Graph> graph;
    std::unique_ptr<Session> session;
    NamedTensors inputs;
    // Creation, median of --create-repeats: reading the file, the Session (op validation),
    // the plan for the bound shapes (passes, weight packing, arena); create_ms is their sum.
    double load_ms = 0, session_ms = 0, plan_ms = 0;
    double create_ms = 0;
    double first_run_ms = 0;  // the first run after the plan is compiled
    int64_t macs = -1;        // -1: unknown
    std::vector<double> times;
    Stats stats;
};

// How far the second session's outputs are from the first's on the same inputs (--vs-fpmath):
// max |difference| per output against its range, and for a [N, C, ...] score map the share
// of positions whose argmax over C agrees (a segmentation's pixel labels, a classifier's top-1).
void print_output_difference(Bench& a, Bench& b) {
    const NamedTensors oa = a.session->run(a.inputs), ob = b.session->run(b.inputs);
    for (size_t k = 0; k < oa.size() && k < ob.size(); ++k) {
        const Tensor& x = oa[k].second;
        const Tensor& y = ob[k].second;
        if (x.dtype() != DType::F32 || y.dtype() != DType::F32 || x.shape() != y.shape() || x.numel() == 0) continue;
        const float* p = x.data<float>();
        const float* q = y.data<float>();
        double diff = 0, lo = p[0], hi = p[0];
        for (int64_t i = 0; i < x.numel(); ++i) {
            diff = std::max(diff, double(std::fabs(p[i] - q[i])));
            lo = std::min(lo, double(p[i]));
            hi = std::max(hi, double(p[i]));
        }
        std::printf("output '%s': max |difference| %.3g (%.3g of its range %.3g)", oa[k].first.c_str(), diff,
                    hi > lo ? diff / (hi - lo) : 0.0, hi - lo);
        if (x.rank() >= 2 && x.dim(1) > 1) {
            const int64_t c = x.dim(1), inner = x.numel() / x.dim(0) / c;
            int64_t agree = 0, total = 0;
            for (int64_t n = 0; n < x.dim(0); ++n)
                for (int64_t i = 0; i < inner; ++i, ++total) {
                    int64_t ba = 0, bb = 0;
                    for (int64_t ch = 1; ch < c; ++ch) {
                        if (p[(n * c + ch) * inner + i] > p[(n * c + ba) * inner + i]) ba = ch;
                        if (q[(n * c + ch) * inner + i] > q[(n * c + bb) * inner + i]) bb = ch;
                    }
                    agree += ba == bb;
                }
            std::printf("; argmax over axis 1 agrees at %.4f%% of %lld positions", 100.0 * double(agree) / double(total),
                        (long long)total);
        }
        std::printf("\n");
    }
}

std::string shapes_str(const NamedTensors& inputs) {
    std::string s;
    for (const auto& [name, t] : inputs) s += (s.empty() ? "" : ", ") + name + "=" + shape_str(t.shape());
    return s;
}

std::string json_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '"' || c == '\\') o += '\\', o += c;
        else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            o += buf;
        } else o += c;
    }
    return o;
}

// Effective GFLOP/s at the median: 2 * MACs / time; 0 if the MACs are unknown.
double gflops(const Bench& b) { return b.macs > 0 && b.stats.median > 0 ? 2.0 * double(b.macs) / (b.stats.median * 1e6) : 0.0; }

void print_json(const Bench& b, const BenchArgs& a, int64_t rss_growth, const double* vs_ratio) {
    std::string shapes;
    for (const auto& [name, t] : b.inputs) {
        if (!shapes.empty()) shapes += ',';
        shapes += '"';
        shapes += json_escape(name);
        shapes += "\":[";
        for (size_t i = 0; i < t.rank(); ++i) {
            if (i) shapes += ',';
            shapes += std::to_string(t.dim(i));
        }
        shapes += ']';
    }
    const Stats& s = b.stats;
    std::printf("{\"model\":\"%s\",\"fpmath\":\"%s\",\"input_shapes\":{%s},\"opt_level\":%d,\"threads\":%d,\"warmup\":%d,\"runs\":%d,"
                "\"min_ms\":%.4f,\"median_ms\":%.4f,\"mean_ms\":%.4f,\"p90_ms\":%.4f,\"p99_ms\":%.4f,\"max_ms\":%.4f,"
                "\"fps\":%.3f,\"create_ms\":%.3f,\"load_ms\":%.3f,\"session_ms\":%.3f,\"plan_ms\":%.3f,\"first_run_ms\":%.3f,\"peak_memory_bytes\":%" PRId64 ",\"process_rss_growth_bytes\":%" PRId64,
                json_escape(b.model).c_str(), fpmath_name(b.fpmath), shapes.c_str(), a.opt_level, a.threads, a.warmup, a.runs, s.min, s.median, s.mean, s.p90,
                s.p99, s.max, s.median > 0 ? 1000.0 / s.median : 0.0, b.create_ms, b.load_ms, b.session_ms, b.plan_ms, b.first_run_ms,
                b.session->peak_memory_bytes(), rss_growth);
    std::printf(",\"macs\":%" PRId64 ",\"gflops\":%.3f", b.macs, gflops(b));
    if (vs_ratio) std::printf(",\"vs_median_ratio\":%.4f", *vs_ratio);
    std::printf("}\n");
}

void print_text(const Bench& b, const BenchArgs& a) {
    const Stats& s = b.stats;
    std::printf("model: %s\n", b.label.c_str());
    std::printf("  inputs: %s\n", shapes_str(b.inputs).c_str());
    std::printf("  threads: %d  warmup: %d  runs: %d  opt-level: %d\n", a.threads, a.warmup, a.runs, a.opt_level);
    std::printf("  session creation: %.2f ms (load %.2f + session %.2f + plan %.2f; median of %d)  first run: %.2f ms\n",
                b.create_ms, b.load_ms, b.session_ms, b.plan_ms, std::max(1, a.create_repeats), b.first_run_ms);
    std::printf("  latency ms: min %.3f  median %.3f  p90 %.3f  p99 %.3f  (mean %.3f, max %.3f)\n", s.min, s.median,
                s.p90, s.p99, s.mean, s.max);
    std::printf("  throughput: %.2f FPS (from the median)\n", s.median > 0 ? 1000.0 / s.median : 0.0);
    if (b.macs >= 0)
        std::printf("  MACs: %.3f G  effective: %.1f GFLOP/s (2*MACs/median)\n", double(b.macs) / 1e9, gflops(b));
    else
        std::printf("  MACs: unknown\n");
    std::printf("  peak memory: %.2f MiB (%" PRId64 " bytes)\n", double(b.session->peak_memory_bytes()) / (1 << 20),
                b.session->peak_memory_bytes());
}

// Multiply-accumulates of Conv/ConvTranspose/Gemm/MatMul at the bound input shapes (the
// count `edgecnn info` prints). Where shapes cannot be known before running (a Reshape fed
// by a shape subgraph the binder does not fold), a separate throwaway session runs once
// and records every node's output shape. -1 if still unknown.
int64_t model_macs(const std::shared_ptr<Graph>& graph, const NamedTensors& inputs) {
    std::vector<Shape> shapes;
    for (const auto& [name, t] : inputs) shapes.push_back(t.shape());
    {
        Session probe(graph);
        probe.bind_shapes(shapes);
        int64_t macs = count_macs(*graph, probe.value_shapes());
        if (macs >= 0) return macs;
    }
    const Graph& g = *graph;
    std::vector<std::optional<Shape>> seen(g.values.size());
    for (size_t id = 0; id < g.values.size(); ++id)
        if (g.values[id].constant) seen[id] = g.values[id].constant->shape();
    for (const auto& [name, t] : inputs) {
        ValueId id = g.find(name);
        if (id != kNoValue) seen[size_t(id)] = t.shape();
    }
    SessionOptions opts;
    opts.on_node_output = [&](const Node&, const std::vector<std::pair<std::string, const Tensor*>>& outs) {
        for (const auto& [name, t] : outs) {
            ValueId id = g.find(name);
            if (id != kNoValue && t && !t->empty()) seen[size_t(id)] = t->shape();
        }
    };
    Session probe(graph, opts);
    (void)probe.run(inputs);
    return count_macs(g, seen);
}

}  // namespace

int cmd_bench(const BenchArgs& a) {
    if (a.threads < 1) fail("--threads must be at least 1");
    if (a.warmup < 0) fail("--warmup must not be negative");
    if (a.runs < 1) fail("--runs must be at least 1");
    if (a.big_cores) {
        // The workers get the big cores through SessionOptions; this thread runs tasks too.
        const std::vector<int> big = big_cores();
        if (!set_thread_affinity(big)) fail("--big-cores: could not restrict this thread to the big cores");
        std::string list;
        for (int c : big) list += std::string(list.empty() ? "" : ",") + std::to_string(c);
        std::fprintf(stderr, "big cores: %s%s\n", list.c_str(),
                     int(big.size()) < a.threads ? " (fewer than --threads: threads will share cores)" : "");
    }
    auto given = parse_input_shapes(a.input_shapes);
    std::mt19937 rng(12345);
    int64_t rss0 = rss_bytes();

    // --vs-fpmath without --vs: the same model a second time, with the other arithmetic.
    const bool same_model_vs = a.vs.empty() && !a.vs_fpmath.empty();
    if (same_model_vs && !a.also.empty()) fail("--vs-fpmath without --vs cannot be combined with --also");
    const FpMath fpmath = parse_fpmath(a.fpmath);
    const FpMath vs_fpmath = a.vs_fpmath.empty() ? fpmath : parse_fpmath(a.vs_fpmath);
    std::vector<std::string> models{a.model};
    if (!a.vs.empty()) models.push_back(a.vs);
    if (same_model_vs) models.push_back(a.model);
    const size_t n_vs = models.size();
    std::vector<Bench> benches(models.size() + a.also.size());
    for (const std::string& m : a.also) models.push_back(m);
    for (size_t k = 0; k < models.size(); ++k) {
        benches[k].model = models[k];
        benches[k].fpmath = k == 1 && n_vs == 2 ? vs_fpmath : fpmath;
        benches[k].label = models[k] + (benches[k].fpmath == FpMath::F32 ? "" : std::string(" [fpmath ") + fpmath_name(benches[k].fpmath) + "]");
        benches[k].graph = load_model(models[k]);
    }
    // --input-shape applies to each model that has an input of that name.
    for (const auto& [name, s] : given) {
        bool used = false;
        for (const Bench& b : benches) used = used || has_input(*b.graph, name);
        if (!used && benches.size() == 2) fail("--input-shape names '" + name + "', which is an input of neither model");
    }
    for (Bench& b : benches) {
        std::map<std::string, Shape> mine;
        for (const auto& [name, s] : given)
            if (has_input(*b.graph, name) || benches.size() == 1) mine[name] = s;
        // The same model again (--vs-fpmath): the same inputs, so that outputs compare.
        b.inputs = same_model_vs && &b == &benches[1] ? benches[0].inputs : inputs_with_image(*b.graph, b.model, a.image, mine, rng);
        SessionOptions opts;
        opts.fpmath = b.fpmath;
        opts.num_threads = a.threads;
        opts.optimization_level = a.opt_level;
        opts.big_cores_only = a.big_cores;
        std::vector<Shape> shapes;
        for (const auto& [name, t] : b.inputs) shapes.push_back(t.shape());
        std::vector<double> load, sess, plan;
        for (int r = 0; r < std::max(1, a.create_repeats); ++r) {
            b.session.reset();
            b.graph.reset();
            auto t0 = Clock::now();
            b.graph = load_model(b.model);
            load.push_back(ms_since(t0));
            auto t1 = Clock::now();
            b.session = std::make_unique<Session>(b.graph, opts);
            sess.push_back(ms_since(t1));
            auto t2 = Clock::now();
            b.session->compile(shapes);
            plan.push_back(ms_since(t2));
        }
        b.load_ms = compute_stats(load).median;
        b.session_ms = compute_stats(sess).median;
        b.plan_ms = compute_stats(plan).median;
        b.create_ms = b.load_ms + b.session_ms + b.plan_ms;
    }

    // Warm-up, alternating (at least one run, which binds shapes and folds shape subgraphs;
    // --warmup 0 still makes it, untimed).
    for (Bench& b : benches) {
        auto t0 = Clock::now();
        (void)b.session->run(b.inputs);
        b.first_run_ms = ms_since(t0);
    }
    for (int i = 1; i < a.warmup; ++i)
        for (Bench& b : benches) (void)b.session->run(b.inputs);
    for (Bench& b : benches) b.times.reserve(static_cast<size_t>(a.runs));
    for (int i = 0; i < a.runs; ++i) {
        for (Bench& b : benches) {
            auto t0 = Clock::now();
            NamedTensors out = b.session->run(b.inputs);
            b.times.push_back(ms_since(t0));
        }
    }
    int64_t rss_growth = rss_bytes() - rss0;
    for (Bench& b : benches) {
        b.stats = compute_stats(b.times);
        b.macs = model_macs(b.graph, b.inputs);  // after timing: its probe session is not in the RSS figure
    }

    bool vs = benches.size() == 2 && a.also.empty();
    double ratio = vs && benches[1].stats.median > 0 ? benches[0].stats.median / benches[1].stats.median : 0.0;
    if (a.json) {
        for (size_t k = 0; k < benches.size(); ++k) print_json(benches[k], a, rss_growth, vs && k == 0 ? &ratio : nullptr);
    } else {
        for (const Bench& b : benches) print_text(b, a);
        for (size_t k = 1; k < benches.size(); ++k)
            std::printf("creation speed-up of %s over %s: %.2fx\n", benches[k].label.c_str(), benches[0].label.c_str(),
                        benches[k].create_ms > 0 ? benches[0].create_ms / benches[k].create_ms : 0.0);
        if (vs)
            std::printf("ratio of medians (%s / %s): %.3f\n", benches[0].label.c_str(), benches[1].label.c_str(), ratio);
        if (same_model_vs) print_output_difference(benches[0], benches[1]);
    }
    return 0;
}

}  // namespace edgecnn::cli
