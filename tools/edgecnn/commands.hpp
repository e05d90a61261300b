// The edgecnn subcommands; each returns the process exit code.
#pragma once
#include <string>
#include <vector>

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
    std::vector<std::string> input_shapes;  // NAME=1x3x224x224
    bool json = false;
    std::vector<std::string> also;  // more models, timed alternately too (--also)
    int create_repeats = 1;         // session creation timed this many times (median)
};

struct ProfileArgs {
    std::string model;
    std::vector<std::string> input_shapes;
    int threads = 1;
    int warmup = 3;
    int runs = 10;
    int top = 0;       // 0: every layer
    bool sort = false; // slowest first
};

struct ConvertArgs {
    std::string model;
    std::string output;
    bool fp16_weights = false;
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

}  // namespace edgecnn::cli
