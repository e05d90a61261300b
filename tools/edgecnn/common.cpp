#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>

#include "base/error.hpp"
#include "format/ecnn.hpp"
#include "io/npy.hpp"
#include "onnx/importer.hpp"
#include "onnx/tensor_proto.hpp"

namespace edgecnn::cli {

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

std::shared_ptr<Graph> load_model(const std::string& path) {
    if (!std::filesystem::exists(path)) throw Error(ErrorKind::Io, path + ": no such file");
    if (std::filesystem::is_directory(path)) throw Error(ErrorKind::Io, path + ": is a directory, not a model file");
    if (ends_with(path, ".ecnn") || is_ecnn_file(path)) return load_ecnn_file(path).graph;
    return import_onnx_file(path);
}

FpMath parse_fpmath(const std::string& s) {
    if (s == "f32" || s == "fp32") return FpMath::F32;
    if (s == "bf16") return FpMath::Bf16;
    fail("--fpmath: '" + s + "' is not f32 or bf16");
}

const char* fpmath_name(FpMath m) { return m == FpMath::Bf16 ? "bf16" : "f32"; }

Tensor read_tensor_file(const std::string& path) {
    if (ends_with(path, ".npy")) return read_npy(path);
    if (ends_with(path, ".pb")) return read_tensor_pb(path);
    fail(path + ": unknown tensor file type (expected .npy or .pb)");
}

std::string write_tensor_file(const std::string& dir, const std::string& name, const Tensor& t, const std::string& ext) {
    std::string safe = name.empty() ? "unnamed" : name;
    for (char& c : safe)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) c = '_';
    std::filesystem::create_directories(dir);
    std::string path = (std::filesystem::path(dir) / (safe + "." + ext)).string();
    if (ext == "pb") write_tensor_pb(path, t, name);
    else write_npy(path, t);
    return path;
}

std::string summarize(const Tensor& t) {
    std::string s = shape_str(t.shape()) + " " + dtype_name(t.dtype());
    if (t.numel() == 0 || t.dtype() == DType::Undefined) return s;
    std::vector<double> v = t.to_f64();
    double mn = v[0], mx = v[0], sum = 0;
    size_t arg = 0;
    for (size_t i = 0; i < v.size(); ++i) {
        mn = std::min(mn, v[i]);
        if (v[i] > mx) {
            mx = v[i];
            arg = i;
        }
        sum += v[i];
    }
    char buf[200];
    std::snprintf(buf, sizeof buf, " min %.6g max %.6g mean %.6g argmax %zu", mn, mx, sum / double(v.size()), arg);
    s += buf;
    s += " values [";
    for (size_t i = 0; i < std::min<size_t>(v.size(), 6); ++i) {
        std::snprintf(buf, sizeof buf, "%s%.6g", i ? ", " : "", v[i]);
        s += buf;
    }
    return s + (v.size() > 6 ? ", ...]" : "]");
}

Shape parse_shape(const std::string& s) {
    Shape shape;
    size_t b = 0;
    while (b <= s.size()) {
        size_t e = s.find_first_of("x,", b);
        if (e == std::string::npos) e = s.size();
        std::string part = s.substr(b, e - b);
        if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos)
            fail("bad shape '" + s + "' (expected e.g. 1x3x224x224)");
        shape.push_back(std::stoll(part));
        b = e + 1;
    }
    return shape;
}

int64_t node_macs(const Node& n, const std::function<const Shape*(ValueId)>& shape_of) {
    auto input = [&](size_t i) { return shape_of(i < n.inputs.size() ? n.inputs[i] : kNoValue); };
    const bool conv =
        n.op_type == "Conv" || n.op_type == "FusedConv" || n.op_type == "ConvNhwc" || n.op_type == "QConvNhwc";
    if (conv || n.op_type == "ConvTranspose") {
        const Shape *x = input(0), *w = input(1), *y = n.outputs.empty() ? nullptr : shape_of(n.outputs[0]);
        if (!x || !w || !y) return -1;
        int64_t per = 1;  // Conv: Cin/groups * kernel per output; ConvTranspose: Cout/groups * kernel per input
        for (size_t i = 1; i < w->size(); ++i) per *= (*w)[i];
        return shape_numel(conv ? *y : *x) * per;
    }
    if (n.op_type == "ExpandDwNhwc") {  // X [N,H,W,Cin] · W1 [Cexp,Cin,1,1], then depthwise W2 [Cexp,1,kh,kw]
        const Shape *x = input(0), *w1 = input(1), *w2 = input(3), *y = n.outputs.empty() ? nullptr : shape_of(n.outputs[0]);
        if (!x || !w1 || !w2 || !y || w1->empty() || w2->size() != 4) return -1;
        return shape_numel(*x) * (*w1)[0] + shape_numel(*y) * (*w2)[2] * (*w2)[3];
    }
    if (n.op_type == "QGemm") {  // int8: X [M,K], W [N,K]
        const Shape *w = input(1), *y = n.outputs.empty() ? nullptr : shape_of(n.outputs[0]);
        if (!w || !y || w->size() != 2) return -1;
        return shape_numel(*y) * (*w)[1];
    }
    if (n.op_type == "Gemm" || n.op_type == "MatMul") {
        const Shape *a = input(0), *y = n.outputs.empty() ? nullptr : shape_of(n.outputs[0]);
        if (!a || !y || a->empty()) return -1;
        int64_t k = a->back();
        const Attribute* ta = n.attr("transA");
        if (n.op_type == "Gemm" && ta && ta->i && a->size() == 2) k = (*a)[0];
        return shape_numel(*y) * k;
    }
    return 0;
}

int64_t count_macs(const Graph& g, const std::vector<std::optional<Shape>>& shapes) {
    auto shape_of = [&](ValueId id) -> const Shape* {
        if (id == kNoValue || size_t(id) >= shapes.size() || !shapes[size_t(id)]) return nullptr;
        return &*shapes[size_t(id)];
    };
    int64_t total = 0;
    for (const Node& n : g.nodes) {
        int64_t m = node_macs(n, shape_of);
        if (m < 0) return -1;
        total += m;
    }
    return total;
}

}  // namespace edgecnn::cli
