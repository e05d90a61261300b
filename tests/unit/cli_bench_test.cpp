// `edgecnn bench`: JSON with parseable numbers, --vs ratio, clear errors for unbound dims.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cli_test_util.hpp"

using namespace edgecnn::test;

namespace {

const std::string kFashion = source_path("models/fashion_mnist/fashion_mnist_cnn.onnx");

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

// The number after "key": in a flat JSON object; fails the test if absent or not a number.
double json_number(const std::string& obj, const std::string& key) {
    std::string pat = "\"" + key + "\":";
    auto pos = obj.find(pat);
    if (pos == std::string::npos) {
        ADD_FAILURE() << "no key '" << key << "' in " << obj;
        return -1;
    }
    const char* start = obj.c_str() + pos + pat.size();
    char* end = nullptr;
    double v = std::strtod(start, &end);
    if (end == start || (*end != ',' && *end != '}')) ADD_FAILURE() << "key '" << key << "' is not a number in " << obj;
    return v;
}

// A one-node model (Relu) whose input X has shape [batch, n] with both dims symbolic.
std::string save_dynamic_model(const std::filesystem::path& dir) {
    onnx::ModelProto m;
    m.set_ir_version(8);
    m.add_opset_import()->set_version(13);
    auto* g = m.mutable_graph();
    g->set_name("g");
    auto* x = g->add_input();
    x->set_name("X");
    auto* xt = x->mutable_type()->mutable_tensor_type();
    xt->set_elem_type(1);
    xt->mutable_shape()->add_dim()->set_dim_param("batch");
    xt->mutable_shape()->add_dim()->set_dim_param("n");
    auto* y = g->add_output();
    y->set_name("Y");
    y->mutable_type()->mutable_tensor_type()->set_elem_type(1);
    auto* node = g->add_node();
    node->set_op_type("Relu");
    node->set_name("relu");
    node->add_input("X");
    node->add_output("Y");
    std::string path = (dir / "dynamic.onnx").string();
    std::ofstream out(path, std::ios::binary);
    m.SerializeToOstream(&out);
    return path;
}

}  // namespace

