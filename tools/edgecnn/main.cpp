// edgecnn command line: info, run, check, conformance, bench.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "base/error.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
    using namespace edgecnn::cli;
    CLI::App app{"edgecnn: fast CNN inference for edge CPUs"};
    app.require_subcommand(1);

    InfoArgs info;
    auto* c_info = app.add_subcommand("info", "Inputs, outputs, ops, parameters and MACs of a model");
    c_info->add_option("model", info.model, "Model file (.onnx)")->required();
    c_info->add_option("--input-shape", info.input_shapes, "Bind a dynamic input: NAME=1x3x224x224");

    RunArgs run;
    auto* c_run = app.add_subcommand("run", "Run a model on input tensors");
    c_run->add_option("model", run.model, "Model file (.onnx)")->required();
    c_run->add_option("--input,-i", run.inputs, "NAME=FILE (.npy or .pb); FILE alone binds inputs in order");
    c_run->add_option("--out,-o", run.out_dir, "Write outputs to this folder (same format as the inputs)");
    c_run->add_flag("--dump-all", run.dump_all, "Also write every intermediate tensor to --out");

    CheckArgs check;
    auto* c_check = app.add_subcommand("check", "Compare a model's outputs with reference outputs");
    c_check->add_option("model", check.model, "Model file (.onnx)")->required();
    c_check->add_option("--data", check.data_dir, "ONNX test folder (input_K.pb, output_K.pb) or one holding test_data_set_*")
        ->required();
    c_check->add_option("--atol", check.atol, "Pass iff max|out-ref| <= atol*max(1,max|ref|)");

    ConformanceArgs conf;
    auto* c_conf = app.add_subcommand("conformance", "Run ONNX backend node tests");
    c_conf->add_option("dir", conf.dir, "Folder of test folders (e.g. /usr/share/libonnx-testdata/data/node)")->required();
    c_conf->add_option("--filter", conf.filter, "Only tests whose folder name contains this");
    c_conf->add_flag("--verbose,-v", conf.verbose, "List every test with its result and skip reason");

    BenchArgs bench;
    auto* c_bench = app.add_subcommand("bench", "Time a model on random inputs (--vs: against a second one, alternated)");
    c_bench->add_option("model", bench.model, "Model file (.onnx)")->required();
    c_bench->add_option("--vs", bench.vs, "Second model, timed alternately in the same process; prints the ratio");
    c_bench->add_option("--threads,-t", bench.threads, "Threads, counting the caller (default 1)");
    c_bench->add_option("--warmup", bench.warmup, "Untimed runs first (default 10)");
    c_bench->add_option("--runs,-n", bench.runs, "Timed runs (default 50)");
    c_bench->add_option("--opt-level", bench.opt_level, "0: reference interpreter, 1: optimized (default)");
    c_bench->add_option("--input-shape", bench.input_shapes, "Bind a dynamic input: NAME=1x3x224x224");
    c_bench->add_flag("--json", bench.json, "One JSON object per model on its own line");
    c_bench->add_flag("--big-cores", bench.big_cores,
                      "big.LITTLE: run on the cores with the highest max frequency only (docs/ARM.md)");

    ProfileArgs prof;
    auto* c_prof = app.add_subcommand("profile", "Per-layer time of the compiled model");
    c_prof->add_option("model", prof.model, "Model file (.onnx)")->required();
    c_prof->add_option("--input-shape", prof.input_shapes, "Bind a dynamic input: NAME=1x3x224x224");
    c_prof->add_option("--threads,-t", prof.threads, "Threads, counting the caller");
    c_prof->add_option("--warmup", prof.warmup, "Untimed runs first");
    c_prof->add_option("--runs,-n", prof.runs, "Profiled runs");
    c_prof->add_option("--top", prof.top, "Only the N slowest layers (implies --sort)");
    c_prof->add_flag("--sort", prof.sort, "Slowest layers first");

    CLI11_PARSE(app, argc, argv);
    if (prof.top > 0) prof.sort = true;
    try {
        if (*c_info) return cmd_info(info);
        if (*c_run) return cmd_run(run);
        if (*c_check) return cmd_check(check);
        if (*c_conf) return cmd_conformance(conf);
        if (*c_prof) return cmd_profile(prof);
        if (*c_bench) return cmd_bench(bench);
    } catch (const edgecnn::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 1;
}
