// Fuzz target: bytes → .ecnn loader → Session (reference and optimized) with bound small
// input shapes → one run on small inputs (fuzz_session.hpp, as the onnx target).
//
// The first byte picks the mode, the rest is the file:
//   bit 0 set: the target rewrites the header's checksums (graph, data, header) to match
//              the bytes before loading, so mutations reach the FlatBuffer verifier, the
//              graph rebuild and the sessions instead of all stopping at a checksum;
//   bit 1 set: the data checksum is not verified (EcnnLoadOptions::verify_checksum false),
//              the path of `--no-verify` loads: tensors must still be checked against the
//              data section's extent.
// With bit 0 clear the bytes load as they are: the checksum checks themselves are fuzzed.
#include <cstdint>
#include <cstring>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "base/error.hpp"
#include "format/ecnn.hpp"
#include "fuzz_limits.hpp"
#include "fuzz_session.hpp"

namespace {

uint64_t read_u64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);  // the format is little-endian, as is every host we build on
    return v;
}
void write_u64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }

// Header offsets (src/format/ecnn.hpp): graph offset 16, graph size 24, data offset 32,
// data size 40, graph hash 48, data hash 56, header hash 120 over bytes [0, 120).
void fix_checksums(std::vector<uint8_t>& f) {
    if (f.size() < edgecnn::kEcnnHeaderSize) return;
    auto section_hash = [&](size_t off_at, size_t hash_at) {
        uint64_t off = read_u64(&f[off_at]), n = read_u64(&f[off_at + 8]);
        if (off <= f.size() && n <= f.size() - off) write_u64(&f[hash_at], XXH3_64bits(f.data() + off, n));
    };
    section_hash(16, 48);
    section_hash(32, 56);
    write_u64(&f[120], XXH3_64bits(f.data(), 120));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace edgecnn;
    fuzz::set_fuzz_limits();
    if (size < 1) return 0;
    const uint8_t mode = data[0];
    std::vector<uint8_t> file(data + 1, data + size);
    if (mode & 1) fix_checksums(file);
    EcnnLoadOptions options;
    options.verify_checksum = (mode & 2) == 0;
    EcnnModel model;
    try {
        model = load_ecnn_bytes(file.data(), file.size(), "fuzz.ecnn", options);
    } catch (const Error& e) {
        fuzz::note_error(e.what());
        return 0;
    }
    fuzz::run_small(model.graph, data, size, "fuzz_ecnn");
    return 0;
}
