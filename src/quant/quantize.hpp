// Post-training INT8 quantization of a float model into a standard QDQ graph.
//
// 1. Prepare: BatchNorm folded into the convs, identities removed (on a copy).
// 2. Calibrate: run the float model over the calibration inputs and observe every
//    activation tensor's range (minmax, or a percentile of |x| from a histogram).
// 3. Rewrite: each quantized layer (Conv, Gemm) reads DQ(Q(x)) uint8 per tensor, its
//    weights as DQ(int8, symmetric per output channel) and its bias as DQ(int32 at
//    x_scale*w_scale); its output (after a Relu/Clip it feeds alone) goes through Q→DQ.
//    MaxPool/Flatten/Reshape after a quantized tensor keep its parameters, so the int8
//    plan runs them on uint8; an Add of two activations next to quantized data gets Q→DQ
//    on its inputs and output (int8 Add), a Concat likewise, an average pool after int8
//    data on its output. Graph outputs stay float.
// 4. Guard: per-layer sensitivity (only that layer quantized, error vs FP32 on the
//    calibration inputs), then the most sensitive layers go back to FP32 until the error
//    — max |int8 - fp32| / (fp32 output range), over outputs and samples — meets the
//    budget. The error is measured on the engine's int8 plan, i.e. what users will run.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.hpp"
#include "quant/calibration.hpp"

namespace edgecnn {

struct QuantizeOptions {
    std::string method = "minmax";  // minmax | percentile
    double percentile = 99.99;      // for method percentile: of |x| (and of x's sign side)
    // Observed activation ranges are widened by this factor (about 0) before the scales are
    // set, so that inputs unlike the calibration set clip less; <= 0: automatic, from how
    // far each calibration input reaches past the others' ranges (leave one out, the 95th
    // percentile over tensors; 1 when the inputs agree). 1: the ranges as observed.
    double range_margin = 1.0;
    double max_error = 0.02;        // budget of the accuracy guard; <= 0 disables the guard
    int64_t guard_samples = 64;     // calibration samples the guard compares on
    // A second budget (e.g. --max-drop: top-1 percentage points lost on a labelled set):
    // when `drop` is set, the guard also backs off layers until drop(candidate) <= max_drop.
    // Layers go back to FP32 in the order of their output sensitivity either way.
    std::function<double(const Graph&)> drop;
    double max_drop = 0;
    // Rank layers by drop(only that layer int8) instead of the output error: for outputs
    // where a max-abs error says little (probability maps: one flipped pixel is error 1).
    // Costs one drop() per layer.
    bool rank_by_drop = false;
    // Progress of each phase: (phase name, done, total).
    std::function<void(const std::string&, int64_t, int64_t)> progress;
};

struct LayerReport {
    std::string name, op;
    double sensitivity = 0;  // error (or drop, with rank_by_drop) with only this layer quantized
    bool int8 = true;        // final precision
};

struct QuantizeResult {
    std::shared_ptr<Graph> graph;  // QDQ model (export with export_onnx_*)
    std::vector<LayerReport> layers;
    double range_margin = 1;    // the margin applied (the automatic one when asked for)
    double error_all_int8 = 0;  // every layer quantized
    double final_error = 0;     // with the guard's choice
    double drop_all_int8 = 0;   // opt.drop of the every-layer model (when opt.drop is set)
    double final_drop = 0;      // opt.drop of the final model
};

QuantizeResult quantize_model(const Graph& float_model, CalibrationSource& calib, const QuantizeOptions& opt);

// max |a - b| / (range of a) over the outputs of two models on `samples` inputs of `src`,
// where range is max - min of the reference model's outputs over all samples (exposed for
// tests and `edgecnn compare`).
double relative_output_error(const Graph& reference, const Graph& candidate, CalibrationSource& src, int64_t samples);

}  // namespace edgecnn