TEST(CliBench, JsonHasParseableNumbers) {
    auto r = run_cli("bench " + kFashion + " --runs 3 --warmup 1 --json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto lines = lines_of(r.output);
    ASSERT_EQ(lines.size(), 1u) << r.output;
    const std::string& o = lines[0];
    EXPECT_EQ(o.front(), '{');
    EXPECT_EQ(o.back(), '}');
    double min = json_number(o, "min_ms"), median = json_number(o, "median_ms");
    double p90 = json_number(o, "p90_ms"), p99 = json_number(o, "p99_ms");
    EXPECT_GT(min, 0);
    EXPECT_LE(min, median);
    EXPECT_LE(median, p90);
    EXPECT_LE(p90, p99);
    EXPECT_GT(json_number(o, "fps"), 0);
    EXPECT_GE(json_number(o, "create_ms"), 0);
    EXPECT_EQ(json_number(o, "threads"), 1);
    EXPECT_EQ(json_number(o, "runs"), 3);
    EXPECT_GT(json_number(o, "peak_memory_bytes"), 0);
    EXPECT_EQ(json_number(o, "macs"), 5719808);  // as `edgecnn info` counts it
    EXPECT_GT(json_number(o, "gflops"), 0);
    EXPECT_NE(o.find("\"input_shapes\":{\"input\":[1,1,28,28]}"), std::string::npos) << o;
}

TEST(CliBench, ThreadsAndInputShape) {
    auto r = run_cli("bench " + kFashion + " --runs 2 --warmup 0 --threads 2 --input-shape input=3x1x28x28 --json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto lines = lines_of(r.output);
    ASSERT_EQ(lines.size(), 1u) << r.output;
    EXPECT_EQ(json_number(lines[0], "threads"), 2);
    EXPECT_NE(lines[0].find("[3,1,28,28]"), std::string::npos) << lines[0];
}

// --big-cores: names the cores it pins to (on stderr) and still benchmarks.
TEST(CliBench, BigCoresOption) {
    auto r = run_cli("bench " + kFashion + " --runs 2 --warmup 0 --threads 2 --big-cores --json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("big cores: "), std::string::npos) << r.output;
    EXPECT_GT(json_number(r.output.substr(r.output.find('{')), "median_ms"), 0);
}

TEST(CliBench, ReferenceInterpreterOnRequest) {
    auto r = run_cli("bench " + kFashion + " --runs 2 --warmup 1 --opt-level 0 --json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(json_number(r.output, "opt_level"), 0);
    EXPECT_GT(json_number(r.output, "median_ms"), 0);
}

TEST(CliBench, TextReport) {
    auto r = run_cli("bench " + kFashion + " --runs 3 --warmup 1");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    for (const char* s : {"median", "p90", "p99", "FPS", "session creation", "peak memory"})
        EXPECT_NE(r.output.find(s), std::string::npos) << "missing '" << s << "' in " << r.output;
}

TEST(CliBench, VsPrintsRatio) {
    auto r = run_cli("bench " + kFashion + " --vs " + kFashion + " --runs 3 --warmup 1");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto pos = r.output.find("ratio of medians");
    ASSERT_NE(pos, std::string::npos) << r.output;
    auto colon = r.output.find("): ", pos);
    ASSERT_NE(colon, std::string::npos) << r.output;
    double ratio = std::strtod(r.output.c_str() + colon + 3, nullptr);
    EXPECT_GT(ratio, 0) << r.output;

    auto j = run_cli("bench " + kFashion + " --vs " + kFashion + " --runs 3 --warmup 1 --json");
    ASSERT_EQ(j.exit_code, 0) << j.output;
    auto lines = lines_of(j.output);
    ASSERT_EQ(lines.size(), 2u) << j.output;
    EXPECT_GT(json_number(lines[0], "vs_median_ratio"), 0);
    EXPECT_GT(json_number(lines[1], "median_ms"), 0);
}

// --vs-fpmath without --vs: the same model twice on the same inputs, the ratio, and how far
// the bf16 session's outputs are from the FP32 one's (identical where no layer has a bf16
// path or the CPU lacks AVX512-BF16; within bf16's error otherwise).
TEST(CliBench, VsFpmathComparesOutputs) {
    auto r = run_cli("bench " + kFashion + " --vs-fpmath bf16 --runs 3 --warmup 1");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("[fpmath bf16]"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("ratio of medians"), std::string::npos) << r.output;
    auto pos = r.output.find("max |difference| ");
    ASSERT_NE(pos, std::string::npos) << r.output;
    const double diff = std::strtod(r.output.c_str() + pos + 17, nullptr);
    auto range = r.output.find("of its range ", pos);
    ASSERT_NE(range, std::string::npos) << r.output;
    const double span = std::strtod(r.output.c_str() + range + 13, nullptr);
    EXPECT_GT(span, 0) << r.output;
    EXPECT_LE(diff, 0.01 * span) << r.output;
    EXPECT_NE(r.output.find("argmax over axis 1 agrees at"), std::string::npos) << r.output;
}

TEST(CliBench, UnboundDynamicDimIsAClearError) {
    auto dir = temp_dir("bench_dynamic");
    std::string model = save_dynamic_model(dir);
    auto r = run_cli("bench " + model + " --runs 1 --warmup 0");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    auto lines = lines_of(r.output);
    ASSERT_EQ(lines.size(), 1u) << r.output;
    EXPECT_EQ(r.output.rfind("error: ", 0), 0u) << r.output;
    for (const char* s : {"'X'", "'n'", "--input-shape X="})
        EXPECT_NE(r.output.find(s), std::string::npos) << "missing " << s << " in " << r.output;

    // Binding it makes the run work; the leading dynamic dim defaults to 1.
    auto ok = run_cli("bench " + model + " --runs 2 --warmup 0 --input-shape X=2x5 --json");
    EXPECT_EQ(ok.exit_code, 0) << ok.output;
    EXPECT_NE(ok.output.find("\"X\":[2,5]"), std::string::npos) << ok.output;
    std::filesystem::remove_all(dir);
}

TEST(CliBench, BadArgumentsAreErrors) {
    for (const char* args : {" --runs 0", " --threads 0", " --input-shape nosuch=1x2", " --input-shape input",
                             " --fpmath f16", " --vs-fpmath double"}) {
        auto r = run_cli("bench " + kFashion + std::string(args));
        EXPECT_EQ(r.exit_code, 1) << args << ": " << r.output;
        EXPECT_EQ(r.output.rfind("error: ", 0), 0u) << args << ": " << r.output;
    }
}
