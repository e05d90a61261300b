// The edgecnn subcommands; each returns the process exit code.
#pragma once
#include <string>
#include <vector>

#include "vision_args.hpp"

namespace edgecnn::cli {

struct InfoArgs {
    std::string model;
    std::vector<std::string> input_shapes;  // NAME=1x3x224x224
};
struct RunArgs {
    std::string model;
    std::vector<std::string> inputs;  // NAME=FILE or FILE (in input order)
    std::string out_dir;
    bool dump_all = false;
    ImageArgs image;  // --image / --nv12 and preprocessing
    TaskArgs task;    // --task and its options
    std::string fpmath = "f32";
};
struct CheckArgs {
    std::string model;
    std::string data_dir;
    double atol = 1e-4;
    double range_tol = 0;  // > 0: pass iff max|out-ref| <= range_tol * (max(ref) - min(ref))
};
struct ConformanceArgs {
    std::string dir;
    std::string filter;
    bool verbose = false;
};
struct BenchArgs {
    std::string model;
    std::string vs;  // second model, timed alternately with the first
    int threads = 1;
    int warmup = 10;
    int runs = 50;
    int opt_level = 1;  // SessionOptions::optimization_level (0 = reference interpreter)
    std::string fpmath = "f32";  // SessionOptions::fpmath of the model (and --also)
    std::string vs_fpmath;       // the --vs model's; alone (no --vs): the same model again
    std::vector<std::string> input_shapes;  // NAME=1x3x224x224
    bool json = false;
    ImageArgs image;  // --image: the image input from a photo (others random)
    std::vector<std::string> also;  // more models, timed alternately too (--also)
    int create_repeats = 1;         // session creation timed this many times (median)
    bool big_cores = false;  // big.LITTLE: this thread and the workers on the big cores only
};

struct ProfileArgs {
    std::string model;
    std::vector<std::string> input_shapes;
    int threads = 1;
    int warmup = 3;
    int runs = 10;
    int top = 0;       // 0: every layer
    bool sort = false; // slowest first
    ImageArgs image;   // --image: the image input from a photo (others random)
    std::string html;  // --html FILE: self-contained report with a chart
    std::string fpmath = "f32";
};
struct StreamArgs {
    std::string model;
    std::string frames_dir;  // JPEG/PNG frames, taken in name order
    double fps = 30;
    int threads = 1;         // inference threads
    int max_frames = 0;      // 0: all
    int queue = 2;           // bounded queue depth between stages
    std::string out_dir;     // annotated frames (written off the clock)
    bool quiet = false;      // no progress line
    std::string trace;       // per-frame timeline CSV ("" = none)
    std::string fpmath = "f32";
    ImageArgs image;         // preprocessing flags (the frames replace --image)
    TaskArgs task;
};

// Image preprocessing, the same flags wherever images are read: (pixel*scale - mean)/std.
struct QuantizeArgs {
    std::string model, calib, output;
    std::string method = "minmax";
    double max_error = 0.02;
    double max_drop = -1;  // --max-drop PP (< 0: not given)
    std::string dataset, labels;  // labelled set for --max-drop
    int64_t calib_count = 0;  // 0: every input the source has
    int64_t guard_samples = 64;
    std::string range_margin = "1";  // --range-margin F|auto
    int64_t dataset_limit = 0;
    std::vector<std::string> input_shapes;  // NAME=1x3x224x224, for random:N
    ImageArgs image;  // preprocessing flags / sidecar (as for run --image)
};
struct EvalArgs {
    std::string model, dataset, labels;
    int top_k = 1;
    int batch = 100;
    int threads = 1;
    int64_t limit = 0;
    ImageArgs image;  // preprocessing flags / sidecar (as for run --image)
    std::string fpmath = "f32";
};
int cmd_quantize(const QuantizeArgs& a);
int cmd_eval(const EvalArgs& a);

struct ConvertArgs {
    std::string model;
    std::string output;
    bool fp16_weights = false;
    double fp16_tolerance = 2e-3;           // of the output range, measured on random inputs
    std::vector<std::string> input_shapes;  // NAME=1x3x224x224: fixes dynamic dims
    std::string target = "portable";
    std::string preprocess;   // JSON
    std::string class_names;  // file, one name per line
    bool optimize = true;     // store the optimized graph when shapes are static
};

int cmd_info(const InfoArgs& a);
int cmd_convert(const ConvertArgs& a);
int cmd_profile(const ProfileArgs& a);
int cmd_run(const RunArgs& a);
int cmd_check(const CheckArgs& a);
int cmd_conformance(const ConformanceArgs& a);
int cmd_bench(const BenchArgs& a);
int cmd_stream(const StreamArgs& a);

}  // namespace edgecnn::cli
