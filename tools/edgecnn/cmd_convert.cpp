// edgecnn convert: ONNX → .ecnn (src/format/ecnn.hpp).
//
//   edgecnn convert model.onnx -o model.ecnn [--fp16-weights] [--input-shape NAME=1x3x224x224]
//                   [--target portable|x86-avx2|x86-avx512|arm64] [--preprocess JSON]
//                   [--class-names FILE] [--fp16-tolerance 2e-3]
//
// When every input shape is static (declared, or fixed with --input-shape) the stored graph
// is the one the runtime would compile: shapes specialized, constants folded, BatchNorm and
// activations fused, NHWC layout. A portable file holds no CPU-specific data (weights are
// packed at load), so it runs on any CPU. Inputs with dynamic dims keep them: the graph is
// then stored as imported with BatchNorm folded, and optimized at session creation for the
// bound shapes.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>

#include "base/error.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "format/ecnn.hpp"
#include "onnx/importer.hpp"
#include "passes/passes.hpp"
#include "random_inputs.hpp"
#include "vision/postprocess/classify.hpp"
#include "vision/preprocess.hpp"

namespace edgecnn::cli {

namespace {

bool all_static(const Graph& g) {
    for (ValueId id : g.inputs) {
        const Value& v = g.value(id);
        if (!v.shape) return false;
        for (const Dim& d : *v.shape)
            if (!d.is_static()) return false;
    }
    return true;
}

// The graph a compiled plan runs for the declared (static) input shapes, or null when the
// model's shapes depend on input values (then it is interpreted and stored as imported).
std::shared_ptr<Graph> optimized_graph(const std::shared_ptr<Graph>& graph) {
    NamedTensors zeros;
    for (ValueId id : graph->inputs) {
        const Value& v = graph->value(id);
        Shape s;
        for (const Dim& d : *v.shape) s.push_back(d.value);
        if (dtype_size(v.dtype) == 0) return nullptr;
        zeros.emplace_back(v.name, Tensor(v.dtype, s));
    }
    Session session(graph);
    (void)session.run(zeros);  // compiles the plan
    if (!session.plan()) return nullptr;
    auto g = std::make_shared<Graph>(session.plan()->graph());
    g->optimized = true;
    return g;
}

// Compiles `g` (an optimized graph: the plan runs its nodes as they are, in order) and
// stores each kernel's packed weights as attributes of its node. Returns how many nodes
// carry some.
size_t add_packed_weights(Graph& g) {
    auto snapshot = std::make_shared<Graph>(g);
    Session session(snapshot);
    std::vector<Shape> shapes;
    for (ValueId id : g.inputs) {
        Shape s;
        for (const Dim& d : *g.value(id).shape) s.push_back(d.value);
        shapes.push_back(s);
    }
    session.compile(shapes);
    const Plan* plan = session.plan();
    if (!plan || plan->graph().nodes.size() != g.nodes.size()) fail("could not compile the graph to pack its weights");
    size_t nodes = 0;
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        if (plan->graph().nodes[n].name != g.nodes[n].name || plan->graph().nodes[n].op_type != g.nodes[n].op_type)
            fail("compiled plan does not follow the stored graph at " + g.nodes[n].label());
        std::vector<PackedWeights> pw = plan->kernels()[n]->packed_weights();
        for (PackedWeights& p : pw) {
            Attribute t;
            t.kind = Attribute::Kind::Tensor;
            t.t = std::make_shared<Tensor>(p.data);
            g.nodes[n].attrs[std::string(kPrepackedAttr) + p.slot] = t;
            Attribute m;
            m.kind = Attribute::Kind::Ints;
            m.ints = p.meta;
            g.nodes[n].attrs[std::string(kPrepackedMetaAttr) + p.slot] = m;
        }
        nodes += pw.empty() ? 0 : 1;
    }
    return nodes;
}

// --fp16-weights: which float32 constants go to float16, chosen by measuring. Rounding a
// weight to float16 moves it by at most 2^-11 of itself, but some models amplify that: in
// ppocr_v4_det one depthwise filter of 144 values (conv2d_394.w_0) in float16 moves the
// output by 4% of its range, through the FP32 path as much as through the .ecnn one (the
// same weights rounded inside the ONNX file do it too), so it is the model's sensitivity,
// not BatchNorm folding, subnormals or the loader. So: run the stored graph on fixed random
// inputs in float32, then with every candidate rounded; if the output moves by more than
// `tolerance` of its range, measure each candidate alone and take the least harmful ones,
// the longest prefix whose rounding together stays within `tolerance` (binary search).
struct Fp16Choice {
    std::set<std::string> values;
    size_t candidates = 0;
    double error = 0;  // of the chosen set, relative to the output range
    bool measured = false;
    std::vector<std::string> kept;  // measured too harmful, stored float32
    std::set<std::string> int16;    // measured too harmful in float16: int16 per channel
};

Fp16Choice choose_fp16(const Graph& g, double tolerance) {
    Fp16Choice c;
    std::vector<ValueId> cand;
    for (ValueId id = 0; id < ValueId(g.values.size()); ++id) {
        const Value& v = g.value(id);
        if (v.constant && fp16_storable(*v.constant) && v.constant->numel() >= 8) cand.push_back(id);
    }
    c.candidates = cand.size();
    for (ValueId id : cand) c.values.insert(g.value(id).name);
    // Inputs: uniform in [-1, 1) (normalised pixels span about that), a dynamic batch of 1
    // and other dynamic dims of 64 (a multiple of every usual stride).
    NamedTensors inputs;
    std::mt19937 rng(12345);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (ValueId id : g.inputs) {
        const Value& v = g.value(id);
        if (v.dtype != DType::F32 || !v.shape) return c;  // cannot measure: the writer's default
        Shape s;
        for (size_t i = 0; i < v.shape->size(); ++i)
            s.push_back((*v.shape)[i].is_static() ? (*v.shape)[i].value : i == 0 ? 1 : 64);
        Tensor t(DType::F32, s);
        for (int64_t k = 0; k < t.numel(); ++k) t.data<float>()[k] = u(rng);
        inputs.emplace_back(v.name, std::move(t));
    }
    std::map<ValueId, std::shared_ptr<const Tensor>> rounded;
    for (ValueId id : cand) {
        Tensor t = *g.value(id).constant;
        Tensor r(DType::F32, t.shape());
        for (int64_t k = 0; k < t.numel(); ++k) r.data<float>()[k] = half_to_float(float_to_half(t.data<float>()[k]));
        rounded[id] = std::make_shared<const Tensor>(std::move(r));
    }
    auto run_with = [&](const std::vector<ValueId>& ids) {
        auto h = std::make_shared<Graph>(g);
        for (ValueId id : ids) h->value(id).constant = rounded.at(id);
        Session s(h);
        return s.run(inputs);
    };
    NamedTensors ref;
    try {
        ref = run_with({});
    } catch (const Error& e) {
        std::fprintf(stderr, "note: --fp16-weights: cannot run the model to measure (%s)\n", e.what());
        return c;
    }
    auto error = [&](const std::vector<ValueId>& ids) {
        NamedTensors out = run_with(ids);
        double worst = 0;
        for (size_t o = 0; o < out.size(); ++o) {
            const Tensor& a = ref[o].second;
            const Tensor& b = out[o].second;
            if (a.dtype() != DType::F32 || b.dtype() != DType::F32 || a.numel() != b.numel()) continue;
            float lo = 0, hi = 0, err = 0;
            for (int64_t k = 0; k < a.numel(); ++k) {
                float x = a.data<float>()[k], y = b.data<float>()[k];
                lo = k ? std::min(lo, x) : x;
                hi = k ? std::max(hi, x) : x;
                err = std::max(err, std::isnan(y) != std::isnan(x) ? INFINITY : std::fabs(x - y));
            }
            double range = hi - lo > 0 ? hi - lo : std::max(std::fabs(hi), 1e-30f);
            worst = std::max(worst, double(err) / range);
        }
        return worst;
    };
    c.measured = true;
    c.error = error(cand);
    if (c.error <= tolerance) return c;
    std::vector<std::pair<double, ValueId>> alone;
    for (ValueId id : cand) alone.emplace_back(error({id}), id);
    // Least error per byte saved first: a large filter that costs little beats a small one.
    auto per_byte = [&](const std::pair<double, ValueId>& x) { return x.first / double(g.value(x.second).constant->numel()); };
    std::stable_sort(alone.begin(), alone.end(), [&](const auto& x, const auto& y) { return per_byte(x) < per_byte(y); });
    auto prefix = [&](size_t k) {
        std::vector<ValueId> ids;
        for (size_t i = 0; i < k; ++i) ids.push_back(alone[i].second);
        return ids;
    };
    size_t lo = 0, hi = alone.size();  // prefix lo fits (0 does), hi does not
    double lo_err = 0;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        double e = error(prefix(mid));
        if (e <= tolerance) lo = mid, lo_err = e;
        else hi = mid;
    }
    c.values.clear();
    for (ValueId id : prefix(lo)) c.values.insert(g.value(id).name);
    // The rest: filters and matrices go to int16 with a scale per output channel (the
    // writer's int16_tensor; 2^-15 of each channel's largest weight instead of float16's
    // 2^-11 of each weight: in ppocr_v4_det that is what keeps the error down); vectors
    // stay float32.
    std::vector<ValueId> ids = prefix(lo);
    for (size_t i = lo; i < alone.size(); ++i) {
        ValueId id = alone[i].second;
        const Tensor& t = *g.value(id).constant;
        if (t.rank() < 2) {
            c.kept.push_back(g.value(id).name);
            continue;
        }
        c.int16.insert(g.value(id).name);
        const int64_t slices = t.dim(0) > 0 ? t.dim(0) : 1, per = t.numel() / slices;
        Tensor r(DType::F32, t.shape());
        for (int64_t sl = 0; sl < slices; ++sl) {
            float mx = 0;
            for (int64_t k = sl * per; k < (sl + 1) * per; ++k) mx = std::max(mx, std::fabs(t.data<float>()[k]));
            float scale = mx > 0 ? mx / 32767.f : 1.f;
            for (int64_t k = sl * per; k < (sl + 1) * per; ++k)
                r.data<float>()[k] = float(std::lround(t.data<float>()[k] / scale)) * scale;
        }
        rounded[id] = std::make_shared<const Tensor>(std::move(r));
        ids.push_back(id);
    }
    lo_err = error(ids);
    c.error = lo_err;
    return c;
}

