// ONNX backend-test folders: test_data_set_N/{input_K.pb, output_K.pb}.
#pragma once
#include <string>
#include <vector>

#include "base/tensor.hpp"

namespace edgecnn::cli {

struct TestDataSet {
    std::string dir;
    std::vector<Tensor> inputs, outputs;
    std::vector<std::string> input_names, output_names;  // as stored in the files (may be empty)
};

// `dir` is either a data set itself (holds input_0.pb) or holds test_data_set_* folders.
std::vector<std::string> find_data_sets(const std::string& dir);
TestDataSet read_data_set(const std::string& dir);

}  // namespace edgecnn::cli
