// What the model-file fuzz targets (onnx, ecnn) do with a graph that loaded: a Session
// (reference and optimized) with bound small input shapes, then one run on pseudo-random
// inputs derived from the bytes. Anything but a clean edgecnn::Error (crash, sanitizer
// report, other exception, hang) is a bug; an Error of kind Internal is one too (a kernel
// threw where the op's checks should have refused the node), reported by aborting.
//
// Bounds that keep one input cheap (they skip the input, they do not hide errors):
// input shapes are capped (kMaxInputDim, kMaxInputElems), every tensor the engine
// allocates is capped by the engine's own limit (fuzz_limits.hpp), and models whose
// convolutions / matrix products would cost more than kMaxMacs are bound but not run.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "fuzz_limits.hpp"
#include "runtime/session.hpp"

namespace edgecnn::fuzz {

constexpr int64_t kMaxInputDim = 256;
constexpr int64_t kMaxInputElems = int64_t(1) << 16;
constexpr int64_t kMaxMacs = 20'000'000;
constexpr int64_t kDynamicDim = 2;  // what named or unknown dims are bound to

inline uint64_t fnv1a(const uint8_t* data, size_t size) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ull;
    return h;
}

struct Rng {
    uint64_t s;
    uint32_t next() {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        return uint32_t(s >> 33);
    }
};

// Fills with small values: floats in [-2, 2), integers in [0, 4) so that index inputs
// (Gather, Slice, Reshape targets) are often valid, bools 0/1.
inline void fill(Tensor& t, Rng& rng) {
    for (int64_t i = 0; i < t.numel(); ++i) {
        uint32_t r = rng.next();
        float f = float(r % 4096) / 1024.f - 2.f;
        auto k = int64_t(r % 4);
        switch (t.dtype()) {
            case DType::F32: t.data<float>()[i] = f; break;
            case DType::F64: t.data<double>()[i] = f; break;
            case DType::F16: static_cast<uint16_t*>(t.raw())[i] = float_to_half(f); break;
            case DType::I64: t.data<int64_t>()[i] = k; break;
            case DType::I32: t.data<int32_t>()[i] = int32_t(k); break;
            case DType::I8: t.data<int8_t>()[i] = int8_t(k); break;
            case DType::U8: t.data<uint8_t>()[i] = uint8_t(k); break;
            case DType::Bool: static_cast<uint8_t*>(t.raw())[i] = uint8_t(r & 1); break;
            default: break;  // zeros
        }
    }
}

inline int64_t numel_or_zero(const std::optional<Shape>& s) {
    if (!s) return 0;
    try {
        return shape_numel(*s);
    } catch (const Error&) {
        return 0;
    }
}

// Multiply-accumulates of the ops whose cost is not linear in their tensors' sizes.
inline double estimated_macs(const Session& s) {
    const Graph& g = s.graph();
    const auto& shapes = s.value_shapes();
    auto shape = [&](ValueId id) -> const std::optional<Shape>& {
        static const std::optional<Shape> none;
        return id == kNoValue || size_t(id) >= shapes.size() ? none : shapes[size_t(id)];
    };
    double total = 0;
    for (const Node& n : g.nodes) {
        if (n.inputs.size() < 2 || n.outputs.empty()) continue;
        const auto& a = shape(n.inputs[0]);
        const auto& w = shape(n.inputs[1]);
        const auto& y = shape(n.outputs[0]);
        if (!a || !w || !y || w->empty()) continue;
        double wn = double(numel_or_zero(w));
        double big = double(std::max(numel_or_zero(a), numel_or_zero(y)));
        const std::string& op = n.op_type;
        if (op.find("Conv") != std::string::npos) {
            total += big * wn / double(std::max<int64_t>(1, (*w)[0]));
        } else if (op == "Gemm" || op.find("MatMul") != std::string::npos) {
            total += big * double(std::max<int64_t>((*w)[0], w->back()));
        }
    }
    return total;
}

// Binds, (maybe) runs and reads the outputs of `graph` at optimization levels 1 and 0;
// `tag` names the target in the abort message.
inline void run_small(const std::shared_ptr<Graph>& graph, const uint8_t* data, size_t size, const char* tag) {
    std::vector<Shape> shapes;
    for (ValueId id : graph->inputs) {
        const Value& v = graph->value(id);
        Shape s;
        int64_t elems = 1;
        if (v.shape) {
            for (const Dim& d : *v.shape) {
                int64_t x = d.is_static() ? d.value : kDynamicDim;
                if (x > kMaxInputDim) return;
                elems *= std::max<int64_t>(x, 1);
                if (elems > kMaxInputElems) return;
                s.push_back(x);
            }
        }
        shapes.push_back(std::move(s));
    }
    for (int level : {1, 0}) {
        try {
            SessionOptions options;
            options.optimization_level = level;
            Session session(graph, options);
            session.bind_shapes(shapes);
            if (estimated_macs(session) > double(kMaxMacs)) {
                note_error("(too costly to run: bound only)");
                return;
            }
            Rng rng{fnv1a(data, size)};
            NamedTensors inputs;
            for (size_t k = 0; k < graph->inputs.size(); ++k) {
                const Value& v = graph->value(graph->inputs[k]);
                Tensor t(v.dtype == DType::Undefined ? DType::F32 : v.dtype, shapes[k]);
                fill(t, rng);
                inputs.emplace_back(v.name, t);
            }
            NamedTensors out = session.run(inputs);
            // Outputs must be readable in full (ASan checks their extent).
            volatile uint8_t sink = 0;
            for (const auto& [name, t] : out) {
                const auto* p = static_cast<const uint8_t*>(t.raw());
                for (size_t i = 0; i < t.nbytes(); ++i) sink = uint8_t(sink ^ p[i]);
            }
        } catch (const Error& e) {
            note_error(e.what());
            // A kernel's own exception converted by the runtime: the op let through a node
            // its kernel cannot run. A clean message for users, but a bug to fix here.
            if (e.kind() == ErrorKind::Internal) {
                std::fprintf(stderr, "%s: %s\n", tag, e.what());
                std::abort();
            }
        }
    }
}

}  // namespace edgecnn::fuzz
