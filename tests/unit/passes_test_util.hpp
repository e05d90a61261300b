// Helpers for the graph-pass tests: build small graphs by hand, specialize them (static
// input shapes, shapes inferred, constants folded) as the Session does, run them with the
// reference Session and compare outputs.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ir/graph.hpp"
#include "passes/pipeline.hpp"
#include "runtime/session.hpp"

namespace edgecnn::test {

inline Attribute a_int(int64_t v) { Attribute a; a.kind = Attribute::Kind::Int; a.i = v; return a; }
inline Attribute a_float(float v) { Attribute a; a.kind = Attribute::Kind::Float; a.f = v; return a; }
inline Attribute a_string(std::string v) { Attribute a; a.kind = Attribute::Kind::String; a.s = std::move(v); return a; }
inline Attribute a_ints(std::vector<int64_t> v) { Attribute a; a.kind = Attribute::Kind::Ints; a.ints = std::move(v); return a; }

inline Tensor random_tensor(Shape shape, std::mt19937& rng, float lo = -1.f, float hi = 1.f) {
    Tensor t(DType::F32, std::move(shape));
    std::uniform_real_distribution<float> d(lo, hi);
    float* p = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = d(rng);
    return t;
}

class GraphBuilder {
public:
    explicit GraphBuilder(int64_t opset = 17) { g.opset = opset; g.name = "test"; }
    Graph g;

    ValueId input(const std::string& name, const Shape& shape) {
        Value v;
        v.name = name;
        v.dtype = DType::F32;
        std::vector<Dim> dims(shape.size());
        for (size_t i = 0; i < shape.size(); ++i) dims[i].value = shape[i];
        v.shape = dims;
        ValueId id = g.add_value(v);
        g.inputs.push_back(id);
        return id;
    }
    ValueId constant(const std::string& name, Tensor t) {
        Value v;
        v.name = name;
        v.dtype = t.dtype();
        v.constant = std::make_shared<const Tensor>(std::move(t));
        return g.add_value(v);
    }
    ValueId random_constant(const std::string& name, Shape shape, std::mt19937& rng, float lo = -1.f, float hi = 1.f) {
        return constant(name, random_tensor(std::move(shape), rng, lo, hi));
    }
    // Adds a node with `num_outputs` outputs named <name>_out<k>; returns the first.
    ValueId node(const std::string& op, const std::vector<ValueId>& inputs, std::map<std::string, Attribute> attrs = {},
                 const std::string& name = "", size_t num_outputs = 1) {
        Node n;
        n.name = name.empty() ? op + "_" + std::to_string(g.nodes.size()) : name;
        n.op_type = op;
        n.inputs = inputs;
        n.attrs = std::move(attrs);
        for (size_t k = 0; k < num_outputs; ++k) {
            Value v;
            v.name = n.name + "_out" + std::to_string(k);
            n.outputs.push_back(g.add_value(v));
        }
        ValueId first = n.outputs[0];
        g.nodes.push_back(std::move(n));
        return first;
    }
    void output(ValueId v) { g.outputs.push_back(v); }
};

// What the Session does before the passes: sort, infer shapes, fold constants.
inline void specialize(Graph& g) {
    verify_and_sort(g);
    infer_shapes(g);
    fold_constants(g);
    infer_shapes(g);
}

// Gives every graph input the static shape of `shapes` (in input order).
inline void bind_input_shapes(Graph& g, const std::vector<Shape>& shapes) {
    for (size_t k = 0; k < g.inputs.size() && k < shapes.size(); ++k) {
        std::vector<Dim> dims(shapes[k].size());
        for (size_t d = 0; d < dims.size(); ++d) dims[d].value = shapes[k][d];
        g.value(g.inputs[k]).shape = dims;
    }
}

inline int count_ops(const Graph& g, const std::string& op) {
    int n = 0;
    for (const Node& node : g.nodes)
        if (node.op_type == op) ++n;
    return n;
}

inline NamedTensors run_graph(const Graph& g, const NamedTensors& inputs) {
    Session s(std::make_shared<Graph>(g));
    return s.run(inputs);
}

inline NamedTensors random_inputs(const Graph& g, std::mt19937& rng) {
    NamedTensors in;
    for (ValueId id : g.inputs) {
        const Value& v = g.value(id);
        Shape s;
        for (const Dim& d : *v.shape) s.push_back(d.value);
        in.emplace_back(v.name, random_tensor(s, rng));
    }
    return in;
}

// max|a-b| <= tol * max(1, max|b|), same names and shapes.
inline void expect_close(const NamedTensors& got, const NamedTensors& want, double tol = 1e-4) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].first, want[i].first);
        const Tensor &a = got[i].second, &b = want[i].second;
        ASSERT_EQ(a.shape(), b.shape()) << got[i].first;
        ASSERT_EQ(a.dtype(), DType::F32);
        const float *pa = a.data<float>(), *pb = b.data<float>();
        double max_ref = 0, max_err = 0;
        for (int64_t k = 0; k < b.numel(); ++k) {
            max_ref = std::max(max_ref, double(std::fabs(pb[k])));
            max_err = std::max(max_err, double(std::fabs(pa[k] - pb[k])));
        }
        EXPECT_LE(max_err, tol * std::max(1.0, max_ref)) << "output " << got[i].first << " max|ref| " << max_ref;
    }
}

// Specializes `g`, optimizes a copy with `opt`, and checks the outputs agree on random
// inputs. Returns the optimized graph.
inline Graph optimize_and_compare(Graph g, const OptimizeOptions& opt = {}, double tol = 1e-4, unsigned seed = 1) {
    specialize(g);
    Graph o = g;
    optimize_graph(o, opt);
    std::mt19937 rng(seed);
    NamedTensors in = random_inputs(g, rng);
    expect_close(run_graph(o, in), run_graph(g, in), tol);
    return o;
}

// Options with only the named pass enabled (the others off), for single-pass tests.
inline OptimizeOptions only(bool OptimizeOptions::*pass) {
    OptimizeOptions o;
    o.eliminate_identity = o.fold_constants = o.fold_batchnorm = o.fuse_conv_bias_add = o.fold_affine_into_conv = false;
    o.fuse_conv_residual = o.fuse_conv_activation = o.remove_dead_code = false;
    o.*pass = true;
    return o;
}

}  // namespace edgecnn::test
