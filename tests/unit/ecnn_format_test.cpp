// The .ecnn file (src/format) and the public API (include/edgecnn): round trips agree with
// the ONNX model, every kind of damage gives a clear error (and exit code 1 in the CLI),
// and a custom op registered through the C++ API runs inside a model.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "base/cpu_features.hpp"
#include "base/error.hpp"
#include "cli_test_util.hpp"
#include "edgecnn/edgecnn.hpp"
#include "format/ecnn.hpp"
#include "kernels/gemm/gemm_f32.hpp"
#include "onnx/importer.hpp"
#include "runtime/session.hpp"

using namespace edgecnn;
using namespace edgecnn::test;

namespace {

const std::string kFashion = source_path("models/fashion_mnist/fashion_mnist_cnn.onnx");

Tensor random_input(Shape s, uint32_t seed) {
    Tensor t(DType::F32, std::move(s));
    std::mt19937 rng(seed);
    std::normal_distribution<float> n(0.f, 1.f);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = n(rng);
    return t;
}

Tensor run_one(const std::shared_ptr<const Graph>& g, const Tensor& x, int opt = 1) {
    SessionOptions o;
    o.optimization_level = opt;
    Session s(g, o);
    return s.run({{g->value(g->inputs[0]).name, x}})[0].second;
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
    EXPECT_EQ(a.shape(), b.shape());
    float m = 0;
    for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(a.data<float>()[i] - b.data<float>()[i]));
    return m;
}

std::string expect_load_error(const std::vector<uint8_t>& bytes, ErrorKind kind, const EcnnLoadOptions& o = {}) {
    try {
        (void)load_ecnn_bytes(bytes.data(), bytes.size(), "damaged.ecnn", o);
    } catch (const Error& e) {
        EXPECT_EQ(int(e.kind()), int(kind)) << e.what();
        EXPECT_NE(std::string(e.what()).find("damaged.ecnn"), std::string::npos) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "loaded a damaged file";
    return "";
}

std::vector<uint8_t> fashion_bytes(const EcnnWriteOptions& o = {}) { return serialize_ecnn(*import_onnx_file(kFashion), o); }

void write_file(const std::string& path, const std::vector<uint8_t>& b) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

}  // namespace

TEST(EcnnFormat, RoundTripRunsLikeTheOnnxModel) {
    auto onnx = import_onnx_file(kFashion);
    auto bytes = serialize_ecnn(*onnx, {});
    EcnnModel m = load_ecnn_bytes(bytes.data(), bytes.size());
    // Dynamic dims stay dynamic.
    const Value& in = m.graph->value(m.graph->inputs[0]);
    ASSERT_TRUE(in.shape);
    EXPECT_EQ((*in.shape)[0].param, "batch");
    EXPECT_FALSE((*in.shape)[0].is_static());
    for (int64_t batch : {1, 3}) {
        Tensor x = random_input({batch, 1, 28, 28}, 7);
        EXPECT_EQ(max_abs_diff(run_one(onnx, x), run_one(m.graph, x)), 0.f);
        EXPECT_EQ(max_abs_diff(run_one(onnx, x, 0), run_one(m.graph, x, 0)), 0.f);
    }
}

TEST(EcnnFormat, WeightsAreUsedInPlaceAndAligned) {
    auto bytes = fashion_bytes();
    auto buf = std::shared_ptr<void>(std::aligned_alloc(64, (bytes.size() + 63) / 64 * 64), std::free);
    std::memcpy(buf.get(), bytes.data(), bytes.size());
    EcnnModel m = load_ecnn_view(buf.get(), bytes.size(), buf, "view");
    const char* lo = static_cast<const char*>(buf.get());
    int constants = 0;
    for (const Value& v : m.graph->values) {
        if (!v.constant || v.constant->numel() == 0) continue;
        ++constants;
        const char* p = static_cast<const char*>(v.constant->raw());
        EXPECT_TRUE(p >= lo && p < lo + bytes.size()) << v.name << " was copied";
        EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << v.name;
    }
    EXPECT_GT(constants, 5);
}

