#include "onnx/tensor_proto.hpp"

#include <cstdint>
#include <fstream>
#include <sstream>

#include "base/error.hpp"
#include "onnx/onnx_tensor.hpp"

namespace edgecnn {

Tensor read_tensor_pb(const std::string& path, std::string* name) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::Io, path + ": cannot open file");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string bytes = ss.str();
    return read_tensor_pb_bytes(bytes.data(), bytes.size(), path, name);
}

Tensor read_tensor_pb_bytes(const void* data, size_t size, const std::string& path, std::string* name) {
    onnx::TensorProto p;
    if (size == 0 || size > size_t(INT32_MAX) || !p.ParseFromArray(data, int(size)))
        fail(path + ": not a valid ONNX TensorProto file");
    try {
        Tensor t = tensor_from_proto(p, "");
        if (name) *name = p.name();
        return t;
    } catch (const Error& e) {
        throw e.with_prefix(path + ": ");
    }
}

void write_tensor_pb(const std::string& path, const Tensor& t, const std::string& name) {
    onnx::TensorProto p;
    tensor_to_proto(t, name, &p);
    std::ofstream out(path, std::ios::binary);
    if (!out || !p.SerializeToOstream(&out)) throw Error(ErrorKind::Io, path + ": cannot write file");
}

}  // namespace edgecnn
