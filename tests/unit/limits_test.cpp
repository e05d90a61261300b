// Limits (docs/RELIABILITY.md): every one gives a clear edgecnn::Error of the right kind that
// names the tensor, node or attribute, and nothing huge is allocated on the way there.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/error.hpp"
#include "cli_test_util.hpp"
#include "onnx/importer.hpp"
#include "onnx/tensor_proto.hpp"
#include "runtime/session.hpp"

using namespace edgecnn;

namespace {

// Restores the engine's tensor limit when a test changes it.
struct TensorLimit {
    int64_t saved = max_tensor_bytes();
    explicit TensorLimit(int64_t bytes) { set_max_tensor_bytes(bytes); }
    ~TensorLimit() { set_max_tensor_bytes(saved); }
};

void add_io(onnx::ValueInfoProto* v, const std::string& name, std::vector<int64_t> dims) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(1);
    for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
}

onnx::ModelProto base_model(std::vector<int64_t> x_dims = {1, 1, 4, 4}) {
    onnx::ModelProto m;
    m.set_ir_version(8);
    m.add_opset_import()->set_version(13);
    auto* g = m.mutable_graph();
    g->set_name("g");
    add_io(g->add_input(), "X", x_dims);
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

std::string bytes_of(const onnx::ModelProto& m) { return m.SerializeAsString(); }

// Imports `m`, expects an Error of `kind` whose message contains each of `must_name`.
void expect_import_error(const onnx::ModelProto& m, ErrorKind kind, std::initializer_list<std::string> must_name,
                         const ImportOptions& options = {}) {
    std::string b = bytes_of(m);
    try {
        import_onnx_bytes(b.data(), b.size(), "m.onnx", options);
        ADD_FAILURE() << "import succeeded";
    } catch (const Error& e) {
        EXPECT_EQ(int(e.kind()), int(kind)) << e.what();
        for (const auto& s : must_name) EXPECT_NE(std::string(e.what()).find(s), std::string::npos) << e.what();
    }
}

ErrorKind run_error_kind(const onnx::ModelProto& m, const NamedTensors& inputs, std::string* what) {
    std::string b = bytes_of(m);
    try {
        auto g = import_onnx_bytes(b.data(), b.size(), "m.onnx");
        for (int level : {0, 1}) {
            SessionOptions o;
            o.optimization_level = level;
            Session s(g, o);
            s.run(inputs);
        }
    } catch (const Error& e) {
        *what = e.what();
        return e.kind();
    }
    *what = "no error";
    return ErrorKind(-1);
}

}  // namespace

// Issue 8 acceptance: a file under 1 KB that declares a 1e12-element tensor is refused
// before any allocation. The tensor limit is raised to 2^62 bytes so that only the
// importer's check of the payload size can stop it (an allocation attempt of 4 TB would
// fail with an "out of memory" Limit error or be killed, not give this message).
TEST(Limits, OneKilobyteFileDeclaringTeraElementTensorIsRefusedBeforeAllocating) {
    TensorLimit limit(int64_t(1) << 62);
    for (bool raw : {false, true}) {
        auto m = base_model();
        auto* w = m.mutable_graph()->add_initializer();
        w->set_name("W");
        w->set_data_type(1);
        for (int64_t d : {1000000, 1000000}) w->add_dims(d);  // 1e12 floats, 4 TB
        if (raw) w->set_raw_data(std::string(16, '\0'));
        else for (int i = 0; i < 4; ++i) w->add_float_data(1.f);
        add_node(m, "Add", "add_w", {"X", "W"}, {"Y"});
        ASSERT_LT(bytes_of(m).size(), 1024u);
        expect_import_error(m, ErrorKind::Invalid, {"'W'", "1000000"});
    }
}

