#include "onnx/onnx_tensor.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "base/error.hpp"

namespace edgecnn {

namespace {

std::string tensor_label(const onnx::TensorProto& p) { return "tensor '" + p.name() + "'"; }

// A decimal offset/length of external data; anything else is a clear error (not a
// std::invalid_argument escaping from std::stoll).
int64_t parse_external_number(const onnx::TensorProto& p, const std::string& key, const std::string& text) {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < 0)
        fail(tensor_label(p) + ": external data " + key + " '" + text.substr(0, 32) + "' is not a valid byte count");
    return v;
}

// External data must stay inside the model's folder: "../../etc/passwd" is refused.
// Everything (path, file size, offset, length) is checked before the tensor is allocated.
std::string read_external(const onnx::TensorProto& p, const std::string& base_dir, size_t expected) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto& kv : p.external_data()) {
        if (kv.key() == "location") location = kv.value();
        else if (kv.key() == "offset") offset = parse_external_number(p, "offset", kv.value());
        else if (kv.key() == "length") length = parse_external_number(p, "length", kv.value());
    }
    if (base_dir.empty()) fail(tensor_label(p) + ": external data is not allowed here");
    if (location.empty()) fail(tensor_label(p) + ": external data has no location");
    if (location.find('\0') != std::string::npos) fail(tensor_label(p) + ": external data path contains a NUL byte");
    namespace fs = std::filesystem;
    fs::path base = fs::weakly_canonical(fs::path(base_dir));
    fs::path file = fs::weakly_canonical(base / location);
    auto rel = file.lexically_relative(base);
    if (fs::path(location).is_absolute() || rel.empty() || *rel.begin() == "..")
        fail(tensor_label(p) + ": external data path '" + location + "' leaves the model's folder");
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(ErrorKind::Io, tensor_label(p) + ": cannot open external data file '" + file.string() + "'");
    in.seekg(0, std::ios::end);
    int64_t fsize = in.tellg();
    if (offset > fsize) fail(tensor_label(p) + ": external data offset is beyond the end of the file");
    if (length < 0) length = fsize - offset;
    if (length != int64_t(expected) || length > fsize - offset)
        fail(tensor_label(p) + ": external data holds " + std::to_string(std::min(length, fsize - offset)) +
             " bytes, expected " + std::to_string(expected));
    std::string buf(size_t(length), '\0');
    in.seekg(offset);
    in.read(buf.data(), length);
    if (!in) throw Error(ErrorKind::Io, tensor_label(p) + ": short read from '" + file.string() + "'");
    return buf;
}

template <typename Field, typename T>
void copy_field(const Field& f, T* dst, int64_t n, const onnx::TensorProto& p) {
    if (f.size() != n)
        fail(tensor_label(p) + " holds " + std::to_string(f.size()) + " values, its dims need " + std::to_string(n));
    for (int64_t i = 0; i < n; ++i) dst[i] = T(f.Get(int(i)));
}

}  // namespace

Tensor tensor_from_proto(const onnx::TensorProto& p, const std::string& base_dir) {
    if (p.has_segment()) fail_unsupported(tensor_label(p) + ": segmented tensors are not supported");
    if (!dtype_known(p.data_type()))
        fail_unsupported(tensor_label(p) + ": data type " + std::to_string(p.data_type()) + " is not supported");
    DType dt = DType(p.data_type());
    Shape shape(p.dims().begin(), p.dims().end());
    for (int64_t d : shape)
        if (d < 0) fail(tensor_label(p) + " has a negative dimension " + shape_str(shape));
    int64_t n = 0;
    try {
        n = shape_numel(shape);
    } catch (const Error& e) {
        throw e.with_prefix(tensor_label(p) + ": ");
    }
    size_t es = dtype_size(dt);
    if (es == 0) fail_unsupported(tensor_label(p) + ": data type " + dtype_name(dt) + " is not supported");
    // Past the memory limit (Error(Limit)) before any byte count is computed, so n * es
    // cannot overflow below.
    if (n > max_tensor_bytes() / int64_t(es))
        throw Error(ErrorKind::Limit, tensor_label(p) + " of shape " + shape_str(shape) +
                                          " is larger than the memory limit of " + std::to_string(max_tensor_bytes()) +
                                          " bytes");
    // Check the payload size before allocating, so a tiny file cannot claim a huge tensor.
    bool external = p.data_location() == onnx::TensorProto::EXTERNAL;
    if (!external && p.has_raw_data() && p.raw_data().size() != size_t(n) * es)
        fail(tensor_label(p) + " has " + std::to_string(p.raw_data().size()) + " bytes of data, its dims " +
             shape_str(shape) + " need " + std::to_string(size_t(n) * es));
    if (!external && !p.has_raw_data()) {
        int64_t have = 0;
        switch (dt) {
            case DType::F32: have = p.float_data_size(); break;
            case DType::F64: have = p.double_data_size(); break;
            case DType::I64: have = p.int64_data_size(); break;
            case DType::U32: case DType::U64: have = p.uint64_data_size(); break;
            default: have = p.int32_data_size(); break;
        }
        if (have != n)
            fail(tensor_label(p) + " holds " + std::to_string(have) + " values, its dims " + shape_str(shape) +
                 " need " + std::to_string(n));
    }
    if (external) {
        std::string buf = read_external(p, base_dir, size_t(n) * es);
        Tensor t = Tensor::uninitialized(dt, shape);
        if (!buf.empty()) std::memcpy(t.raw(), buf.data(), buf.size());
        return t;
    }
    Tensor t(dt, shape);
    if (p.has_raw_data()) {
        std::memcpy(t.raw(), p.raw_data().data(), t.nbytes());
        return t;
    }
    switch (dt) {
        case DType::F32: copy_field(p.float_data(), t.data<float>(), n, p); break;
        case DType::F64: copy_field(p.double_data(), t.data<double>(), n, p); break;
        case DType::I64: copy_field(p.int64_data(), t.data<int64_t>(), n, p); break;
        case DType::I32: copy_field(p.int32_data(), t.data<int32_t>(), n, p); break;
        case DType::I16: copy_field(p.int32_data(), t.data<int16_t>(), n, p); break;
        case DType::I8: copy_field(p.int32_data(), t.data<int8_t>(), n, p); break;
        case DType::U8: copy_field(p.int32_data(), t.data<uint8_t>(), n, p); break;
        case DType::U16: copy_field(p.int32_data(), t.data<uint16_t>(), n, p); break;
        case DType::Bool: copy_field(p.int32_data(), static_cast<uint8_t*>(t.raw()), n, p); break;
        case DType::F16:
        case DType::BF16: copy_field(p.int32_data(), static_cast<uint16_t*>(t.raw()), n, p); break;
        case DType::U32: copy_field(p.uint64_data(), t.data<uint32_t>(), n, p); break;
        case DType::U64: copy_field(p.uint64_data(), t.data<uint64_t>(), n, p); break;
        default: fail_unsupported(tensor_label(p) + ": data type " + dtype_name(dt) + " is not supported");
    }
    return t;
}

void tensor_to_proto(const Tensor& t, const std::string& name, onnx::TensorProto* p) {
    p->Clear();
    p->set_name(name);
    p->set_data_type(int(t.dtype()));
    for (int64_t d : t.shape()) p->add_dims(d);
    p->set_raw_data(t.raw(), t.nbytes());
}

}  // namespace edgecnn
