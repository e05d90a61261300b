// Limits every fuzz target sets before touching its input, so the fuzzer explores parsing
// and validation instead of spending its time (and the machine's memory) on huge tensors.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "base/tensor.hpp"

namespace edgecnn::fuzz {

// One tensor may hold at most 4 MiB: the engine's own limit (Error(Limit) past it) turns
// "declares a huge tensor" into a clear error instead of an out-of-memory kill.
constexpr int64_t kMaxTensorBytes = int64_t(4) << 20;

inline void set_fuzz_limits() {
    static const bool done = [] {
        set_max_tensor_bytes(kMaxTensorBytes);
        return true;
    }();
    (void)done;
}

// EDGECNN_FUZZ_VERBOSE=1 prints each clean error (to see how far the seeds get when
// replaying a corpus: scripts never set it, fuzzing stays quiet).
inline void note_error(const char* what) {
    static const bool verbose = std::getenv("EDGECNN_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "  error: %s\n", what);
}

}  // namespace edgecnn::fuzz