// Under the default limit the same file is refused by the memory limit, still naming W.
TEST(Limits, DeclaredTensorOverTheMemoryBudgetIsALimitError) {
    TensorLimit limit(int64_t(1) << 20);  // 1 MiB
    auto m = base_model();
    auto* w = m.mutable_graph()->add_initializer();
    w->set_name("W");
    w->set_data_type(1);
    for (int64_t d : {1024, 512}) w->add_dims(d);  // 2 MiB of float, data present
    w->set_raw_data(std::string(size_t(1024) * 512 * 4, '\0'));
    add_node(m, "Add", "add_w", {"X", "W"}, {"Y"});
    expect_import_error(m, ErrorKind::Limit, {"'W'", "memory limit"});
}

TEST(Limits, DimsWhoseProductOverflowsInt64AreRefused) {
    TensorLimit limit(int64_t(1) << 62);
    auto m = base_model();
    auto* w = m.mutable_graph()->add_initializer();
    w->set_name("W");
    w->set_data_type(1);
    for (int64_t d : {int64_t(1) << 40, int64_t(1) << 40}) w->add_dims(d);
    add_node(m, "Add", "add_w", {"X", "W"}, {"Y"});
    expect_import_error(m, ErrorKind::Limit, {"'W'", "too many elements"});
    // 2^61 elements of 8 bytes: the element count fits in int64, the byte count does not.
    auto m2 = base_model();
    auto* w2 = m2.mutable_graph()->add_initializer();
    w2->set_name("W2");
    w2->set_data_type(11);  // double
    w2->add_dims(int64_t(1) << 61);
    add_node(m2, "Add", "add_w", {"X", "W2"}, {"Y"});
    std::string b = bytes_of(m2);
    EXPECT_THROW(import_onnx_bytes(b.data(), b.size(), "m.onnx"), Error);
}

TEST(Limits, NegativeDimsAreRefused) {
    auto m = base_model();
    auto* w = m.mutable_graph()->add_initializer();
    w->set_name("W");
    w->set_data_type(1);
    for (int64_t d : {2, -1}) w->add_dims(d);
    add_node(m, "Add", "add_w", {"X", "W"}, {"Y"});
    expect_import_error(m, ErrorKind::Invalid, {"'W'", "negative"});
    auto m2 = base_model({1, -3, 4, 4});
    add_node(m2, "Relu", "r", {"X"}, {"Y"});
    expect_import_error(m2, ErrorKind::Invalid, {"'X'", "negative"});
}

// Zero where an op needs a positive value: a clear error naming the node, at Session
// creation or at the first run.
TEST(Limits, ZeroStridesKernelsAndGroupsAreRefused) {
    struct Case {
        const char* attr;
        std::vector<int64_t> ints;
    };
    for (const Case& c : {Case{"strides", {0, 1}}, Case{"kernel_shape", {0, 0}}, Case{"dilations", {1, 0}},
                          Case{"group", {0}}}) {
        auto m = base_model();
        auto* w = m.mutable_graph()->add_initializer();
        w->set_name("W");
        w->set_data_type(1);
        for (int64_t d : {1, 1, 3, 3}) w->add_dims(d);
        for (int i = 0; i < 9; ++i) w->add_float_data(1.f);
        auto* n = add_node(m, "Conv", "conv0", {"X", "W"}, {"Y"});
        auto* a = n->add_attribute();
        a->set_name(c.attr);
        if (std::string(c.attr) == "group") {
            a->set_type(onnx::AttributeProto::INT);
            a->set_i(0);
        } else {
            a->set_type(onnx::AttributeProto::INTS);
            for (int64_t v : c.ints) a->add_ints(v);
        }
        std::string what;
        ErrorKind k = run_error_kind(m, {{"X", Tensor(DType::F32, {1, 1, 4, 4})}}, &what);
        EXPECT_NE(int(k), -1) << c.attr;
        EXPECT_NE(what.find("conv0"), std::string::npos) << c.attr << ": " << what;
        EXPECT_NE(what.find(c.attr), std::string::npos) << c.attr << ": " << what;
    }
    // A pool with a zero-sized kernel.
    auto m = base_model();
    auto* n = add_node(m, "MaxPool", "pool0", {"X"}, {"Y"});
    auto* a = n->add_attribute();
    a->set_name("kernel_shape");
    a->set_type(onnx::AttributeProto::INTS);
    a->add_ints(0);
    a->add_ints(2);
    std::string what;
    EXPECT_NE(int(run_error_kind(m, {{"X", Tensor(DType::F32, {1, 1, 4, 4})}}, &what)), -1);
    EXPECT_NE(what.find("pool0"), std::string::npos) << what;
    EXPECT_NE(what.find("kernel_shape"), std::string::npos) << what;
}

