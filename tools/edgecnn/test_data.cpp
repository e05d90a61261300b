#include "test_data.hpp"

#include <algorithm>
#include <filesystem>

#include "base/error.hpp"
#include "common.hpp"
#include "onnx/tensor_proto.hpp"

namespace edgecnn::cli {

namespace fs = std::filesystem;

std::vector<std::string> find_data_sets(const std::string& dir) {
    if (!fs::is_directory(dir)) throw Error(ErrorKind::Io, dir + ": not a folder");
    if (fs::exists(fs::path(dir) / "input_0.pb") || fs::exists(fs::path(dir) / "output_0.pb")) return {dir};
    std::vector<std::string> sets;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(e.path().string());
    std::sort(sets.begin(), sets.end());
    return sets;
}

TestDataSet read_data_set(const std::string& dir) {
    TestDataSet ds;
    ds.dir = dir;
    for (int k = 0;; ++k) {
        fs::path p = fs::path(dir) / ("input_" + std::to_string(k) + ".pb");
        if (!fs::exists(p)) break;
        std::string name;
        ds.inputs.push_back(read_tensor_pb(p.string(), &name));
        ds.input_names.push_back(name);
    }
    for (int k = 0;; ++k) {
        fs::path p = fs::path(dir) / ("output_" + std::to_string(k) + ".pb");
        if (!fs::exists(p)) break;
        std::string name;
        ds.outputs.push_back(read_tensor_pb(p.string(), &name));
        ds.output_names.push_back(name);
    }
    if (ds.outputs.empty()) fail(dir + ": no output_0.pb reference found");
    return ds;
}

}  // namespace edgecnn::cli
