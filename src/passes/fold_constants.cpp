// Evaluates nodes whose inputs are all constants (and Shape/Size of statically shaped
// values) once, replacing their outputs by constant values. Walking in order, it also
// infers the static shapes of outputs that lack them, so that whole chains such as
// Reshape(x, Concat(Shape(Add(Reshape(...)))...)) fold in one call.
#include <algorithm>
#include <set>

#include "base/error.hpp"
#include "passes/graph_util.hpp"
#include "passes/passes.hpp"

namespace edgecnn {

using namespace passes;

namespace {

bool is_random(const Node& n) {
    static const std::set<std::string> ops = {"RandomNormal", "RandomNormalLike", "RandomUniform",
                                              "RandomUniformLike", "Bernoulli", "Multinomial"};
    return ops.count(n.op_type) > 0;
}

// Shape or Size of a value whose shape is static: the result without running anything.
std::optional<Tensor> fold_shape_op(const Graph& g, const Node& n) {
    if (!(n.domain.empty() || n.domain == "ai.onnx") || (n.op_type != "Shape" && n.op_type != "Size")) return {};
    if (n.inputs.empty() || n.inputs[0] == kNoValue || n.outputs.size() != 1) return {};
    auto s = static_shape(g, n.inputs[0]);
    if (!s) return {};
    if (n.op_type == "Size") return Tensor::scalar<int64_t>(shape_numel(*s));
    const int64_t r = int64_t(s->size());
    auto clampi = [r](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + r : v, 0, r); };
    const int64_t b = clampi(node_int_attr(n, "start", 0));
    const int64_t e = std::max(b, n.attr("end") ? clampi(node_int_attr(n, "end", r)) : r);
    std::vector<int64_t> dims(s->begin() + b, s->begin() + e);
    return Tensor::from_vector<int64_t>(dims, {e - b});
}

// Folded results may not grow the model by much more than their inputs.
constexpr int64_t kMaxFoldGrowthBytes = int64_t(16) << 20;

}  // namespace

int fold_constants(Graph& g) {
    std::vector<bool> dead(g.nodes.size(), false);
    int folded = 0;
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        const Node& node = g.nodes[n];
        std::vector<Tensor> results;
        if (auto t = fold_shape_op(g, node)) {
            results.push_back(std::move(*t));
        } else {
            bool any = false, all_const = true;
            int64_t in_bytes = 0;
            for (ValueId i : node.inputs) {
                if (i == kNoValue) continue;
                any = true;
                const Tensor* c = constant_of(g, i);
                if (!c) {
                    all_const = false;
                    break;
                }
                in_bytes += int64_t(c->nbytes());
            }
            if (!any || !all_const || is_random(node)) {
                // Not foldable: still give its outputs static shapes where the inputs have
                // them, so that later Shape nodes fold in this same walk.
                bool missing = false;
                for (ValueId o : node.outputs)
                    if (o != kNoValue && !static_shape(g, o)) missing = true;
                if (missing) infer_node_shapes(g, node);
                continue;
            }
            auto kernel = make_kernel(g, node);
            if (!kernel) continue;
            std::vector<ValueInfo> in(node.inputs.size()), out(node.outputs.size());
            std::vector<const Tensor*> in_t(node.inputs.size(), nullptr);
            for (size_t i = 0; i < node.inputs.size(); ++i) {
                if (node.inputs[i] == kNoValue) {
                    in[i].present = false;
                    continue;
                }
                const Tensor* c = constant_of(g, node.inputs[i]);
                in[i].dtype = c->dtype();
                in[i].shape = c->shape();
                in[i].data = c;
                in_t[i] = c;
            }
            for (size_t o = 0; o < node.outputs.size(); ++o) out[o].present = node.outputs[o] != kNoValue;
            try {
                if (!kernel->infer(in, out)) continue;
                int64_t out_bytes = 0;
                for (const ValueInfo& o : out)
                    if (o.present) out_bytes += shape_numel(o.shape) * int64_t(dtype_size(o.dtype));
                if (out_bytes > std::max(in_bytes, kMaxFoldGrowthBytes)) continue;
                results.resize(node.outputs.size());
                std::vector<Tensor*> out_t(node.outputs.size(), nullptr);
                for (size_t o = 0; o < node.outputs.size(); ++o)
                    if (out[o].present) {
                        results[o] = Tensor(out[o].dtype, out[o].shape);
                        out_t[o] = &results[o];
                    }
                kernel->run(in_t, out_t);
            } catch (const Error&) {
                continue;  // left for the session, which reports the error with the node's name
            }
        }
        for (size_t o = 0; o < node.outputs.size(); ++o) {
            if (node.outputs[o] == kNoValue) continue;
            Value& v = g.value(node.outputs[o]);
            v.dtype = results[o].dtype();
            std::vector<Dim> dims(results[o].rank());
            for (size_t d = 0; d < dims.size(); ++d) dims[d].value = results[o].dim(d);
            v.shape = std::move(dims);
            v.constant = std::make_shared<const Tensor>(std::move(results[o]));
            v.producer = -1;
        }
        dead[n] = true;
        ++folded;
    }
    if (folded) finish_pass(g, dead);
    return folded;
}

}  // namespace edgecnn
