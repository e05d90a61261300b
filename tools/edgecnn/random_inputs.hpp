// Random model inputs for timing and profiling: declared dtypes, dynamic dims bound from
// --input-shape (a dynamic leading dim defaults to 1).
#pragma once
#include <map>
#include <random>
#include <string>
#include <vector>

#include "runtime/session.hpp"

namespace edgecnn::cli {

bool has_input(const Graph& g, const std::string& name);
std::map<std::string, Shape> parse_input_shapes(const std::vector<std::string>& specs);
NamedTensors make_random_inputs(const Graph& g, const std::string& model, const std::map<std::string, Shape>& given,
                                std::mt19937& rng);

}  // namespace edgecnn::cli
