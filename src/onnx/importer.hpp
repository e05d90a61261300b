// ONNX ModelProto → edgecnn Graph. Supports IR version 3+, default-domain opsets 7..21,
// initializers (inline and external-data files), Constant nodes and graph value infos.
// Anything malformed throws Error naming the file and the node or tensor at fault.
#pragma once
#include <memory>
#include <string>

#include "ir/graph.hpp"

namespace edgecnn {

struct ImportOptions {
    // Folder external-data paths are resolved against (default: the model file's folder).
    std::string external_data_dir;
};

std::shared_ptr<Graph> import_onnx_file(const std::string& path, const ImportOptions& options = {});
// `name` is used in messages; external data is resolved against options.external_data_dir.
std::shared_ptr<Graph> import_onnx_bytes(const void* data, size_t size, const std::string& name,
                                         const ImportOptions& options = {});

}  // namespace edgecnn
