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
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.hpp"

namespace edgecnn {

constexpr uint16_t kEcnnVersionMajor = 1;
constexpr uint16_t kEcnnVersionMinor = 1;  // 1.1: int16 weights (TensorRef.scales), float16 ones 16-byte aligned
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
    // Under fp16_weights, which constants (value names) go to float16: when set, exactly
    // these (those that fp16_storable() accepts; `convert` picks them by measuring the
    // output error, see cmd_convert.cpp); unset, every storable weight matrix or filter
    // (rank >= 2) while biases and other vectors stay float32.
    std::optional<std::set<std::string>> fp16_values;
    // Under fp16_weights, constants stored instead as int16 with one float scale per slice
    // of the first dim (16 bits too, 2^-15 of each output channel's largest magnitude).
    std::set<std::string> int16_values;
    std::string target = "portable";  // non-portable files load only on that CPU family
    std::string preprocess;           // opaque JSON
    std::vector<std::string> class_names;
    std::string converter = "edgecnn";
};

// Whether a float32 tensor can be stored as float16 without leaving its range: finite,
// within +-65504, and every element rounds within float16's precision relative to the
// tensor's largest magnitude (a tensor of tiny values, subnormal in float16, stays float32).
bool fp16_storable(const Tensor& t);

std::vector<uint8_t> serialize_ecnn(const Graph& g, const EcnnWriteOptions& options);
void write_ecnn_file(const std::string& path, const Graph& g, const EcnnWriteOptions& options);

// The ISA a target needs ("x86-avx512" → avx512); throws Unsupported when the running CPU
// (or EDGECNN_ISA) lacks it. "portable" needs nothing.
void check_ecnn_target(const std::string& target, const std::string& file);

}  // namespace edgecnn