TEST(EcnnFormat, Fp16WeightsHalveTheFileAndStayClose) {
    auto onnx = import_onnx_file(kFashion);
    auto b32 = serialize_ecnn(*onnx, {});
    EcnnWriteOptions o;
    o.fp16_weights = true;
    auto b16 = serialize_ecnn(*onnx, o);
    EXPECT_LE(double(b16.size()), 0.55 * double(b32.size()));
    EcnnModel m = load_ecnn_bytes(b16.data(), b16.size());
    EXPECT_TRUE(m.info.fp16_weights);
    Tensor x = random_input({2, 1, 28, 28}, 3);
    Tensor ref = run_one(onnx, x), got = run_one(m.graph, x);
    float range = 0;
    for (int64_t i = 0; i < ref.numel(); ++i) range = std::max(range, std::fabs(ref.data<float>()[i]));
    float err = max_abs_diff(ref, got);
    EXPECT_GT(err, 0.f);  // the weights really were rounded
    EXPECT_LE(err, 1e-2f * range);
}

// convert's fallback for weights float16 rounds too coarsely: int16 with a scale per
// output channel. Each loaded weight is within half a step (channel max / 32767 / 2) of the
// original, the file still about half the float32 one, and tensors not named stay float32.
TEST(EcnnFormat, Int16PerChannelWeightsRoundTripWithinHalfAStep) {
    auto onnx = import_onnx_file(kFashion);
    auto b32 = serialize_ecnn(*onnx, {});
    EcnnWriteOptions o;
    o.fp16_weights = true;
    o.fp16_values = std::set<std::string>{};
    for (const Value& v : onnx->values)
        if (v.constant && v.constant->dtype() == DType::F32 && v.constant->rank() >= 2) o.int16_values.insert(v.name);
    ASSERT_GE(o.int16_values.size(), 2u);
    auto b16 = serialize_ecnn(*onnx, o);
    EXPECT_LE(double(b16.size()), 0.56 * double(b32.size()));
    EcnnModel m = load_ecnn_bytes(b16.data(), b16.size());
    int checked = 0, exact = 0, total = 0;
    for (const Value& v : onnx->values) {
        if (!v.constant || v.constant->dtype() != DType::F32) continue;
        const Tensor& a = *v.constant;
        const Tensor& b = *m.graph->value(m.graph->find(v.name)).constant;
        ASSERT_EQ(a.shape(), b.shape()) << v.name;
        if (!o.int16_values.count(v.name)) {
            EXPECT_EQ(std::memcmp(a.raw(), b.raw(), size_t(a.numel()) * 4), 0) << v.name << " should stay float32";
            continue;
        }
        const int64_t per = a.numel() / a.dim(0);
        for (int64_t c = 0; c < a.dim(0); ++c) {
            float mx = 0;
            for (int64_t i = c * per; i < (c + 1) * per; ++i) mx = std::max(mx, std::fabs(a.data<float>()[i]));
            for (int64_t i = c * per; i < (c + 1) * per; ++i) {
                float d = std::fabs(a.data<float>()[i] - b.data<float>()[i]);
                EXPECT_LE(d, mx / 32767.f * 0.5f + mx * 1e-7f) << v.name << "[" << i << "]";
                exact += d == 0.f;
                ++total;
            }
        }
        ++checked;
    }
    EXPECT_EQ(size_t(checked), o.int16_values.size());
    EXPECT_LT(exact, total / 4);  // the weights really were rounded
    Tensor x = random_input({2, 1, 28, 28}, 3);
    Tensor ref = run_one(onnx, x), got = run_one(m.graph, x);
    float range = 0;
    for (int64_t i = 0; i < ref.numel(); ++i) range = std::max(range, std::fabs(ref.data<float>()[i]));
    EXPECT_LE(max_abs_diff(ref, got), 1e-3f * range);
}