// --preprocess (inline JSON, or a sidecar file) or else the model's own sidecar
// (`model.onnx.json`): checked with the vision library's reader (the one `run --image` uses
// on the stored text), and stored without its "class_names" path: the names themselves
// travel in the file (from --class-names, or else read from that path now).
void store_preprocess(const ConvertArgs& a, EcnnWriteOptions& o, std::string& class_file) {
    std::string text, origin, base_dir;
    const std::string& pp = a.preprocess;
    const size_t first = pp.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && pp[first] == '{') {
        text = pp;
        origin = "--preprocess";
    } else {
        origin = pp.empty() ? vision::find_sidecar(a.model) : pp;
        if (origin.empty()) return;
        std::ifstream f(origin);
        if (!f) throw Error(ErrorKind::Io, origin + ": cannot read preprocessing JSON");
        text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
        base_dir = std::filesystem::path(origin).parent_path().string();
        std::printf("preprocessing from %s\n", origin.c_str());
    }
    vision::Preprocess check;
    vision::apply_sidecar_json(check, text, origin, base_dir);  // throws naming `origin`
    nlohmann::json j = nlohmann::json::parse(text);
    if (j.contains("class_names")) {
        if (class_file.empty()) class_file = check.class_names;
        j.erase("class_names");
    }
    o.preprocess = j.dump();
}

}  // namespace

