// Small convolutional nets built in memory (no files) for the concurrency, determinism and
// soak tests: each exercises a different set of fast kernels (3x3 → Winograd, depthwise,
// 1x1 → GEMM, strided im2col, pools, residual Add, Gemm head).
#pragma once
#include <onnx/onnx_pb.h>

#include <random>
#include <string>
#include <vector>

#include "onnx/importer.hpp"

namespace edgecnn::test {

struct SyntheticNet {
    onnx::ModelProto model;
    std::mt19937 rng{1234};

    void weight(const std::string& name, std::vector<int64_t> dims, float scale = 0.3f) {
        auto* w = model.mutable_graph()->add_initializer();
        w->set_name(name);
        w->set_data_type(1);
        int64_t n = 1;
        for (int64_t d : dims) {
            w->add_dims(d);
            n *= d;
        }
        std::uniform_real_distribution<float> u(-scale, scale);
        for (int64_t i = 0; i < n; ++i) w->add_float_data(u(rng));
    }
    onnx::NodeProto* node(const std::string& op, std::vector<std::string> in, std::string out) {
        auto* n = model.mutable_graph()->add_node();
        n->set_op_type(op);
        n->set_name(out);
        for (auto& i : in) n->add_input(i);
        n->add_output(out);
        return n;
    }
    static void ints(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INTS);
        for (int64_t x : v) a->add_ints(x);
    }
    static void int1(onnx::NodeProto* n, const std::string& name, int64_t v) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(v);
    }
    // Conv (+ bias) + Relu; returns the Relu output.
    std::string conv(const std::string& x, const std::string& name, int64_t cin, int64_t cout, int64_t k,
                     int64_t stride = 1, int64_t group = 1, bool relu = true) {
        weight(name + "_w", {cout, cin / group, k, k});
        weight(name + "_b", {cout}, 0.1f);
        auto* n = node("Conv", {x, name + "_w", name + "_b"}, name);
        ints(n, "kernel_shape", {k, k});
        ints(n, "strides", {stride, stride});
        ints(n, "pads", {k / 2, k / 2, k / 2, k / 2});
        if (group > 1) int1(n, "group", group);
        if (!relu) return name;
        node("Relu", {name}, name + "_relu");
        return name + "_relu";
    }
};

inline void add_value_info(onnx::ValueInfoProto* v, const std::string& name, const std::vector<std::string>& dims) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(1);
    for (const auto& d : dims) {
        auto* dim = tt->mutable_shape()->add_dim();
        if (!d.empty() && d[0] >= '0' && d[0] <= '9') dim->set_dim_value(std::stoll(d));
        else dim->set_dim_param(d);
    }
}

// variant 0: 3x3 convs + depthwise + 1x1 + residual + max pool + global pool + Gemm head.
// variant 1: strided 5x5 conv, grouped conv, average pool, no head (spatial output).
// Input "x" is [N, 3, H, W] with named N, H, W (so one model serves several shapes).
inline onnx::ModelProto synthetic_conv_net(int variant) {
    SyntheticNet s;
    s.model.set_ir_version(8);
    s.model.add_opset_import()->set_version(13);
    auto* g = s.model.mutable_graph();
    g->set_name(std::string("synthetic") + std::to_string(variant));
    add_value_info(g->add_input(), "x", {"N", "3", "H", "W"});
    std::string y;
    if (variant == 0) {
        std::string a = s.conv("x", "c1", 3, 16, 3);
        std::string b = s.conv(a, "dw", 16, 16, 3, 1, 16);
        std::string c = s.conv(b, "pw", 16, 16, 1, 1, 1, false);
        s.node("Add", {a, c}, "res");
        auto* mp = s.node("MaxPool", {"res"}, "mp");
        SyntheticNet::ints(mp, "kernel_shape", {2, 2});
        SyntheticNet::ints(mp, "strides", {2, 2});
        std::string d = s.conv("mp", "c2", 16, 24, 3);
        s.node("GlobalAveragePool", {d}, "gap");
        auto* fl = s.node("Flatten", {"gap"}, "flat");
        SyntheticNet::int1(fl, "axis", 1);
        s.weight("fc_w", {10, 24});
        s.weight("fc_b", {10}, 0.1f);
        auto* fc = s.node("Gemm", {"flat", "fc_w", "fc_b"}, "y");
        SyntheticNet::int1(fc, "transB", 1);
        y = "y";
        add_value_info(g->add_output(), y, {"N", "10"});
    } else {
        std::string a = s.conv("x", "c5", 3, 12, 5, 2);
        std::string b = s.conv(a, "grp", 12, 12, 3, 1, 3);
        auto* ap = s.node("AveragePool", {b}, "ap");
        SyntheticNet::ints(ap, "kernel_shape", {3, 3});
        SyntheticNet::ints(ap, "pads", {1, 1, 1, 1});
        std::string c = s.conv("ap", "c3", 12, 8, 3, 1, 1, false);
        s.node("Sigmoid", {c}, "y");
        y = "y";
        add_value_info(g->add_output(), y, {"N", "8", "h", "w"});
    }
    return s.model;
}

inline std::shared_ptr<Graph> import_model(const onnx::ModelProto& m, const std::string& name) {
    std::string b = m.SerializeAsString();
    return import_onnx_bytes(b.data(), b.size(), name);
}

}  // namespace edgecnn::test