TEST(EcnnFormat, EveryAttributeKindAndIntegerTypesRoundTrip) {
    Graph g;
    g.name = "attrs";
    g.opset = 13;
    Value x;
    x.name = "x";
    x.dtype = DType::I8;
    x.shape = std::vector<Dim>{Dim{-1, "n"}, Dim{4, ""}, Dim{-1, ""}};
    g.inputs.push_back(g.add_value(x));
    Value w;
    w.name = "w";
    w.dtype = DType::I8;
    w.constant = std::make_shared<Tensor>(Tensor::from_vector<int8_t>({-128, -1, 0, 127}, {4}));
    ValueId wid = g.add_value(w);
    Value h;
    h.name = "h";
    h.dtype = DType::F16;
    Tensor ht(DType::F16, {3});
    static_cast<uint16_t*>(ht.raw())[1] = float_to_half(1.5f);
    h.constant = std::make_shared<Tensor>(ht);
    ValueId hid = g.add_value(h);
    Value y;
    y.name = "y";
    ValueId yid = g.add_value(y);
    Node n;
    n.name = "n0";
    n.op_type = "Anything";
    n.domain = "com.example";
    n.inputs = {g.inputs[0], wid, kNoValue, hid};
    n.outputs = {yid};
    Attribute a;
    a.kind = Attribute::Kind::Int, a.i = -5, n.attrs["i"] = a;
    a = {}, a.kind = Attribute::Kind::Float, a.f = 0.25f, n.attrs["f"] = a;
    a = {}, a.kind = Attribute::Kind::String, a.s = "same_upper", n.attrs["s"] = a;
    a = {}, a.kind = Attribute::Kind::Ints, a.ints = {1, -2, 3}, n.attrs["is"] = a;
    a = {}, a.kind = Attribute::Kind::Floats, a.floats = {0.5f, -1.f}, n.attrs["fs"] = a;
    a = {}, a.kind = Attribute::Kind::Strings, a.strings = {"a", ""}, n.attrs["ss"] = a;
    a = {}, a.kind = Attribute::Kind::Tensor, a.t = std::make_shared<Tensor>(Tensor::from_vector<int64_t>({7, 8}, {2})),
    n.attrs["t"] = a;
    g.nodes.push_back(n);
    g.outputs.push_back(yid);
    verify_and_sort(g);
    EcnnWriteOptions o;
    o.class_names = {"cat", "dog"};
    o.preprocess = R"({"mean":[0.5]})";
    auto bytes = serialize_ecnn(g, o);
    EcnnModel m = load_ecnn_bytes(bytes.data(), bytes.size());
    const Graph& r = *m.graph;
    ASSERT_EQ(r.nodes.size(), 1u);
    const Node& rn = r.nodes[0];
    EXPECT_EQ(rn.domain, "com.example");
    ASSERT_EQ(rn.inputs.size(), 4u);
    EXPECT_EQ(rn.inputs[2], kNoValue);
    EXPECT_EQ(rn.attr("i")->i, -5);
    EXPECT_EQ(rn.attr("f")->f, 0.25f);
    EXPECT_EQ(rn.attr("s")->s, "same_upper");
    EXPECT_EQ(rn.attr("is")->ints, (std::vector<int64_t>{1, -2, 3}));
    EXPECT_EQ(rn.attr("fs")->floats, (std::vector<float>{0.5f, -1.f}));
    EXPECT_EQ(rn.attr("ss")->strings, (std::vector<std::string>{"a", ""}));
    EXPECT_EQ(rn.attr("t")->t->to_i64(), (std::vector<int64_t>{7, 8}));
    const Value& rx = r.value(r.inputs[0]);
    EXPECT_EQ(rx.dtype, DType::I8);
    EXPECT_EQ((*rx.shape)[0].param, "n");
    EXPECT_EQ((*rx.shape)[1].value, 4);
    EXPECT_FALSE((*rx.shape)[2].is_static());
    EXPECT_EQ(r.value(rn.inputs[1]).constant->to_i64(), (std::vector<int64_t>{-128, -1, 0, 127}));
    EXPECT_EQ(r.value(rn.inputs[3]).constant->dtype(), DType::F16);
    EXPECT_EQ(r.value(rn.inputs[3]).constant->to_f64()[1], 1.5);
    EXPECT_EQ(r.metadata.at("class_names"), "cat\ndog\n");
    EXPECT_EQ(r.metadata.at("preprocess"), o.preprocess);
}

// ---- damaged files: each a clear Error, never a crash ----

TEST(EcnnDamaged, Truncated) {
    auto bytes = fashion_bytes();
    for (size_t keep : {size_t(0), size_t(3), size_t(64), size_t(127), size_t(200), bytes.size() / 2, bytes.size() - 1}) {
        std::vector<uint8_t> t(bytes.begin(), bytes.begin() + std::ptrdiff_t(keep));
        std::string msg = expect_load_error(t, ErrorKind::Invalid);
        if (keep >= 8) {
            EXPECT_NE(msg.find("truncated"), std::string::npos) << keep << ": " << msg;
        }
    }
}

