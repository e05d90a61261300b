#include "io/idx.hpp"

#include <zlib.h>

#include <cstring>

#include "base/error.hpp"

namespace edgecnn {

namespace {
// Reads the whole (possibly gzip-compressed) file; gzread passes plain files through.
std::string read_all(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) throw Error(ErrorKind::Io, path + ": cannot open file");
    std::string out;
    char buf[1 << 16];
    int n;
    while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, size_t(n));
    bool bad = n < 0;
    gzclose(f);
    if (bad) throw Error(ErrorKind::Io, path + ": corrupt gzip data");
    return out;
}
}  // namespace

Tensor read_idx_u8(const std::string& path) {
    std::string bytes = read_all(path);
    if (bytes.size() < 4) fail(path + ": too short for an IDX file");
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    if (p[0] != 0 || p[1] != 0) fail(path + ": not an IDX file (bad magic)");
    if (p[2] != 0x08) fail_unsupported(path + ": only unsigned-byte IDX files are supported");
    int rank = p[3];
    if (rank < 1 || rank > 4) fail(path + ": IDX rank " + std::to_string(rank) + " is not supported");
    if (bytes.size() < size_t(4 + 4 * rank)) fail(path + ": truncated IDX header");
    Shape shape;
    for (int i = 0; i < rank; ++i) {
        const unsigned char* d = p + 4 + 4 * i;
        shape.push_back((int64_t(d[0]) << 24) | (int64_t(d[1]) << 16) | (int64_t(d[2]) << 8) | int64_t(d[3]));
    }
    size_t header = size_t(4 + 4 * rank);
    int64_t n = shape_numel(shape);
    if (int64_t(bytes.size() - header) < n) fail(path + ": IDX data is shorter than its dims " + shape_str(shape));
    Tensor t(DType::U8, shape);
    std::memcpy(t.raw(), p + header, size_t(n));
    return t;
}

}  // namespace edgecnn
