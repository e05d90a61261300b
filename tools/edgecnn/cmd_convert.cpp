// edgecnn convert: ONNX → .ecnn (src/format/ecnn.hpp).
//
//   edgecnn convert model.onnx -o model.ecnn [--fp16-weights] [--input-shape NAME=1x3x224x224]
//                   [--target portable|x86-avx2|x86-avx512|arm64] [--preprocess JSON]
//                   [--class-names FILE]
//
// When every input shape is static (declared, or fixed with --input-shape) the stored graph
// is the one the runtime would compile: shapes specialized, constants folded, BatchNorm and
// activations fused, NHWC layout. A portable file holds no CPU-specific data (weights are
// packed at load), so it runs on any CPU. Inputs with dynamic dims keep them: the graph is
// then stored as imported with BatchNorm folded, and optimized at session creation for the
// bound shapes.
#include <cstdio>
#include <fstream>

#include "base/error.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "format/ecnn.hpp"
#include "onnx/importer.hpp"
#include "passes/passes.hpp"
#include "random_inputs.hpp"

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
    o.preprocess = a.preprocess;
    o.converter = "edgecnn convert 0.1.0";
    if (!a.class_names.empty()) {
        std::ifstream f(a.class_names);
        if (!f) throw Error(ErrorKind::Io, a.class_names + ": cannot read class names");
        std::string line;
        while (std::getline(f, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            o.class_names.push_back(line);
        }
    }
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
    write_ecnn_file(a.output, *stored, o);
    std::printf("wrote %s (%s graph, %zu nodes, %s weights, target %s, %zu packed weight sets)\n", a.output.c_str(),
                stored->optimized ? "optimized" : "imported", stored->nodes.size(), a.fp16_weights ? "fp16" : "fp32",
                a.target.c_str(), packed);
    return 0;
}

}  // namespace edgecnn::cli