// A tensor computed at run time past the memory limit (ConstantOfShape of 1e12 elements)
// is a Limit error naming the node, not an out-of-memory kill.
TEST(Limits, RunTimeTensorOverTheMemoryBudgetIsALimitError) {
    auto m = base_model();
    auto* shp = m.mutable_graph()->add_initializer();
    shp->set_name("shape");
    shp->set_data_type(7);
    shp->add_dims(2);
    shp->add_int64_data(1000000);
    shp->add_int64_data(1000000);
    add_node(m, "ConstantOfShape", "big", {"shape"}, {"C"});
    add_node(m, "Add", "add", {"X", "C"}, {"Y"});
    std::string what;
    EXPECT_EQ(int(run_error_kind(m, {{"X", Tensor(DType::F32, {1, 1, 4, 4})}}, &what)), int(ErrorKind::Limit)) << what;
    EXPECT_NE(what.find("big"), std::string::npos) << what;
}

TEST(Limits, OverlongNamesAndStringAttributesAreRefused) {
    std::string long_name(5000, 'n');
    auto m = base_model();
    add_node(m, "Relu", long_name, {"X"}, {"Y"});
    expect_import_error(m, ErrorKind::Limit, {"node name", "5000 bytes"});
    auto m2 = base_model();
    add_node(m2, "Relu", "r", {"X"}, {long_name});
    m2.mutable_graph()->mutable_output(0)->set_name(long_name);
    expect_import_error(m2, ErrorKind::Limit, {"tensor name"});
    auto m3 = base_model();
    auto* n = add_node(m3, "Resize", "rs", {"X"}, {"Y"});
    auto* a = n->add_attribute();
    a->set_name("mode");
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(std::string(100000, 'x'));
    expect_import_error(m3, ErrorKind::Limit, {"'mode'", "100000 bytes"});
}

TEST(Limits, AttributeListsCountAgainstTheMemoryBudget) {
    TensorLimit limit(int64_t(1) << 20);
    auto m = base_model();
    auto* n = add_node(m, "MaxPool", "pool0", {"X"}, {"Y"});
    auto* a = n->add_attribute();
    a->set_name("pads");
    a->set_type(onnx::AttributeProto::INTS);
    for (int i = 0; i < 200000; ++i) a->add_ints(1);  // 1.6 MB as int64
    expect_import_error(m, ErrorKind::Limit, {"pool0", "'pads'", "200000"});
}

// Subgraphs (If/Loop bodies) are not imported; nesting deeper than protobuf's recursion
// limit (100) is refused while parsing, shallower nesting is reported as unsupported.
TEST(Limits, NestedSubgraphsAreRefusedCleanly) {
    for (int depth : {1, 150}) {
        onnx::GraphProto inner;
        inner.set_name("leaf");
        for (int d = 0; d < depth; ++d) {
            onnx::GraphProto outer;
            outer.set_name(std::string("level") + std::to_string(d));
            auto* n = outer.add_node();
            n->set_op_type("If");
            n->set_name(std::string("if") + std::to_string(d));
            n->add_input("c");
            n->add_output("o");
            auto* a = n->add_attribute();
            a->set_name("then_branch");
            a->set_type(onnx::AttributeProto::GRAPH);
            *a->mutable_g() = inner;
            inner = outer;
        }
        auto m = base_model();
        auto* n = add_node(m, "If", "top_if", {"X"}, {"Y"});
        auto* a = n->add_attribute();
        a->set_name("then_branch");
        a->set_type(onnx::AttributeProto::GRAPH);
        *a->mutable_g() = inner;
        std::string b = bytes_of(m);
        try {
            auto g = import_onnx_bytes(b.data(), b.size(), "m.onnx");
            Session s(g);
            ADD_FAILURE() << "depth " << depth << " accepted";
        } catch (const Error& e) {
            std::string what = e.what();
            EXPECT_NE(what.find("m.onnx"), std::string::npos) << what;
            if (depth == 1) {
                EXPECT_NE(what.find("top_if"), std::string::npos) << what;
            }
        }
    }
}

