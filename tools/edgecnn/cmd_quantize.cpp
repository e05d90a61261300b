// `edgecnn quantize` (post-training int8 → QDQ .onnx, with the accuracy guard) and
// `edgecnn eval` (top-1/top-k accuracy over a labelled IDX set).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "base/cpu_features.hpp"
#include "base/error.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "io/idx.hpp"
#include "onnx/exporter.hpp"
#include "onnx/tensor_proto.hpp"
#include "quant/calibration.hpp"
#include "quant/quantize.hpp"
#include "random_inputs.hpp"
#include "runtime/session.hpp"

namespace edgecnn::cli {

namespace {

// One line on stderr, redrawn in place: "calibrating [#####     ] 250/500".
void progress_bar(const std::string& phase, int64_t done, int64_t total) {
    const int width = 30;
    const int filled = total > 0 ? int(double(done) / double(total) * width) : width;
    std::fprintf(stderr, "\r%-26s [%s%s] %lld/%lld", phase.c_str(), std::string(size_t(filled), '#').c_str(),
                 std::string(size_t(width - filled), ' ').c_str(), (long long)done, (long long)total);
    if (done >= total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
}

Tensor read_pb(const std::string& path) { return read_tensor_pb(path); }

ImagePreprocess preprocess_of(const PreprocessArgs& p) {
    ImagePreprocess pre;
    pre.scale = float(p.scale);
    pre.mean = float(p.mean);
    pre.std = float(p.std);
    return pre;
}

}  // namespace

int cmd_quantize(const QuantizeArgs& a) {
    auto graph = load_model(a.model);
    if (graph->opset < 13)
        fail_unsupported(a.model + ": opset " + std::to_string(graph->opset) +
                         "; quantize writes per-channel QDQ (opset 13) and needs a model of opset 13 or later");
    const CpuFeatures& f = cpu_features();
    if (!f.avx512_vnni && !f.avx_vnni && !f.dotprod)
        std::fprintf(stderr, "warning: this CPU has no int8 dot-product instructions (VNNI): int8 may not be faster than fp32\n");
    g_read_tensor_pb_hook = read_pb;
    auto calib = open_calibration_source(*graph, a.calib, preprocess_of(a.pre), a.calib_count,
                                         parse_input_shapes(a.input_shapes));
    QuantizeOptions opt;
    opt.method = a.method;
    opt.max_error = a.max_error;
    opt.guard_samples = a.guard_samples;
    opt.progress = progress_bar;
    std::printf("calibrating on %lld inputs from %s (%s)\n", (long long)calib->size(), a.calib.c_str(), a.method.c_str());
    QuantizeResult r = quantize_model(*graph, *calib, opt);
    std::printf("%-32s %-6s %12s  %s\n", "layer", "op", "sensitivity", "precision");
    for (const auto& l : r.layers)
        std::printf("%-32s %-6s %12.5f  %s\n", l.name.c_str(), l.op.c_str(), l.sensitivity, l.int8 ? "int8" : "fp32");
    const int64_t n8 = std::count_if(r.layers.begin(), r.layers.end(), [](const LayerReport& l) { return l.int8; });
    std::printf("error with every layer int8: %.5f\n", r.error_all_int8);
    std::printf("final error: %.5f (budget %.5f, max |int8 - fp32| / fp32 output range over %lld inputs); %lld of %zu layers int8\n",
                r.final_error, a.max_error, (long long)std::min<int64_t>(a.guard_samples, calib->size()), (long long)n8,
                r.layers.size());
    export_onnx_file(*r.graph, a.output, std::max<int64_t>(graph->opset, 13));
    std::printf("wrote %s\n", a.output.c_str());
    if (a.max_error > 0 && r.final_error > a.max_error) {
        std::fprintf(stderr, "error: the error budget %.5f is not met even with every layer in fp32 (%.5f)\n", a.max_error,
                     r.final_error);
        return 2;
    }
    return 0;
}

int cmd_eval(const EvalArgs& a) {
    auto graph = load_model(a.model);
    const Graph& g = *graph;
    if (g.inputs.size() != 1) fail_unsupported(a.model + ": eval feeds models with one input");
    Tensor images = read_idx_u8(a.dataset);
    if (images.rank() != 3) fail(a.dataset + ": expected IDX images [N,H,W]");
    std::vector<int> labels = read_idx_labels(a.labels);
    if (int64_t(labels.size()) != images.dim(0))
        fail(a.labels + ": " + std::to_string(labels.size()) + " labels for " + std::to_string(images.dim(0)) + " images");
    const Value& in = g.value(g.inputs[0]);
    if (!in.shape || in.shape->empty()) fail_unsupported(a.model + ": input '" + in.name + "' has no declared shape");
    const bool dynamic_batch = !(*in.shape)[0].is_static();
    Shape one;
    for (size_t i = 0; i < in.shape->size(); ++i) {
        const Dim& d = (*in.shape)[i];
        if (i == 0) one.push_back(1);
        else if (d.is_static()) one.push_back(d.value);
        else fail_unsupported(a.model + ": input '" + in.name + "' has a dynamic dim other than the batch");
    }
    const int64_t hw = images.dim(1) * images.dim(2);
    if (shape_numel(one) != hw) fail(a.dataset + ": images do not match the input " + shape_str(one));
    const int64_t n = a.limit > 0 ? std::min<int64_t>(a.limit, images.dim(0)) : images.dim(0);
    const int64_t batch = dynamic_batch ? std::max(1, a.batch) : 1;
    SessionOptions so;
    so.num_threads = a.threads;
    Session session(graph, so);
    const ImagePreprocess pre = preprocess_of(a.pre);
    int64_t top1 = 0, topk = 0;
    for (int64_t b0 = 0; b0 < n; b0 += batch) {
        const int64_t bs = std::min(batch, n - b0);
        Shape s = one;
        s[0] = bs;
        Tensor x(DType::F32, s);
        const uint8_t* px = images.data<uint8_t>() + b0 * hw;
        for (int64_t e = 0; e < bs * hw; ++e) x.data<float>()[e] = (float(px[e]) * pre.scale - pre.mean) / pre.std;
        auto out = session.run({{in.name, x}});
        const Tensor& logits = out[0].second;
        if (logits.dtype() != DType::F32 || logits.rank() != 2 || logits.dim(0) != bs)
            fail(a.model + ": eval expects a [batch, classes] float32 first output, got " + shape_str(logits.shape()));
        const int64_t classes = logits.dim(1);
        for (int64_t i = 0; i < bs; ++i) {
            const float* l = logits.data<float>() + i * classes;
            const int label = labels[size_t(b0 + i)];
            int64_t better = 0;  // classes scored above the label's
            for (int64_t c = 0; c < classes; ++c) better += l[c] > (label < classes ? l[label] : INFINITY);
            int64_t best = std::max_element(l, l + classes) - l;
            top1 += best == label;
            topk += label < classes && better < a.top_k;
        }
        progress_bar("evaluating", b0 + bs, n);
    }
    std::printf("top-1: %.4f (%lld/%lld)\n", double(top1) / double(n), (long long)top1, (long long)n);
    if (a.top_k > 1) std::printf("top-%d: %.4f\n", a.top_k, double(topk) / double(n));
    return 0;
}

}  // namespace edgecnn::cli