TEST(EcnnDamaged, FlippedWeightByteFailsTheChecksumUnlessOptedOut) {
    auto bytes = fashion_bytes();
    bytes[bytes.size() - 100] ^= 0x10;  // inside the last weights
    EXPECT_NE(expect_load_error(bytes, ErrorKind::Invalid).find("weights checksum"), std::string::npos);
    EcnnLoadOptions o;
    o.verify_checksum = false;
    EXPECT_NO_THROW((void)load_ecnn_bytes(bytes.data(), bytes.size(), "x", o));
}

TEST(EcnnDamaged, FlippedGraphOrHeaderByte) {
    auto bytes = fashion_bytes();
    auto g = bytes;
    g[200] ^= 0x01;
    EXPECT_NE(expect_load_error(g, ErrorKind::Invalid).find("graph section checksum"), std::string::npos);
    auto h = bytes;
    h[20] ^= 0x01;  // graph offset
    EXPECT_NE(expect_load_error(h, ErrorKind::Invalid).find("header checksum"), std::string::npos);
}

TEST(EcnnDamaged, WrongVersionAndMagic) {
    auto bytes = fashion_bytes();
    auto v = bytes;
    v[4] = uint8_t(kEcnnVersionMajor + 1);
    const std::string minor = "." + std::to_string(kEcnnVersionMinor);
    EXPECT_NE(expect_load_error(v, ErrorKind::Unsupported).find("version 2" + minor + " is not supported"), std::string::npos);
    auto m = bytes;
    m[0] = 'X';
    EXPECT_NE(expect_load_error(m, ErrorKind::Invalid).find("wrong magic"), std::string::npos);
}

TEST(EcnnDamaged, WrongCpuTarget) {
    auto graph = import_onnx_file(kFashion);
    EcnnWriteOptions o;
    o.target = "x86-avx512";
    auto bytes = serialize_ecnn(*graph, o);
    set_isa_override(Isa::Avx2);
    std::string msg = expect_load_error(bytes, ErrorKind::Unsupported);
    set_isa_override(std::nullopt);
    EXPECT_NE(msg.find("packed for target 'x86-avx512'"), std::string::npos) << msg;
    o.target = "arm64";
    bytes = serialize_ecnn(*graph, o);
#if !defined(__aarch64__)
    expect_load_error(bytes, ErrorKind::Unsupported);
#endif
}

// Random mutations (a small in-test fuzzer): any outcome but a crash or a non-Error throw.
TEST(EcnnDamaged, RandomMutationsNeverCrash) {
    // A float32 file, and one with float16 and int16 (scaled) tensors.
    EcnnWriteOptions mixed;
    mixed.fp16_weights = true;
    mixed.fp16_values = std::set<std::string>{};
    int nth = 0;
    const auto fashion = import_onnx_file(kFashion);  // held: the loop reads its values
    for (const Value& v : fashion->values)
        if (v.constant && v.constant->dtype() == DType::F32)
            (nth++ % 2 ? *mixed.fp16_values : mixed.int16_values).insert(v.name);
    const std::vector<std::vector<uint8_t>> files = {fashion_bytes(), fashion_bytes(mixed)};
    ASSERT_NE(files[0].size(), files[1].size());
    std::mt19937 rng(1);
    EcnnLoadOptions no_sum;
    no_sum.verify_checksum = false;
    int loaded = 0;
    for (int iter = 0; iter < 300; ++iter) {
        auto b = files[size_t(iter % 2)];
        int flips = 1 + int(rng() % 4);
        for (int k = 0; k < flips; ++k) b[rng() % std::min<size_t>(b.size(), 4096)] = uint8_t(rng());
        try {
            EcnnModel m = load_ecnn_bytes(b.data(), b.size(), "m", no_sum);
            ++loaded;
        } catch (const Error&) {
        }
    }
    SUCCEED() << loaded << " of 300 mutated files still loaded";
}

