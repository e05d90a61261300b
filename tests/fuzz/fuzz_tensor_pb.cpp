// Fuzz target: bytes → ONNX TensorProto (.pb) reader. Anything but a clean edgecnn::Error
// is a bug.
#include <cstdint>

#include "base/error.hpp"
#include "fuzz_limits.hpp"
#include "onnx/tensor_proto.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    edgecnn::fuzz::set_fuzz_limits();
    try {
        std::string name;
        edgecnn::Tensor t = edgecnn::read_tensor_pb_bytes(data, size, "fuzz.pb", &name);
        volatile uint8_t sink = 0;
        const auto* p = static_cast<const uint8_t*>(t.raw());
        for (size_t i = 0; i < t.nbytes(); ++i) sink = uint8_t(sink ^ p[i]);
    } catch (const edgecnn::Error&) {
    }
    return 0;
}
