// ConvNhwc 1x1 "expand" (stride 1, group 1, no residual) whose output is read only by a
// depthwise ConvNhwc (no residual) → edgecnn.ExpandDwNhwc (ops/nhwc.cpp), which runs the
// two band by band so the expanded map never goes out to memory. MobileNet-style blocks on
// large maps are memory-bound: lraspp_mobilenet_v3_large at 520x520 expands 16 → 64
// channels over 260x260 (17 MB written, then read back by the 3x3 depthwise conv).
// Only expansions from at most 16 channels fuse: with K = Cin that small the GEMM writes
// 4 bytes per <= 16 multiply-adds and is bound by memory, which the fusion saves. From 24
// channels up the GEMM is compute-bound and the halo rows the bands expand twice cost more
// than the traffic saved (lraspp at 520x520, 1 thread: 130x130 24 → 72 stride 1 0.59 ms
// fused at best vs 0.60 unfused; 33x33 112 → 672: 1.0 vs 0.86). Small maps stay with the
// two ops as well (their intermediate already lives in cache).
// EDGECNN_NO_EXPAND_DW=1 turns the fusion off (A/B runs).
#include <cstdlib>

#include "kernels/direct/conv_small_cin_f32.hpp"
#include "passes/graph_util.hpp"
#include "passes/passes.hpp"

namespace edgecnn {

using namespace passes;

namespace {

constexpr int64_t kMaxExpandCin = 16;

bool is_conv_nhwc(const Node& n) {
    return n.domain == "edgecnn" && n.op_type == "ConvNhwc" && n.outputs.size() == 1 && n.inputs.size() >= 2 &&
           (n.inputs.size() < 4 || n.inputs[3] == kNoValue);  // no residual
}

// Does every output row's window reach at least one image row? (ExpandDwNhwc copes with
// rows that read only padding, but such convs are odd enough to leave to the two ops.)
bool every_row_reads_image(int64_t h, int64_t oh, int64_t k, int64_t stride, int64_t dil, int64_t pad) {
    for (int64_t o = 0; o < oh; ++o) {
        bool any = false;
        for (int64_t t = 0; t < k && !any; ++t) {
            const int64_t i = o * stride - pad + t * dil;
            any = i >= 0 && i < h;
        }
        if (!any) return false;
    }
    return true;
}

}  // namespace

int fuse_expand_dwconv(Graph& g, int64_t min_bytes) {
    if (const char* e = std::getenv("EDGECNN_NO_EXPAND_DW"); e && *e && std::string(e) != "0") return 0;
    const auto uses = compute_uses(g);
    std::vector<bool> dead(g.nodes.size(), false);
    int fused = 0;
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        const Node& d = g.nodes[n];
        if (!is_conv_nhwc(d) || d.inputs[0] == kNoValue) continue;
        const ValueId mid = d.inputs[0];
        const int32_t p = g.value(mid).producer;
        if (p < 0 || dead[size_t(p)]) continue;
        const Node& e = g.nodes[size_t(p)];
        if (!is_conv_nhwc(e) || e.inputs[0] == kNoValue || node_int_attr(e, "input_nchw", 0) != 0) continue;
        if (uses[size_t(mid)].size() != 1 || is_graph_output(g, mid)) continue;
        const auto xs = static_shape(g, e.inputs[0]), ms = static_shape(g, mid), ys = static_shape(g, d.outputs[0]);
        if (!xs || !ms || !ys || xs->size() != 4 || ms->size() != 4 || ys->size() != 4) continue;
        if (g.value(mid).dtype != DType::F32 || g.value(e.inputs[0]).dtype != DType::F32) continue;
        const Tensor* w1 = f32_constant_of(g, e.inputs[1]);
        const Tensor* w2 = f32_constant_of(g, d.inputs[1]);
        const bool b1_ok = e.inputs.size() < 3 || e.inputs[2] == kNoValue || f32_constant_of(g, e.inputs[2]);
        const bool b2_ok = d.inputs.size() < 3 || d.inputs[2] == kNoValue || f32_constant_of(g, d.inputs[2]);
        if (!w1 || !w2 || !b1_ok || !b2_ok || w1->rank() != 4 || w2->rank() != 4) continue;
        const int64_t cin = (*xs)[3], cexp = (*ms)[3];
        // The expand: what ConvNhwc runs as one GEMM (few input channels take the direct
        // kernel instead, whose sums are ordered differently).
        if (w1->dim(0) != cexp || w1->dim(1) != cin || w1->dim(2) != 1 || w1->dim(3) != 1 || cin <= kConvSmallCinMax ||
            cin > kMaxExpandCin)
            continue;
        if (node_int_attr(e, "group", 1) != 1 || node_ints_attr(e, "strides", {1, 1}) != std::vector<int64_t>{1, 1} ||
            node_ints_attr(e, "pads", {0, 0, 0, 0}) != std::vector<int64_t>{0, 0, 0, 0})
            continue;
        // The depthwise conv: one filter per channel.
        if (cexp <= 1 || node_int_attr(d, "group", 1) != cexp || w2->dim(0) != cexp || w2->dim(1) != 1) continue;
        const auto strides = node_ints_attr(d, "strides", {1, 1}), dil = node_ints_attr(d, "dilations", {1, 1}),
                   pads = node_ints_attr(d, "pads", {0, 0, 0, 0});
        if (strides.size() != 2 || dil.size() != 2 || pads.size() != 4) continue;
        if (!every_row_reads_image((*ms)[1], (*ys)[1], w2->dim(2), strides[0], dil[0], pads[0])) continue;
        if (shape_numel(*ms) * 4 < min_bytes) continue;
        Node f;
        f.name = e.name + "+" + d.name;
        f.domain = "edgecnn";
        f.op_type = "ExpandDwNhwc";
        auto input = [](const Node& c, size_t i) { return i < c.inputs.size() ? c.inputs[i] : kNoValue; };
        f.inputs = {e.inputs[0], e.inputs[1], input(e, 2), d.inputs[1], input(d, 2)};
        f.outputs = d.outputs;
        for (const char* k : {"strides", "pads", "dilations", "activation", "activation_alpha", "activation_beta"})
            if (const Attribute* a = d.attr(k)) f.attrs[k] = *a;
        for (const char* k : {"activation", "activation_alpha", "activation_beta"})
            if (const Attribute* a = e.attr(k)) f.attrs[std::string("expand_") + k] = *a;
        g.nodes[n] = std::move(f);
        dead[size_t(p)] = true;
        ++fused;
    }
    if (fused) finish_pass(g, dead);
    return fused;
}

}  // namespace edgecnn