// The CLI: exit code 1 and one message for each damage.
TEST(EcnnDamaged, CliExitsWithOneAndAMessage) {
    auto dir = temp_dir("ecnn_damaged");
    auto bytes = fashion_bytes();
    auto check = [&](const std::string& name, const std::vector<uint8_t>& b, const std::string& expect) {
        std::string path = (dir / name).string();
        write_file(path, b);
        CliResult r = run_cli("info " + path);
        EXPECT_EQ(r.exit_code, 1) << name << ": " << r.output;
        EXPECT_NE(r.output.find(expect), std::string::npos) << name << ": " << r.output;
        EXPECT_NE(r.output.find(path), std::string::npos) << name << ": " << r.output;
    };
    check("truncated.ecnn", std::vector<uint8_t>(bytes.begin(), bytes.begin() + 1000), "truncated");
    auto f = bytes;
    f[f.size() - 10] ^= 1;
    check("flipped.ecnn", f, "checksum");
    auto v = bytes;
    v[4] = 9;
    check("version.ecnn", v, "version 9." + std::to_string(kEcnnVersionMinor) + " is not supported");
    auto m = bytes;
    m[1] = 'X';
    check("magic.ecnn", m, "wrong magic");
    EcnnWriteOptions o;
    o.target = "x86-avx512";
    std::string path = (dir / "avx512.ecnn").string();
    write_file(path, serialize_ecnn(*import_onnx_file(kFashion), o));
    CliResult r = run_cli("check " + path + " --data " + source_path("models/fixtures/fashion_mnist_cnn"));
    if (active_isa() == Isa::Avx512) {
        // Loads here; with EDGECNN_ISA=avx2 the same file must be refused.
        EXPECT_EQ(r.exit_code, 0) << r.output;
        std::string cmd = "EDGECNN_ISA=avx2 " + std::string(EDGECNN_BINARY_DIR) + "/edgecnn info " + path + " 2>&1";
        FILE* p = popen(cmd.c_str(), "r");
        char buf[4096];
        std::string out;
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
        int st = pclose(p);
        EXPECT_EQ(WEXITSTATUS(st), 1) << out;
        EXPECT_NE(out.find("packed for target 'x86-avx512'"), std::string::npos) << out;
    } else {
        EXPECT_EQ(r.exit_code, 1) << r.output;
        EXPECT_NE(r.output.find("packed for target 'x86-avx512'"), std::string::npos) << r.output;
    }
    std::filesystem::remove_all(dir);
}

// ---- the public API ----

TEST(EcnnApi, CppApiRunsAndReportsErrors) {
    auto bytes = fashion_bytes();
    ecnn::Model model = ecnn::Model::from_memory(bytes.data(), bytes.size());
    ASSERT_EQ(model.input_names(), std::vector<std::string>{"input"});
    EXPECT_EQ(model.input_info(0).shape, (std::vector<int64_t>{-1, 1, 28, 28}));
    ecnn::Session session(model);
    Tensor x = random_input({1, 1, 28, 28}, 11);
    session.bind_input("input", x.data<float>(), {1, 1, 28, 28});
    session.run();
    ecnn::TensorView out = session.output("logits");
    Tensor ref = run_one(import_onnx_file(kFashion), x);
    ASSERT_EQ(out.numel(), ref.numel());
    for (int64_t i = 0; i < ref.numel(); ++i) EXPECT_EQ(out.as<float>()[i], ref.data<float>()[i]);
    // Reuse with new contents of the same bound buffer.
    Tensor x2 = random_input({1, 1, 28, 28}, 12);
    std::memcpy(x.raw(), x2.raw(), x.nbytes());
    session.run();
    Tensor ref2 = run_one(import_onnx_file(kFashion), x2);
    for (int64_t i = 0; i < ref2.numel(); ++i) EXPECT_EQ(session.output(0).as<float>()[i], ref2.data<float>()[i]);

    try {
        session.bind_input("nope", x.data<float>(), {1, 1, 28, 28});
        FAIL();
    } catch (const ecnn::Error& e) {
        EXPECT_EQ(e.status(), ECNN_ERROR_INVALID);
        EXPECT_NE(std::string(e.what()).find("no input named 'nope'"), std::string::npos);
    }
    ecnn::SessionOptions small;
    small.max_arena_bytes = 1024;
    ecnn::Session tight(model, small);
    tight.bind_input("input", x.data<float>(), {1, 1, 28, 28});
    try {
        tight.run();
        FAIL();
    } catch (const ecnn::Error& e) {
        EXPECT_EQ(e.status(), ECNN_ERROR_LIMIT) << e.what();
    }
    ecnn_model* m = nullptr;
    EXPECT_EQ(ecnn_model_load_file("/nonexistent.ecnn", nullptr, &m), ECNN_ERROR_IO);
    EXPECT_NE(std::string(ecnn_last_error()).find("/nonexistent.ecnn"), std::string::npos);
    EXPECT_EQ(m, nullptr);
}

