// .ecnn: the deployable model file (issue 5). One file, memory-mappable, weights used in
// place. Layout (all integers little-endian):
//
//   0    header, 128 bytes: magic "ECNN", u16 major, u16 minor, u32 header size, u32 flags,
//        u64 graph offset, u64 graph size, u64 data offset, u64 data size,
//        u64 XXH3-64 of the graph section, u64 XXH3-64 of the data section,
//        zero padding, and at byte 120 the XXH3-64 of bytes [0, 120)
//   128  graph section: a FlatBuffer (src/format/ecnn.fbs, identifier "ECNG"): values,
//        nodes, attributes, inputs/outputs with dynamic dims, metadata, class names,
//        target (weights pre-packed for a target are node attributes, see OpAttrs::prepacked)
//   ...  data section, 64-byte aligned: every tensor's bytes, each at a 64-byte-aligned
//        offset (16 for tensors under 64 bytes), so weights stay aligned in a memory map
//
// A reader accepts the same major version and any minor version (minor versions only
// append FlatBuffer fields). The header and graph checksums are always verified, the
// data checksum unless EcnnLoadOptions::verify_checksum is false.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.hpp"

namespace edgecnn {

constexpr uint16_t kEcnnVersionMajor = 1;
constexpr uint16_t kEcnnVersionMinor = 0;
constexpr size_t kEcnnHeaderSize = 128;

struct EcnnInfo {
    uint16_t version_major = 0, version_minor = 0;
    bool fp16_weights = false;
    std::string target;     // "portable", "x86-avx2", "x86-avx512", "arm64"
    std::string converter;  // tool and version that wrote the file
    int64_t file_bytes = 0;
};

struct EcnnModel {
    std::shared_ptr<Graph> graph;  // metadata["preprocess"], metadata["class_names"] set
    EcnnInfo info;
};

struct EcnnLoadOptions {
    bool verify_checksum = true;  // hash the data section (weights) and compare
};

// Memory-maps `path` (private, copy-on-write) and reads it; weights stay in the map.
EcnnModel load_ecnn_file(const std::string& path, const EcnnLoadOptions& options = {});
// Reads a file image held in memory (copied once into aligned storage). The single entry
// point for fuzzing: any bytes give a model or an Error, never a crash.
EcnnModel load_ecnn_bytes(const void* data, size_t size, const std::string& name = "<memory>",
                          const EcnnLoadOptions& options = {});
// As load_ecnn_bytes, without the copy: `data` must be 64-byte aligned and `owner` keeps
// it alive as long as the model (tensors point into it).
EcnnModel load_ecnn_view(const void* data, size_t size, std::shared_ptr<void> owner, const std::string& name,
                         const EcnnLoadOptions& options = {});
// True when the first bytes of the file are the .ecnn magic.
bool is_ecnn_file(const std::string& path);

struct EcnnWriteOptions {
    bool fp16_weights = false;        // float32 tensors stored as float16
    std::string target = "portable";  // non-portable files load only on that CPU family
    std::string preprocess;           // opaque JSON
    std::vector<std::string> class_names;
    std::string converter = "edgecnn";
};

std::vector<uint8_t> serialize_ecnn(const Graph& g, const EcnnWriteOptions& options);
void write_ecnn_file(const std::string& path, const Graph& g, const EcnnWriteOptions& options);

// The ISA a target needs ("x86-avx512" → avx512); throws Unsupported when the running CPU
// (or EDGECNN_ISA) lacks it. "portable" needs nothing.
void check_ecnn_target(const std::string& target, const std::string& file);

}  // namespace edgecnn
