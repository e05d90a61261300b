// Fuzz target: bytes → .npy reader. Anything but a clean edgecnn::Error is a bug.
#include <cstdint>
#include <cstring>

#include "base/error.hpp"
#include "fuzz_limits.hpp"
#include "io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    edgecnn::fuzz::set_fuzz_limits();
    try {
        edgecnn::Tensor t = edgecnn::read_npy_bytes(data, size, "fuzz.npy");
        // Touch every byte so a tensor claiming more than was read shows up under ASan.
        volatile uint8_t sink = 0;
        const auto* p = static_cast<const uint8_t*>(t.raw());
        for (size_t i = 0; i < t.nbytes(); ++i) sink = uint8_t(sink ^ p[i]);
    } catch (const edgecnn::Error&) {
    }
    return 0;
}