// A custom op "com.example.ScaleShift" (y = alpha * x + beta, attributes) registered
// through the C++ API, in a model between two standard ops.
TEST(EcnnApi, CustomOpRunsInsideAModel) {
    ecnn::CustomOp op;
    op.domain = "com.example";
    op.name = "ScaleShift";
    op.infer = [](const ecnn::OpContext&, const std::vector<ecnn::TensorView>& in, std::vector<ecnn::TensorView>& out) {
        if (in.size() != 1 || in[0].dtype != ECNN_F32) throw std::runtime_error("ScaleShift wants one float32 input");
        out.at(0).dtype = ECNN_F32;
        out.at(0).shape = in[0].shape;
    };
    op.run = [](const ecnn::OpContext& ctx, const std::vector<ecnn::TensorView>& in, const std::vector<ecnn::TensorView>& out) {
        float alpha = ctx.attr_float("alpha");
        int64_t beta = ctx.attr_int("beta");
        const float* x = in[0].as<float>();
        float* y = out[0].as<float>();
        for (int64_t i = 0; i < in[0].numel(); ++i) y[i] = alpha * x[i] + float(beta);
    };
    ecnn::register_op(op);
    EXPECT_THROW(ecnn::register_op(op), ecnn::Error);  // taken

    // x -> Relu -> ScaleShift(alpha 2, beta -1) -> Neg -> y
    Graph g;
    g.opset = 13;
    auto val = [&](const std::string& name, bool input) {
        Value v;
        v.name = name;
        v.dtype = DType::F32;
        if (input) v.shape = std::vector<Dim>{Dim{2, ""}, Dim{3, ""}};
        return g.add_value(v);
    };
    ValueId x = val("x", true), a = val("a", false), b = val("b", false), y = val("y", false);
    g.inputs = {x};
    g.outputs = {y};
    Node relu, custom, neg;
    relu.name = "relu", relu.op_type = "Relu", relu.inputs = {x}, relu.outputs = {a};
    custom.name = "ss", custom.op_type = "ScaleShift", custom.domain = "com.example", custom.inputs = {a}, custom.outputs = {b};
    Attribute alpha;
    alpha.kind = Attribute::Kind::Float, alpha.f = 2.f;
    Attribute beta;
    beta.kind = Attribute::Kind::Int, beta.i = -1;
    custom.attrs = {{"alpha", alpha}, {"beta", beta}};
    neg.name = "neg", neg.op_type = "Neg", neg.inputs = {b}, neg.outputs = {y};
    g.nodes = {relu, custom, neg};
    verify_and_sort(g);
    auto bytes = serialize_ecnn(g, {});
    ecnn::Model model = ecnn::Model::from_memory(bytes.data(), bytes.size());
    for (int opt : {0, 1}) {
        ecnn::SessionOptions so;
        so.optimization_level = opt;
        ecnn::Session s(model, so);
        std::vector<float> in{-1.f, 0.f, 1.f, 2.f, -3.f, 0.5f};
        s.bind_input("x", in.data(), {2, 3});
        s.run();
        ecnn::TensorView out = s.output("y");
        ASSERT_EQ(out.shape, (std::vector<int64_t>{2, 3}));
        for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(out.as<float>()[i], -(2.f * std::max(in[i], 0.f) - 1.f)) << i;
    }
    // An error inside the kernel reaches the caller with the op's message.
    ecnn::CustomOp bad = op;
    bad.name = "Broken";
    bad.run = [](const ecnn::OpContext&, const std::vector<ecnn::TensorView>&, const std::vector<ecnn::TensorView>&) {
        throw std::runtime_error("broken on purpose");
    };
    ecnn::register_op(bad);
    g.nodes[1].op_type = "Broken";
    auto bytes2 = serialize_ecnn(g, {});
    ecnn::Model model2 = ecnn::Model::from_memory(bytes2.data(), bytes2.size());
    ecnn::Session s2(model2);
    std::vector<float> in(6, 1.f);
    s2.bind_input("x", in.data(), {2, 3});
    try {
        s2.run();
        FAIL();
    } catch (const ecnn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("broken on purpose"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("'ss'"), std::string::npos) << e.what();
    }
}