int cmd_convert(const ConvertArgs& a) {
    if (a.output.empty()) fail("convert needs -o FILE.ecnn");
    const std::string& t = a.target;
    if (t != "portable" && t != "x86-avx2" && t != "x86-avx512" && t != "arm64")
        fail("--target must be portable, x86-avx2, x86-avx512 or arm64, got '" + t + "'");
    auto graph = load_model(a.model);
    if (graph->optimized) fail(a.model + ": is already an .ecnn file");
    // --input-shape fixes dynamic dims for good.
    for (const auto& [name, shape] : parse_input_shapes(a.input_shapes)) {
        if (!has_input(*graph, name)) fail(a.model + ": --input-shape names '" + name + "', which is not a model input");
        Value& v = graph->value(graph->find(name));
        if (v.shape && v.shape->size() != shape.size())
            fail(a.model + ": input '" + name + "' has rank " + std::to_string(v.shape->size()) + ", --input-shape gives " +
                 shape_str(shape));
        std::vector<Dim> dims(shape.size());
        for (size_t i = 0; i < shape.size(); ++i) {
            if (v.shape && (*v.shape)[i].is_static() && (*v.shape)[i].value != shape[i])
                fail(a.model + ": input '" + name + "' has dim " + std::to_string(i) + " fixed at " +
                     std::to_string((*v.shape)[i].value) + ", --input-shape gives " + shape_str(shape));
            dims[i].value = shape[i];
        }
        v.shape = dims;
    }
    EcnnWriteOptions o;
    o.fp16_weights = a.fp16_weights;
    o.target = a.target;
    o.converter = "edgecnn convert 0.1.0";
    std::string class_file = a.class_names;
    store_preprocess(a, o, class_file);
    if (!class_file.empty()) o.class_names = vision::read_class_names(class_file);
    if (a.target != "portable") check_ecnn_target(a.target, a.output);  // packs for the CPU it runs on
    std::shared_ptr<Graph> stored = graph;
    if (a.optimize && all_static(*graph)) {
        try {
            if (auto g = optimized_graph(graph)) stored = g;
        } catch (const Error& e) {
            // Ops this tool does not know (custom ops registered by an application) cannot
            // be optimized here: the graph is stored as imported.
            if (e.kind() != ErrorKind::Unsupported || a.target != "portable") throw;
            std::fprintf(stderr, "note: storing the graph unoptimized: %s\n", e.what());
        }
    }
    if (!stored->optimized && a.optimize) {
        // Dynamic dims: only what needs no shapes. BatchNorm folds into the Conv/Gemm
        // before it (fewer nodes and vectors to store, and float16 weights are then the
        // folded ones); the runtime runs the whole pipeline for the shapes it binds.
        fold_batchnorm(*stored);
    }
    size_t packed = 0;
    if (a.target != "portable") {
        if (!stored->optimized)
            fail(a.model + ": --target packs weights for fixed shapes: give every dynamic input dim with --input-shape");
        packed = add_packed_weights(*stored);
    }
    if (a.fp16_weights) {
        Fp16Choice c = choose_fp16(*stored, a.fp16_tolerance);
        if (c.measured)
            std::printf("fp16: %zu of %zu float32 tensors in float16, %zu in int16 per channel, output moved by %.2g of "
                        "its range on random inputs (tolerance %.2g)\n",
                        c.values.size(), c.candidates, c.int16.size(), c.error, a.fp16_tolerance);
        for (size_t i = 0; i < c.kept.size() && i < 8; ++i) std::printf("  kept float32: %s\n", c.kept[i].c_str());
        if (c.kept.size() > 8) std::printf("  kept float32: ... %zu more\n", c.kept.size() - 8);
        if (c.measured) {
            o.fp16_values = std::move(c.values);
            o.int16_values = std::move(c.int16);
        } else {
            std::printf("fp16: not measured; weight matrices and filters in float16, vectors float32\n");
        }
    }
    write_ecnn_file(a.output, *stored, o);
    std::printf("wrote %s (%s graph, %zu nodes, %s weights, target %s, %zu packed weight sets)\n", a.output.c_str(),
                stored->optimized ? "optimized" : "imported", stored->nodes.size(), a.fp16_weights ? "fp16" : "fp32",
                a.target.c_str(), packed);
    return 0;
}

}  // namespace edgecnn::cli
