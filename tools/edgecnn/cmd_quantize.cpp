// `edgecnn quantize` (post-training int8 → QDQ .onnx or .ecnn, with the accuracy guard)
// and `edgecnn eval` (top-1/top-k accuracy over an ImageFolder tree or a labelled IDX set).
// Photos are preprocessed by the same flags and sidecar as `run --image`; IDX images by
// the same --scale/--mean/--std, with the same meaning.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include "base/cpu_features.hpp"
#include "base/error.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "format/ecnn.hpp"
#include "image_inputs.hpp"
#include "io/idx.hpp"
#include "onnx/exporter.hpp"
#include "onnx/tensor_proto.hpp"
#include "quant/calibration.hpp"
#include "quant/evaluate.hpp"
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

// A labelled set: an ImageFolder tree (labels from the sub-folders) or IDX images with an
// IDX labels file.
struct LabelledSet {
    std::unique_ptr<CalibrationSource> src;
    std::vector<int> labels;  // empty: the source's own
};

LabelledSet open_labelled_set(const Graph& g, const std::string& dataset, const std::string& labels_file,
                              const vision::Preprocess& pre, int64_t limit) {
    LabelledSet s;
    if (std::filesystem::is_directory(dataset)) {
        if (!labels_file.empty()) fail("--labels is for IDX datasets; " + dataset + " is a folder (labels from its sub-folders)");
        s.src = open_calibration_source(g, dataset, pre, limit);
        if (s.src->size() > 0 && s.src->label(0) < 0)
            fail(dataset + ": not a labelled set: expected an ImageFolder tree (one sub-folder of photos per class)");
        return s;
    }
    if (labels_file.empty()) fail(dataset + ": an IDX dataset needs --labels");
    s.src = open_calibration_source(g, dataset, pre, 0);  // all, to check the label count
    s.labels = read_idx_labels(labels_file);
    if (int64_t(s.labels.size()) != s.src->size())
        fail(labels_file + ": " + std::to_string(s.labels.size()) + " labels for " + std::to_string(s.src->size()) +
             " images");
    if (limit > 0) s.src = open_calibration_source(g, dataset, pre, limit);
    return s;
}