// `convert --target` for this CPU: the kernels' packed weights travel in the file, the
// model checks against the ONNX references, and another ISA level refuses the file.
TEST(EcnnCli, TargetPackedFileChecksAndIsRefusedElsewhere) {
    std::string target = active_isa() == Isa::Avx512 ? "x86-avx512" : active_isa() == Isa::Avx2 ? "x86-avx2" : "";
    if (target.empty()) GTEST_SKIP() << "no x86 SIMD target on this CPU";
    auto dir = temp_dir("ecnn_target");
    std::string out = (dir / "fm.ecnn").string();
    CliResult c = run_cli("convert " + kFashion + " -o " + out + " --input-shape input=2x1x28x28 --target " + target);
    ASSERT_EQ(c.exit_code, 0) << c.output;
    EXPECT_NE(c.output.find("optimized graph"), std::string::npos) << c.output;
    EXPECT_EQ(c.output.find(" 0 packed weight sets"), std::string::npos) << c.output;
    CliResult r = run_cli("check " + out + " --data " + source_path("models/fixtures/fashion_mnist_cnn"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EcnnModel m = load_ecnn_file(out);
    int prepacked = 0;
    for (const Node& n : m.graph->nodes)
        for (const auto& [k, a] : n.attrs) prepacked += k.rfind(kPrepackedAttr, 0) == 0;
    EXPECT_GT(prepacked, 0);
    std::string cmd = "EDGECNN_ISA=scalar " + std::string(EDGECNN_BINARY_DIR) + "/edgecnn info " + out + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    std::string text;
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
    int st = pclose(p);
    EXPECT_EQ(WEXITSTATUS(st), 1) << text;
    EXPECT_NE(text.find("packed for target '" + target + "'"), std::string::npos) << text;
    // --target needs fixed shapes.
    CliResult d = run_cli("convert " + kFashion + " -o " + out + " --target " + target);
    EXPECT_EQ(d.exit_code, 1) << d.output;
    EXPECT_NE(d.output.find("--input-shape"), std::string::npos) << d.output;
    std::filesystem::remove_all(dir);
}

// PackedGemmB::adopt (what a --target file's weights become at load) gives the same
// products as a fresh packing, on awkward sizes, and refuses storage of the wrong size.
TEST(EcnnPrepacked, AdoptedGemmPackingMatchesAFreshOne) {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (auto [m, k, n] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {7, 13, 5}, {33, 70, 47}, {5, 129, 100}}) {
        std::vector<float> a(size_t(m * k)), b(size_t(k * n)), c1(size_t(m * n)), c2(size_t(m * n));
        for (float& v : a) v = u(rng);
        for (float& v : b) v = u(rng);
        PackedGemmB fresh = pack_gemm_b_f32(b.data(), k, n, n, false);
        // Through a Tensor, as the file hands it over (a copy: no shared allocation).
        auto copy = std::shared_ptr<float>(static_cast<float*>(std::aligned_alloc(64, fresh.floats() * 4 + 64)), std::free);
        std::memcpy(copy.get(), fresh.data(), fresh.floats() * 4);
        PackedGemmB adopted = PackedGemmB::adopt(copy, fresh.floats(), k, n, fresh.isa());
        GemmEpilogue ep;
        gemm_f32(m, a.data(), k, fresh, c1.data(), n, ep, nullptr);
        gemm_f32(m, a.data(), k, adopted, c2.data(), n, ep, nullptr);
        EXPECT_EQ(c1, c2) << m << "x" << k << "x" << n;
        EXPECT_THROW(PackedGemmB::adopt(copy, fresh.floats() - 1, k, n, fresh.isa()), Error);
        EXPECT_THROW(PackedGemmB::adopt(copy, fresh.floats(), k + 1, n, fresh.isa()), Error);
    }
}

// Sessions of one model run concurrently (each on its own thread), as edgecnn.h promises,
// and agree with a session run alone; the model may be released before its sessions.
TEST(EcnnApi, SessionsOfOneModelRunConcurrently) {
    auto bytes = fashion_bytes();
    std::vector<std::unique_ptr<ecnn::Session>> sessions;
    {
        ecnn::Model model = ecnn::Model::from_memory(bytes.data(), bytes.size());
        for (int i = 0; i < 4; ++i) sessions.push_back(std::make_unique<ecnn::Session>(model));
    }
    std::vector<Tensor> inputs;
    for (int i = 0; i < 4; ++i) inputs.push_back(random_input({2, 1, 28, 28}, 100 + uint32_t(i)));
    std::vector<std::vector<float>> got(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&, i] {
            for (int rep = 0; rep < 5; ++rep) {
                sessions[size_t(i)]->bind_input("input", inputs[size_t(i)].data<float>(), {2, 1, 28, 28});
                sessions[size_t(i)]->run();
            }
            ecnn::TensorView y = sessions[size_t(i)]->output(0);
            got[size_t(i)].assign(y.as<float>(), y.as<float>() + y.numel());
        });
    for (auto& t : threads) t.join();
    auto graph = import_onnx_file(kFashion);
    for (int i = 0; i < 4; ++i) {
        Tensor ref = run_one(graph, inputs[size_t(i)]);
        ASSERT_EQ(got[size_t(i)].size(), size_t(ref.numel()));
        for (int64_t k = 0; k < ref.numel(); ++k) EXPECT_EQ(got[size_t(i)][size_t(k)], ref.data<float>()[k]) << i;
    }
}

