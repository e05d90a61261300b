// Fuzz target: bytes → ONNX import → Session (reference and optimized) with bound small
// input shapes → one run on pseudo-random inputs derived from the bytes (fuzz_session.hpp).
// Anything but a clean edgecnn::Error (crash, sanitizer report, other exception, hang) is a bug.
#include <cstdint>
#include <memory>

#include "base/error.hpp"
#include "fuzz_limits.hpp"
#include "fuzz_session.hpp"
#include "onnx/importer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace edgecnn;
    fuzz::set_fuzz_limits();
    std::shared_ptr<Graph> graph;
    try {
        graph = import_onnx_bytes(data, size, "fuzz.onnx");  // no folder: external data refused
    } catch (const Error&) {
        return 0;
    }
    fuzz::run_small(graph, data, size, "fuzz_onnx");
    return 0;
}
