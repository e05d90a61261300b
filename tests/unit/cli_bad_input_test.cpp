// Bad input never crashes: each case gives one clear line naming the file, node, op or
// tensor, and exit code 1.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <fstream>
#include <random>

#include "cli_test_util.hpp"
#include "io/npy.hpp"

using namespace edgecnn;
using namespace edgecnn::test;

namespace {

const std::string kFashion = source_path("models/fashion_mnist/fashion_mnist_cnn.onnx");

void add_io(onnx::ValueInfoProto* v, const std::string& name, std::vector<int64_t> dims, int elem = 1) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem);
    for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
}

onnx::ModelProto base_model() {
    onnx::ModelProto m;
    m.set_ir_version(8);
    m.add_opset_import()->set_version(13);
    auto* g = m.mutable_graph();
    g->set_name("g");
    add_io(g->add_input(), "X", {1, 1, 4, 4});
    add_io(g->add_output(), "Y", {});
    return m;
}

onnx::NodeProto* add_node(onnx::ModelProto& m, const std::string& op, const std::string& name,
                          std::vector<std::string> in, std::vector<std::string> out) {
    auto* n = m.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (auto& i : in) n->add_input(i);
    for (auto& o : out) n->add_output(o);
    return n;
}

std::string save(const onnx::ModelProto& m, const std::filesystem::path& dir, const std::string& name) {
    std::string path = (dir / name).string();
    std::ofstream out(path, std::ios::binary);
    m.SerializeToOstream(&out);
    return path;
}

std::string write_input(const std::filesystem::path& dir, DType dt, Shape shape) {
    std::string path = (dir / "x.npy").string();
    write_npy(path, Tensor(dt, shape));
    return path;
}

int count_lines(const std::string& s) {
    int n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

void expect_clean_error(const CliResult& r, std::initializer_list<std::string> must_name) {
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_EQ(count_lines(r.output), 1) << r.output;
    EXPECT_EQ(r.output.rfind("error: ", 0), 0u) << r.output;
    for (const auto& s : must_name) EXPECT_NE(r.output.find(s), std::string::npos) << "missing '" << s << "' in: " << r.output;
}

}  // namespace

TEST(CliBadInput, ZeroLengthFile) {
    auto dir = temp_dir("empty");
    std::string path = (dir / "empty.onnx").string();
    std::ofstream(path).close();
    expect_clean_error(run_cli("info " + path), {path, "empty"});
}

TEST(CliBadInput, MissingFile) {
    expect_clean_error(run_cli("info /nonexistent/model.onnx"), {"/nonexistent/model.onnx"});
}

TEST(CliBadInput, RandomBytes) {
    auto dir = temp_dir("random");
    std::string path = (dir / "random.onnx").string();
    std::mt19937 rng(42);
    std::string bytes(4096, '\0');
    for (char& c : bytes) c = char(rng());
    std::ofstream(path, std::ios::binary) << bytes;
    expect_clean_error(run_cli("info " + path), {path});
}