// With dynamic dims the stored graph keeps them and gets the shape-independent rewrite:
// BatchNorm folded into the Conv before it; the file still checks against the references.
TEST(EcnnCli, DynamicModelKeepsDimsAndFoldsBatchNorm) {
    auto dir = temp_dir("ecnn_dynamic");
    std::string out = (dir / "fm.ecnn").string();
    CliResult c = run_cli("convert " + kFashion + " -o " + out);
    ASSERT_EQ(c.exit_code, 0) << c.output;
    EcnnModel m = load_ecnn_file(out);
    EXPECT_FALSE(m.graph->optimized);
    EXPECT_EQ((*m.graph->value(m.graph->inputs[0]).shape)[0].param, "batch");
    int bn = 0, conv = 0;
    for (const Node& n : m.graph->nodes) bn += n.op_type == "BatchNormalization", conv += n.op_type == "Conv";
    EXPECT_EQ(bn, 0);
    EXPECT_EQ(conv, 3);
    CliResult r = run_cli("check " + out + " --data " + source_path("models/fixtures/fashion_mnist_cnn"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::filesystem::remove_all(dir);
}

// The file carries the preprocessing and class names: convert picks up the model's sidecar
// (fashion_mnist_cnn.onnx.json: normalisation, task classify, classes.txt), and `run
// model.ecnn --image` with no flags prints what the ONNX model with its sidecar prints.
TEST(EcnnCli, RunTakesPreprocessingTaskAndClassNamesFromTheFile) {
    auto dir = temp_dir("ecnn_embedded");
    std::string out = (dir / "fm.ecnn").string();
    CliResult c = run_cli("convert " + kFashion + " -o " + out);
    ASSERT_EQ(c.exit_code, 0) << c.output;
    EcnnModel m = load_ecnn_file(out);
    ASSERT_EQ(m.graph->metadata.count("preprocess"), 1u);
    EXPECT_NE(m.graph->metadata["preprocess"].find("\"task\":\"classify\""), std::string::npos);
    EXPECT_EQ(m.graph->metadata["preprocess"].find("class_names"), std::string::npos);  // a path would not travel
    EXPECT_EQ(m.graph->metadata["class_names"].substr(0, 12), "T-shirt/top\n");
    const std::string samples = source_path("models/fashion_mnist/samples/");
    const std::vector<std::pair<std::string, std::string>> pngs = {{"t10k_0_ankle_boot.png", "Ankle boot"},
                                                                   {"t10k_1_pullover.png", "Pullover"},
                                                                   {"t10k_2_trouser.png", "Trouser"}};
    for (const auto& [png, name] : pngs) {
        CliResult e = run_cli("run " + out + " --image " + samples + png);
        ASSERT_EQ(e.exit_code, 0) << e.output;
        std::smatch me;
        ASSERT_TRUE(std::regex_search(e.output, me, std::regex("top-1: class \\d+ ([^\\n]*?)  score[^\\n]*"))) << e.output;
        EXPECT_EQ(me[1].str(), name) << e.output;
        CliResult o = run_cli("run " + kFashion + " --image " + samples + png);
        ASSERT_EQ(o.exit_code, 0) << o.output;
        std::smatch mo;
        ASSERT_TRUE(std::regex_search(o.output, mo, std::regex("top-1: class \\d+ ([^\\n]*?)  score[^\\n]*"))) << o.output;
        EXPECT_EQ(me[0].str(), mo[0].str());  // same preprocessing: same scores
    }
    // Inline JSON is checked like a sidecar file: a typo is an error naming it.
    CliResult bad = run_cli("convert " + kFashion + " -o " + (dir / "bad.ecnn").string() + " --preprocess '{\"sclae\": 1}'");
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.output.find("--preprocess: unknown key \"sclae\""), std::string::npos) << bad.output;
    std::filesystem::remove_all(dir);
}
