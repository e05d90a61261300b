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
};

int cmd_info(const InfoArgs& a);
int cmd_profile(const ProfileArgs& a);
int cmd_run(const RunArgs& a);
int cmd_check(const CheckArgs& a);
int cmd_conformance(const ConformanceArgs& a);
int cmd_bench(const BenchArgs& a);

}  // namespace edgecnn::cli