// A very deep graph (a chain of 5,000 nodes: 4,999 Neg and a Relu) imports, compiles and runs without a stack
// overflow: graph sorting, the passes and the plan are iterative.
TEST(Limits, VeryDeepGraphRuns) {
    constexpr int kDepth = 5000;
    auto m = base_model({1, 4});
    std::string prev = "X";
    for (int i = 0; i < kDepth; ++i) {
        std::string out = i + 1 == kDepth ? "Y" : std::string("t") + std::to_string(i);
        add_node(m, i + 1 == kDepth ? "Relu" : "Neg", std::string("n") + std::to_string(i), {prev}, {out});
        prev = out;
    }
    std::string b = bytes_of(m);
    auto g = import_onnx_bytes(b.data(), b.size(), "deep.onnx");
    Tensor x = Tensor::from_vector<float>({1.f, -2.f, 3.f, -4.f}, {1, 4});
    for (int level : {0, 1}) {
        SessionOptions o;
        o.optimization_level = level;
        Session s(g, o);
        auto out = s.run({{"X", x}});
        // 4,999 Negs (odd: -x) then Relu: max(0, -x).
        ASSERT_EQ(out[0].second.numel(), 4);
        const float* y = out[0].second.data<float>();
        EXPECT_EQ(y[0], 0.f);
        EXPECT_EQ(y[1], 2.f);
        EXPECT_EQ(y[2], 0.f);
        EXPECT_EQ(y[3], 4.f);
    }
}

// External data stays inside the model's folder: "..", absolute paths and symlinks that
// lead out are refused by name; malformed offsets are clear errors.
TEST(Limits, ExternalDataCannotLeaveTheModelFolder) {
    auto dir = test::temp_dir("ext_escape");
    auto model_dir = dir / "model";
    std::filesystem::create_directories(model_dir);
    { std::ofstream(dir / "secret.bin", std::ios::binary) << std::string(16, 's'); }
    { std::ofstream(model_dir / "ok.bin", std::ios::binary) << std::string(16, '\0'); }
    std::filesystem::create_symlink(dir / "secret.bin", model_dir / "link.bin");
    ImportOptions opts;
    opts.external_data_dir = model_dir.string();
    auto with_external = [&](std::vector<std::pair<std::string, std::string>> kv) {
        auto m = base_model();
        auto* w = m.mutable_graph()->add_initializer();
        w->set_name("W");
        w->set_data_type(1);
        w->add_dims(4);
        w->set_data_location(onnx::TensorProto::EXTERNAL);
        for (auto& [k, v] : kv) {
            auto* e = w->add_external_data();
            e->set_key(k);
            e->set_value(v);
        }
        add_node(m, "Add", "add_w", {"X", "W"}, {"Y"});
        return m;
    };
    for (const std::string& loc : std::vector<std::string>{"../secret.bin", (dir / "secret.bin").string(), "link.bin",
                                                           "sub/../../secret.bin"})
        expect_import_error(with_external({{"location", loc}}), ErrorKind::Invalid, {"'W'", "leaves the model's folder"},
                            opts);
    expect_import_error(with_external({{"location", "ok.bin"}, {"offset", "abc"}}), ErrorKind::Invalid,
                        {"'W'", "offset"}, opts);
    expect_import_error(with_external({{"location", "ok.bin"}, {"length", "-5"}}), ErrorKind::Invalid,
                        {"'W'", "length"}, opts);
    expect_import_error(with_external({{"location", "ok.bin"}, {"offset", "99999999999999999999"}}),
                        ErrorKind::Invalid, {"'W'", "offset"}, opts);
    expect_import_error(with_external({{"location", "ok.bin"}, {"offset", "8"}}), ErrorKind::Invalid,
                        {"'W'", "expected 16"}, opts);
    // The inside file itself is accepted.
    std::string b = bytes_of(with_external({{"location", "ok.bin"}}));
    EXPECT_NO_THROW(import_onnx_bytes(b.data(), b.size(), "m.onnx", opts));
    std::filesystem::remove_all(dir);
}

