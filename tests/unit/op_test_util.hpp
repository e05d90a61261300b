// Runs one op through its registered kernel, outside any graph: for op unit tests.
#pragma once
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "ops/op.hpp"

namespace edgecnn::test {

inline Attribute attr_int(int64_t v) { Attribute a; a.kind = Attribute::Kind::Int; a.i = v; return a; }
inline Attribute attr_float(float v) { Attribute a; a.kind = Attribute::Kind::Float; a.f = v; return a; }
inline Attribute attr_string(std::string v) { Attribute a; a.kind = Attribute::Kind::String; a.s = std::move(v); return a; }
inline Attribute attr_ints(std::vector<int64_t> v) { Attribute a; a.kind = Attribute::Kind::Ints; a.ints = std::move(v); return a; }
inline Attribute attr_floats(std::vector<float> v) { Attribute a; a.kind = Attribute::Kind::Floats; a.floats = std::move(v); return a; }

// How run_op makes the kernel: as in a compiled plan (fast kernels) with a pool, and
// where to report the kernel's name.
struct OpRunContext {
    ThreadPool* pool = nullptr;
    bool for_plan = false;
    std::string* kernel_name = nullptr;
};

// Builds a node with `inputs.size()` inputs (an empty Tensor marks an omitted input) and
// `num_outputs` outputs, creates its kernel, infers and runs it; returns the outputs.
inline std::vector<Tensor> run_op(const std::string& op, const std::vector<Tensor>& inputs,
                                  std::map<std::string, Attribute> attrs = {}, size_t num_outputs = 1,
                                  int64_t opset = 17, const OpRunContext& ctx = {}) {
    Node node;
    node.name = "test_" + op;
    node.op_type = op;
    node.attrs = std::move(attrs);
    for (size_t i = 0; i < inputs.size(); ++i) node.inputs.push_back(inputs[i].empty() ? kNoValue : ValueId(i));
    for (size_t i = 0; i < num_outputs; ++i) node.outputs.push_back(ValueId(100 + i));
    const OpDef* def = OpRegistry::instance().find(op);
    if (!def) throw Error(ErrorKind::Unsupported, "op " + op + " is not registered");
    OpAttrs oa(node, opset, nullptr, ctx.pool, ctx.for_plan);
    auto kernel = def->factory(oa);
    if (!oa.unread().empty()) throw Error(ErrorKind::Unsupported, "attribute '" + oa.unread()[0] + "' not read");
    std::vector<ValueInfo> in(inputs.size()), out(num_outputs);
    std::vector<const Tensor*> in_ptrs(inputs.size(), nullptr);
    for (size_t i = 0; i < inputs.size(); ++i) {
        if (inputs[i].empty()) { in[i].present = false; continue; }
        in[i].dtype = inputs[i].dtype();
        in[i].shape = inputs[i].shape();
        in[i].data = &inputs[i];
        in_ptrs[i] = &inputs[i];
    }
    if (!kernel->infer(in, out)) throw Error(ErrorKind::Invalid, "infer returned false with all inputs known");
    std::vector<Tensor> results(num_outputs);
    std::vector<Tensor*> out_ptrs(num_outputs);
    for (size_t i = 0; i < num_outputs; ++i) {
        results[i] = Tensor(out[i].dtype, out[i].shape);
        out_ptrs[i] = &results[i];
    }
    kernel->run(in_ptrs, out_ptrs);
    if (ctx.kernel_name) *ctx.kernel_name = kernel->kernel_name();
    return results;
}

}  // namespace edgecnn::test