std::string read_text(const std::string& path) {
    std::ifstream f(path);
    if (!f) throw Error(ErrorKind::Io, path + ": cannot read");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int cmd_quantize(const QuantizeArgs& a) {
    auto graph = load_model(a.model);
    // A QDQ .onnx needs opset 13 (per-channel); an .ecnn is read by edgecnn alone, which
    // runs QuantizeLinear/DequantizeLinear in models of any opset.
    if (graph->opset < 13 && !ends_with(a.output, ".ecnn"))
        fail_unsupported(a.model + ": opset " + std::to_string(graph->opset) +
                         "; a QDQ .onnx needs per-channel QDQ (opset 13) and a model of opset 13 or later (write -o FILE.ecnn instead)");
    const CpuFeatures& f = cpu_features();
    if (!f.avx512_vnni && !f.avx_vnni && !f.dotprod)
        std::fprintf(stderr, "warning: this CPU has no int8 dot-product instructions (VNNI): int8 may not be faster than fp32\n");
    g_read_tensor_pb_hook = read_pb;
    const bool to_ecnn = ends_with(a.output, ".ecnn");
    if (!to_ecnn && !ends_with(a.output, ".onnx")) fail("-o " + a.output + ": the output must be a .onnx or .ecnn file");
    std::string sidecar;
    const vision::Preprocess pre = resolve_preprocess(a.model, a.image, "", &sidecar);
    auto calib = open_calibration_source(*graph, a.calib, pre, a.calib_count, parse_input_shapes(a.input_shapes));
    QuantizeOptions opt;
    opt.method = a.method;
    opt.max_error = a.max_error;
    opt.guard_samples = a.guard_samples;
    if (a.range_margin == "auto") {
        opt.range_margin = 0;
    } else {
        size_t used = 0;
        try {
            opt.range_margin = std::stod(a.range_margin, &used);
        } catch (...) {
            used = 0;
        }
        if (used != a.range_margin.size() || !(opt.range_margin > 0) || !std::isfinite(opt.range_margin))
            fail("--range-margin " + a.range_margin + ": expected a factor > 0 or auto");
    }
    opt.progress = progress_bar;
    LabelledSet dataset;
    double fp32_top1 = 0;
    if (a.max_drop >= 0) {
        if (a.dataset.empty()) fail("--max-drop needs a labelled --dataset");
        dataset = open_labelled_set(*graph, a.dataset, a.labels, pre, a.dataset_limit);
        EvalOptions eo;
        eo.batch = 1;
        Accuracy ref = evaluate_accuracy(graph, *dataset.src, dataset.labels, eo);
        fp32_top1 = ref.top1_rate();
        std::printf("fp32 top-1 on %s: %.4f (%lld/%lld)\n", a.dataset.c_str(), fp32_top1, (long long)ref.top1,
                    (long long)ref.count);
        opt.max_drop = a.max_drop;
        opt.drop = [&](const Graph& cand) {
            EvalOptions e;
            e.batch = 1;
            const double top1 = evaluate_accuracy(std::make_shared<Graph>(cand), *dataset.src, dataset.labels, e).top1_rate();
            return (fp32_top1 - top1) * 100.0;
        };
    } else if (!a.dataset.empty() || !a.labels.empty()) {
        fail("--dataset/--labels are for --max-drop");
    }
    std::printf("calibrating on %lld inputs from %s (%s)\n", (long long)calib->size(), a.calib.c_str(), a.method.c_str());
    QuantizeResult r = quantize_model(*graph, *calib, opt);
    std::printf("%-32s %-6s %12s  %s\n", "layer", "op", "sensitivity", "precision");
    for (const auto& l : r.layers)
        std::printf("%-32s %-6s %12.5f  %s\n", l.name.c_str(), l.op.c_str(), l.sensitivity, l.int8 ? "int8" : "fp32");
    const int64_t n8 = std::count_if(r.layers.begin(), r.layers.end(), [](const LayerReport& l) { return l.int8; });
    if (r.range_margin != 1) std::printf("activation ranges widened by %.3f (--range-margin %s)\n", r.range_margin, a.range_margin.c_str());
    std::printf("error with every layer int8: %.5f\n", r.error_all_int8);
    std::printf("final error: %.5f (budget %.5f, max |int8 - fp32| / fp32 output range over %lld inputs); %lld of %zu layers int8\n",
                r.final_error, a.max_error, (long long)std::min<int64_t>(a.guard_samples, calib->size()), (long long)n8,
                r.layers.size());
    if (opt.drop)
        std::printf("top-1 drop: %.2f points with every layer int8, %.2f final (budget %.2f)\n", r.drop_all_int8,
                    r.final_drop, a.max_drop);
    if (to_ecnn) {
        // The QDQ graph as imported (portable): the loader fuses the QDQ pairs into int8
        // kernels exactly as it does for the .onnx, so both files run the same plan.
        EcnnWriteOptions o;
        o.converter = "edgecnn quantize 0.1.0";
        if (!sidecar.empty()) o.preprocess = read_text(sidecar);
        write_ecnn_file(a.output, *r.graph, o);
    } else {
        export_onnx_file(*r.graph, a.output, std::max<int64_t>(graph->opset, 13));
        // The float model's sidecar describes the quantized model's input just as well.
        const std::string out_sidecar = a.output + ".json";
        if (!sidecar.empty() && !std::filesystem::exists(out_sidecar)) {
            std::filesystem::copy_file(sidecar, out_sidecar);
            std::printf("wrote %s (the preprocessing sidecar)\n", out_sidecar.c_str());
        }
    }
    std::printf("wrote %s\n", a.output.c_str());
    if (a.max_error > 0 && r.final_error > a.max_error) {
        std::fprintf(stderr, "error: the error budget %.5f is not met even with every layer in fp32 (%.5f)\n", a.max_error,
                     r.final_error);
        return 2;
    }
    if (opt.drop && r.final_drop > a.max_drop) {
        std::fprintf(stderr, "error: the top-1 budget %.2f points is not met even with every layer in fp32 (%.2f)\n",
                     a.max_drop, r.final_drop);
        return 2;
    }
    return 0;
}

int cmd_eval(const EvalArgs& a) {
    auto graph = load_model(a.model);
    const vision::Preprocess pre = resolve_preprocess(a.model, a.image, "");
    LabelledSet set = open_labelled_set(*graph, a.dataset, a.labels, pre, a.limit);
    EvalOptions eo;
    eo.top_k = a.top_k;
    eo.batch = a.batch;
    eo.threads = a.threads;
    eo.fpmath = parse_fpmath(a.fpmath);
    eo.progress = progress_bar;
    Accuracy acc = evaluate_accuracy(graph, *set.src, set.labels, eo);
    std::printf("top-1: %.4f (%lld/%lld)\n", acc.top1_rate(), (long long)acc.top1, (long long)acc.count);
    if (a.top_k > 1) std::printf("top-%d: %.4f\n", a.top_k, acc.topk_rate());
    return 0;
}

}  // namespace edgecnn::cli