// A .pb file whose external data is not allowed (no model folder) is refused, not read.
TEST(Limits, TensorFileWithExternalDataIsRefused) {
    onnx::TensorProto p;
    p.set_name("T");
    p.set_data_type(1);
    p.add_dims(2);
    p.set_data_location(onnx::TensorProto::EXTERNAL);
    auto* e = p.add_external_data();
    e->set_key("location");
    e->set_value("/etc/passwd");
    std::string b = p.SerializeAsString();
    try {
        read_tensor_pb_bytes(b.data(), b.size(), "t.pb");
        ADD_FAILURE() << "accepted";
    } catch (const Error& err) {
        EXPECT_NE(std::string(err.what()).find("not allowed"), std::string::npos) << err.what();
    }
}

// The limit is configurable without code: EDGECNN_MAX_TENSOR_BYTES bounds the CLI too.
TEST(Limits, CliHonoursTheTensorLimitFromTheEnvironment) {
    std::string model = test::source_path("models/fashion_mnist/fashion_mnist_cnn.onnx");
    ::setenv("EDGECNN_MAX_TENSOR_BYTES", "1000", 1);
    auto r = test::run_cli("info " + model);
    ::setenv("EDGECNN_MAX_TENSOR_BYTES", "lots", 1);
    auto bad = test::run_cli("info " + model);
    ::unsetenv("EDGECNN_MAX_TENSOR_BYTES");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("memory limit of 1000 bytes"), std::string::npos) << r.output;
    EXPECT_EQ(bad.exit_code, 0) << bad.output;
    EXPECT_NE(bad.output.find("ignoring EDGECNN_MAX_TENSOR_BYTES='lots'"), std::string::npos) << bad.output;
}

// Empty tensors (a zero dim) are valid ONNX: pools over no channels give empty outputs at
// both optimization levels (the NHWC kernel used to throw std::invalid_argument: a fuzz
// finding, tests/fuzz/regressions/onnx/maxpool_zero_channels.onnx); pooling windows that
// cover only padding are refused by name.
TEST(Limits, EmptyTensorsRunOrGiveClearErrors) {
    auto pool_model = [](const std::string& op, std::vector<int64_t> x_dims) {
        auto m = base_model(x_dims);
        auto* n = add_node(m, op, "pool0", {"X"}, {"Y"});
        if (op == "MaxPool") {
            auto* a = n->add_attribute();
            a->set_name("kernel_shape");
            a->set_type(onnx::AttributeProto::INTS);
            a->add_ints(2);
            a->add_ints(2);
        }
        return m;
    };
    {
        std::string b = bytes_of(pool_model("MaxPool", {1, 0, 4, 4}));
        auto g = import_onnx_bytes(b.data(), b.size(), "m.onnx");
        for (int level : {0, 1}) {
            SessionOptions o;
            o.optimization_level = level;
            auto out = Session(g, o).run({{"X", Tensor(DType::F32, {1, 0, 4, 4})}});
            EXPECT_EQ(out[0].second.shape(), (Shape{1, 0, 3, 3})) << "level " << level;
        }
    }
    std::string what;
    EXPECT_EQ(int(run_error_kind(pool_model("GlobalAveragePool", {1, 2, 0, 4}), {{"X", Tensor(DType::F32, {1, 2, 0, 4})}},
                                 &what)),
              int(ErrorKind::Unsupported))
        << what;
    EXPECT_NE(what.find("pool0"), std::string::npos) << what;
    EXPECT_NE(what.find("empty spatial dimension"), std::string::npos) << what;
}
