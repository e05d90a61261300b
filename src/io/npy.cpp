#include "io/npy.hpp"

#include <cstring>
#include <fstream>
#include <sstream>

#include "base/error.hpp"

namespace edgecnn {

namespace {

struct Descr {
    const char* code;
    DType dtype;
};
constexpr Descr kDescrs[] = {
    {"<f4", DType::F32}, {"<f8", DType::F64}, {"<f2", DType::F16}, {"<i8", DType::I64}, {"<i4", DType::I32},
    {"<i2", DType::I16}, {"|i1", DType::I8},  {"|u1", DType::U8},  {"<u2", DType::U16}, {"<u4", DType::U32},
    {"<u8", DType::U64}, {"|b1", DType::Bool},
};

// Value of `key` in the header dict, e.g. 'descr': '<f4' → "'<f4'".
std::string dict_value(const std::string& header, const std::string& key, const std::string& path) {
    auto k = header.find("'" + key + "'");
    if (k == std::string::npos) fail(path + ": .npy header has no '" + key + "'");
    auto colon = header.find(':', k);
    if (colon == std::string::npos) fail(path + ": malformed .npy header");
    size_t b = colon + 1;
    while (b < header.size() && header[b] == ' ') ++b;
    size_t e = b;
    if (b < header.size() && header[b] == '(') {
        e = header.find(')', b);
        if (e == std::string::npos) fail(path + ": malformed .npy shape");
        return header.substr(b, e - b + 1);
    }
    while (e < header.size() && header[e] != ',' && header[e] != '}') ++e;
    return header.substr(b, e - b);
}

}  // namespace

Tensor read_npy(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::Io, path + ": cannot open file");
    return read_npy(in, path);
}

Tensor read_npy_bytes(const void* data, size_t size, const std::string& name) {
    std::istringstream in(std::string(static_cast<const char*>(data), size), std::ios::binary);
    return read_npy(in, name);
}

Tensor read_npy(std::istream& in, const std::string& path) {
    char magic[8];
    if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) fail(path + ": not a .npy file");
    uint32_t header_len = 0;
    if (magic[6] == 1) {
        unsigned char b[2];
        if (!in.read(reinterpret_cast<char*>(b), 2)) fail(path + ": truncated .npy header");
        header_len = b[0] | (b[1] << 8);
    } else if (magic[6] == 2 || magic[6] == 3) {
        unsigned char b[4];
        if (!in.read(reinterpret_cast<char*>(b), 4)) fail(path + ": truncated .npy header");
        header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
        if (header_len > (1u << 20)) fail(path + ": .npy header is too large");
    } else {
        fail(path + ": unsupported .npy version " + std::to_string(int(magic[6])));
    }
    std::string header(header_len, '\0');
    if (!in.read(header.data(), header_len)) fail(path + ": truncated .npy header");
    std::string descr = dict_value(header, "descr", path);
    std::string fortran = dict_value(header, "fortran_order", path);
    std::string shape_s = dict_value(header, "shape", path);
    if (fortran.find("True") != std::string::npos) fail_unsupported(path + ": Fortran-order .npy arrays are not supported");
    DType dt = DType::Undefined;
    for (const auto& d : kDescrs)
        if (descr.find(d.code) != std::string::npos) dt = d.dtype;
    if (dt == DType::Undefined) fail_unsupported(path + ": .npy dtype " + descr + " is not supported");
    Shape shape;
    std::string num;
    for (char c : shape_s) {
        if (c >= '0' && c <= '9') {
            num += c;
        } else if (!num.empty()) {
            if (num.size() > 18) fail(path + ": .npy dimension is too large");
            shape.push_back(std::stoll(num));
            num.clear();
        }
    }
    int64_t n = shape_numel(shape);
    auto pos = in.tellg();
    in.seekg(0, std::ios::end);
    int64_t remaining = int64_t(in.tellg() - pos);
    in.seekg(pos);
    if (n > remaining / int64_t(dtype_size(dt)) || n * int64_t(dtype_size(dt)) > remaining)
        fail(path + ": .npy data is shorter than its shape " + shape_str(shape) + " needs");
    Tensor t(dt, shape);
    if (!in.read(static_cast<char*>(t.raw()), std::streamsize(t.nbytes()))) fail(path + ": truncated .npy data");
    return t;
}

void write_npy(const std::string& path, const Tensor& t) {
    const char* code = nullptr;
    for (const auto& d : kDescrs)
        if (d.dtype == t.dtype()) code = d.code;
    if (!code) fail_unsupported(path + ": cannot write " + dtype_name(t.dtype()) + " to .npy");
    std::string shape = "(";
    for (size_t i = 0; i < t.rank(); ++i) shape += std::to_string(t.dim(i)) + (t.rank() == 1 || i + 1 < t.rank() ? "," : "");
    shape += ")";
    std::string header = std::string("{'descr': '") + code + "', 'fortran_order': False, 'shape': " + shape + ", }";
    size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
    std::ofstream out(path, std::ios::binary);
    if (!out) throw Error(ErrorKind::Io, path + ": cannot write file");
    out.write("\x93NUMPY\x01\x00", 8);
    uint16_t hl = uint16_t(header.size());
    char hlb[2] = {char(hl & 0xff), char(hl >> 8)};
    out.write(hlb, 2);
    out.write(header.data(), std::streamsize(header.size()));
    out.write(static_cast<const char*>(t.raw()), std::streamsize(t.nbytes()));
    if (!out) throw Error(ErrorKind::Io, path + ": write failed");
}

}  // namespace edgecnn