TEST(CliBadInput, TruncatedModel) {
    auto dir = temp_dir("truncated");
    std::ifstream in(kFashion, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(bytes.size(), 1000u);
    for (double frac : {0.3, 0.61, 0.999}) {
        std::string path = (dir / ("cut" + std::to_string(int(frac * 1000)) + ".onnx")).string();
        std::ofstream(path, std::ios::binary) << bytes.substr(0, size_t(double(bytes.size()) * frac));
        expect_clean_error(run_cli("info " + path), {path});
    }
}

TEST(CliBadInput, UnknownOpNamesNodeAndOp) {
    auto dir = temp_dir("unknown_op");
    auto m = base_model();
    add_node(m, "FrobnicateConv", "my_node", {"X"}, {"Y"});
    std::string path = save(m, dir, "m.onnx");
    std::string x = write_input(dir, DType::F32, {1, 1, 4, 4});
    auto r = run_cli("run " + path + " --input X=" + x);
    expect_clean_error(r, {path, "my_node", "FrobnicateConv"});
}

TEST(CliBadInput, EveryUnsupportedOpReportedAtOnce) {
    auto dir = temp_dir("unknown_ops");
    auto m = base_model();
    add_node(m, "FooOp", "first", {"X"}, {"T"});
    add_node(m, "BarOp", "second", {"T"}, {"Y"});
    std::string path = save(m, dir, "m.onnx");
    auto r = run_cli("run " + path + " --input X=" + write_input(dir, DType::F32, {1, 1, 4, 4}));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("first"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("FooOp"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("second"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("BarOp"), std::string::npos) << r.output;
}

TEST(CliBadInput, MissingInitializerNamesTensorAndNode) {
    auto dir = temp_dir("missing_init");
    auto m = base_model();
    add_node(m, "Conv", "conv_a", {"X", "W_missing"}, {"Y"});
    std::string path = save(m, dir, "m.onnx");
    expect_clean_error(run_cli("info " + path), {path, "conv_a", "W_missing"});
}

TEST(CliBadInput, WrongRankInitializerNamesNode) {
    auto dir = temp_dir("wrong_rank");
    auto m = base_model();
    auto* w = m.mutable_graph()->add_initializer();
    w->set_name("W");
    w->set_data_type(1);
    for (int64_t d : {1, 1, 3}) w->add_dims(d);
    for (int i = 0; i < 3; ++i) w->add_float_data(1.f);
    add_node(m, "Conv", "conv_b", {"X", "W"}, {"Y"});
    std::string path = save(m, dir, "m.onnx");
    auto r = run_cli("run " + path + " --input X=" + write_input(dir, DType::F32, {1, 1, 4, 4}));
    expect_clean_error(r, {"conv_b", "Conv"});
}

TEST(CliBadInput, InitializerWithTooLittleDataIsRefusedBeforeAllocating) {
    auto dir = temp_dir("huge_init");
    auto m = base_model();
    auto* w = m.mutable_graph()->add_initializer();
    w->set_name("W");
    w->set_data_type(1);
    for (int64_t d : {1000000, 1000000}) w->add_dims(d);  // 4 TB declared, no data
    add_node(m, "Add", "add_w", {"X", "W"}, {"Y"});
    std::string path = save(m, dir, "m.onnx");
    expect_clean_error(run_cli("info " + path), {path, "'W'"});
}

TEST(CliBadInput, GraphCycleNamesNode) {
    auto dir = temp_dir("cycle");
    auto m = base_model();
    add_node(m, "Add", "loop_a", {"X", "B"}, {"A"});
    add_node(m, "Relu", "loop_b", {"A"}, {"B"});
    add_node(m, "Relu", "out", {"B"}, {"Y"});
    std::string path = save(m, dir, "m.onnx");
    expect_clean_error(run_cli("info " + path), {path, "cycle", "loop_"});
}

// Found by fuzz_onnx: a node that writes a graph input ran into the caller's buffer, sized
// for the input's shape, not the node's output shape (heap overflow under ASan).
TEST(CliBadInput, NodeWritingGraphInputNamesNode) {
    auto dir = temp_dir("writes_input");
    auto m = base_model();
    add_io(m.mutable_graph()->add_input(), "Z", {5});
    add_node(m, "Relu", "clobber", {"X"}, {"Z"});
    add_node(m, "Relu", "out", {"Z"}, {"Y"});
    std::string path = save(m, dir, "m.onnx");
    expect_clean_error(run_cli("info " + path), {path, "clobber", "'Z'", "graph input"});
}

TEST(CliBadInput, RepeatedGraphInputIsRefused) {
    auto dir = temp_dir("input_twice");
    auto m = base_model();
    add_io(m.mutable_graph()->add_input(), "X", {});
    add_node(m, "Relu", "out", {"X"}, {"Y"});
    std::string path = save(m, dir, "m.onnx");
    expect_clean_error(run_cli("info " + path), {path, "'X'", "listed twice"});
}

TEST(CliBadInput, NodeWithoutOutputsNamesNode) {
    auto dir = temp_dir("no_outputs");
    auto m = base_model();
    add_node(m, "Relu", "sink", {"X"}, {});
    add_node(m, "Relu", "out", {"X"}, {"Y"});
    std::string path = save(m, dir, "m.onnx");
    expect_clean_error(run_cli("info " + path), {path, "sink", "no outputs"});
}

TEST(CliBadInput, WrongInputShapeNamesTensor) {
    auto dir = temp_dir("wrong_shape");
    auto r = run_cli("run " + kFashion + " --input input=" + write_input(dir, DType::F32, {1, 1, 27, 28}));
    expect_clean_error(r, {"'input'", "[1,1,27,28]"});
}

TEST(CliBadInput, WrongInputDtypeNamesTensor) {
    auto dir = temp_dir("wrong_dtype");
    auto r = run_cli("run " + kFashion + " --input input=" + write_input(dir, DType::I64, {1, 1, 28, 28}));
    expect_clean_error(r, {"'input'", "int64"});
}

TEST(CliBadInput, UnreadableInputFile) {
    auto dir = temp_dir("bad_npy");
    std::string path = (dir / "x.npy").string();
    std::ofstream(path) << "not numpy";
    expect_clean_error(run_cli("run " + kFashion + " --input input=" + path), {path});
}

TEST(Cli, InfoDescribesModel) {
    auto r = run_cli("info " + kFashion);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("input: float32 [batch,1,28,28]"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("Conv"), std::string::npos);
    EXPECT_NE(r.output.find("parameters: 131"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("MACs: "), std::string::npos);
}
