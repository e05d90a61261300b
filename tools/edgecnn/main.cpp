// edgecnn command line: info, run, check, conformance, bench, profile, stream.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "base/error.hpp"
#include "commands.hpp"
#include "vision_args.hpp"

int main(int argc, char** argv) {
    using namespace edgecnn::cli;
    CLI::App app{"edgecnn: fast CNN inference for edge CPUs"};
    app.require_subcommand(1);

    InfoArgs info;
    auto* c_info = app.add_subcommand("info", "Inputs, outputs, ops, parameters and MACs of a model");
    c_info->add_option("model", info.model, "Model file (.onnx or .ecnn)")->required();
    c_info->add_option("--input-shape", info.input_shapes, "Bind a dynamic input: NAME=1x3x224x224");

    RunArgs run;
    auto* c_run = app.add_subcommand("run", "Run a model on input tensors");
    c_run->add_option("model", run.model, "Model file (.onnx or .ecnn)")->required();
    c_run->add_option("--input,-i", run.inputs, "NAME=FILE (.npy or .pb); FILE alone binds inputs in order");
    c_run->add_option("--out,-o", run.out_dir, "Write outputs to this folder (same format as the inputs)");
    c_run->add_flag("--dump-all", run.dump_all, "Also write every intermediate tensor to --out");
    c_run->add_option("--fpmath", run.fpmath, "Float arithmetic: f32 (default) or bf16 (convs and Gemm layers with K, N >= 64 in bfloat16 with float32 sums, on AVX512-BF16 CPUs)");
    add_image_options(c_run, run.image);
    add_task_options(c_run, run.task);

    CheckArgs check;
    auto* c_check = app.add_subcommand("check", "Compare a model's outputs with reference outputs");
    c_check->add_option("model", check.model, "Model file (.onnx or .ecnn)")->required();
    c_check->add_option("--data", check.data_dir, "ONNX test folder (input_K.pb, output_K.pb) or one holding test_data_set_*")
        ->required();
    c_check->add_option("--atol", check.atol, "Pass iff max|out-ref| <= atol*max(1,max|ref|)");
    c_check->add_option("--range-tol", check.range_tol, "Instead: pass iff max|out-ref| <= X*(max(ref)-min(ref))");

    ConformanceArgs conf;
    auto* c_conf = app.add_subcommand("conformance", "Run ONNX backend node tests");
    c_conf->add_option("dir", conf.dir, "Folder of test folders (e.g. /usr/share/libonnx-testdata/data/node)")->required();
    c_conf->add_option("--filter", conf.filter, "Only tests whose folder name contains this");
    c_conf->add_flag("--verbose,-v", conf.verbose, "List every test with its result and skip reason");

    BenchArgs bench;
    auto* c_bench = app.add_subcommand("bench", "Time a model on random inputs (--vs: against a second one, alternated)");
    c_bench->add_option("model", bench.model, "Model file (.onnx or .ecnn)")->required();
    c_bench->add_option("--vs", bench.vs, "Second model, timed alternately in the same process; prints the ratio");
    c_bench->add_option("--threads,-t", bench.threads, "Threads, counting the caller (default 1)");
    c_bench->add_option("--warmup", bench.warmup, "Untimed runs first (default 10)");
    c_bench->add_option("--runs,-n", bench.runs, "Timed runs (default 50)");
    c_bench->add_option("--opt-level", bench.opt_level, "0: reference interpreter, 1: optimized (default)");
    c_bench->add_option("--fpmath", bench.fpmath, "Float arithmetic: f32 (default) or bf16 (convs and Gemm layers with K, N >= 64 in bfloat16 with float32 sums, on AVX512-BF16 CPUs)");
    c_bench->add_option("--vs-fpmath", bench.vs_fpmath,
                        "The --vs model's float arithmetic; without --vs, the same model again with it (same inputs; "
                        "prints how far its outputs are from the first's)");
    c_bench->add_option("--input-shape", bench.input_shapes, "Bind a dynamic input: NAME=1x3x224x224");
    c_bench->add_flag("--json", bench.json, "One JSON object per model on its own line");
    add_image_options(c_bench, bench.image);
    c_bench->add_option("--also", bench.also, "More models timed alongside (e.g. the .onnx and .ecnn forms of one model)");
    c_bench->add_option("--create-repeats", bench.create_repeats, "Time session creation (load + session + plan) N times");
    c_bench->add_flag("--big-cores", bench.big_cores,
                      "big.LITTLE: run on the cores with the highest max frequency only (docs/ARM.md)");

    ProfileArgs prof;
    auto* c_prof = app.add_subcommand("profile", "Per-layer time of the compiled model");
    c_prof->add_option("model", prof.model, "Model file (.onnx or .ecnn)")->required();
    c_prof->add_option("--input-shape", prof.input_shapes, "Bind a dynamic input: NAME=1x3x224x224");
    c_prof->add_option("--threads,-t", prof.threads, "Threads, counting the caller");
    c_prof->add_option("--fpmath", prof.fpmath, "Float arithmetic: f32 (default) or bf16 (convs and Gemm layers with K, N >= 64 in bfloat16 with float32 sums, on AVX512-BF16 CPUs)");
    c_prof->add_option("--warmup", prof.warmup, "Untimed runs first");
    c_prof->add_option("--runs,-n", prof.runs, "Profiled runs");
    c_prof->add_option("--top", prof.top, "Only the N slowest layers (implies --sort)");
    c_prof->add_flag("--sort", prof.sort, "Slowest layers first");
    c_prof->add_option("--html", prof.html, "Also write a self-contained HTML report (table + bar chart)");
    add_image_options(c_prof, prof.image);


    StreamArgs stream;
    auto* c_stream = app.add_subcommand("stream", "Frames through decode → preprocess → infer → post-process, paced, on threads");
    c_stream->add_option("model", stream.model, "Model file (.onnx)")->required();
    c_stream->add_option("--frames", stream.frames_dir, "Folder of JPEG/PNG frames (name order)")->required();
    c_stream->add_option("--fps", stream.fps, "Target frame rate: frames are released at this pace (default 30)");
    c_stream->add_option("--threads,-t", stream.threads, "Inference threads, counting the caller (default 1)");
    c_stream->add_option("--fpmath", stream.fpmath, "Float arithmetic: f32 (default) or bf16 (convs and Gemm layers with K, N >= 64 in bfloat16 with float32 sums, on AVX512-BF16 CPUs)");
    c_stream->add_option("--max-frames", stream.max_frames, "Only the first N frames");
    c_stream->add_option("--queue", stream.queue, "Depth of the bounded queue between stages (default 2)");
    c_stream->add_option("--out,-o", stream.out_dir, "Write annotated frames here (after timing)");
    c_stream->add_flag("--quiet,-q", stream.quiet, "No progress line");
    c_stream->add_option("--trace", stream.trace, "Write each frame's timeline (stage starts, waits, durations, CPU) as CSV");
    add_image_options(c_stream, stream.image);
    add_task_options(c_stream, stream.task);

    QuantizeArgs quant;
    auto* c_quant = app.add_subcommand("quantize", "Post-training int8 quantization to a QDQ .onnx, with an accuracy guard");
    c_quant->add_option("model", quant.model, "Float model (.onnx)")->required();
    c_quant->add_option("--calib", quant.calib,
                        "Folder of photos, ImageFolder tree, IDX images file, folder of .npy/.pb inputs, or random:N")
        ->required();
    c_quant->add_option("-o,--output", quant.output, "Output: QDQ model (.onnx) or deployable file (.ecnn)")->required();
    c_quant->add_option("--method", quant.method, "Range estimation: minmax (default) or percentile");
    c_quant->add_option("--max-error", quant.max_error,
                        "Budget: max |int8 - fp32| / fp32 output range on the calibration inputs (default 0.02; 0: no guard)");
    c_quant->add_option("--calib-count", quant.calib_count, "Use only the first N calibration inputs");
    c_quant->add_option("--guard-samples", quant.guard_samples, "Calibration inputs the guard compares on (default 64)");
    c_quant->add_option("--range-margin", quant.range_margin,
                        "Widen the calibrated activation ranges by F (default 1), or auto: by how far one calibration "
                        "input reaches past the others' (leave one out)");
    c_quant->add_option("--input-shape", quant.input_shapes, "Bind a dynamic input for random:N: NAME=1x3x224x224");
    c_quant->add_option("--max-drop", quant.max_drop,
                        "Budget: top-1 accuracy lost on --dataset, in percentage points (the guard backs off layers)");
    c_quant->add_option("--dataset", quant.dataset, "Labelled set for --max-drop: ImageFolder tree or IDX images");
    c_quant->add_option("--labels", quant.labels, "IDX labels file for an IDX --dataset");
    c_quant->add_option("--dataset-limit", quant.dataset_limit, "Use N samples of --dataset (spread evenly)");
    add_preprocess_options(c_quant, quant.image);

    EvalArgs eval;
    auto* c_eval = app.add_subcommand("eval", "Top-1 (top-k) accuracy over a labelled set (ImageFolder tree or IDX)");
    c_eval->add_option("model", eval.model, "Model file (.onnx)")->required();
    c_eval->add_option("--dataset", eval.dataset, "ImageFolder tree (one sub-folder per class) or IDX images file")
        ->required();
    c_eval->add_option("--labels", eval.labels, "IDX labels file (for an IDX --dataset)");
    c_eval->add_option("--top-k", eval.top_k, "Also report top-k accuracy");
    c_eval->add_option("--batch", eval.batch, "Images per run when the batch dim is dynamic (default 100)");
    c_eval->add_option("--threads,-t", eval.threads, "Threads, counting the caller (default 1)");
    c_eval->add_option("--fpmath", eval.fpmath, "Float arithmetic: f32 (default) or bf16 (convs and Gemm layers with K, N >= 64 in bfloat16 with float32 sums, on AVX512-BF16 CPUs)");
    c_eval->add_option("--limit", eval.limit, "Only the first N images");
    add_preprocess_options(c_eval, eval.image);

    ConvertArgs conv;
    auto* c_convert = app.add_subcommand("convert", "Convert an ONNX model to a deployable .ecnn file");
    c_convert->add_option("model", conv.model, "Model file (.onnx)")->required();
    c_convert->add_option("--output,-o", conv.output, "Output file (.ecnn)")->required();
    c_convert->add_flag("--fp16-weights", conv.fp16_weights, "Store float32 weights as float16 (widened at load)");
    c_convert->add_option("--input-shape", conv.input_shapes, "Fix a dynamic input: NAME=1x3x224x224");
    c_convert->add_option("--target", conv.target, "portable (default), x86-avx2, x86-avx512 or arm64");
    c_convert->add_option("--preprocess", conv.preprocess, "Preprocessing JSON (inline, or a sidecar file; default MODEL.json) stored for run --image");
    c_convert->add_option("--class-names", conv.class_names, "File with one class name per line");
    c_convert->add_option("--fp16-tolerance", conv.fp16_tolerance,
                          "--fp16-weights: weights that move the output by more of its range stay float32 (default 2e-3)");
    c_convert->add_flag("!--no-optimize", conv.optimize, "Store the graph as imported (no passes)");

    CLI11_PARSE(app, argc, argv);
    if (prof.top > 0) prof.sort = true;
    try {
        if (*c_info) return cmd_info(info);
        if (*c_run) return cmd_run(run);
        if (*c_check) return cmd_check(check);
        if (*c_conf) return cmd_conformance(conf);
        if (*c_prof) return cmd_profile(prof);
        if (*c_bench) return cmd_bench(bench);
        if (*c_stream) return cmd_stream(stream);
        if (*c_quant) return cmd_quantize(quant);
        if (*c_eval) return cmd_eval(eval);
        if (*c_convert) return cmd_convert(conv);
    } catch (const edgecnn::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 1;
}
