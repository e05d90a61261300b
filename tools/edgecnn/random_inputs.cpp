#include "random_inputs.hpp"

#include "base/error.hpp"
#include "common.hpp"

namespace edgecnn::cli {

bool has_input(const Graph& g, const std::string& name) {
    for (ValueId id : g.inputs)
        if (g.value(id).name == name) return true;
    return false;
}

namespace {
std::string dim_name(const Dim& d) { return d.param.empty() ? "?" : "'" + d.param + "'"; }

}  // namespace

std::map<std::string, Shape> parse_input_shapes(const std::vector<std::string>& specs) {
    std::map<std::string, Shape> given;
    for (const auto& s : specs) {
        auto eq = s.find('=');
        if (eq == std::string::npos || eq == 0) fail("--input-shape wants NAME=1x3x224x224, got '" + s + "'");
        given[s.substr(0, eq)] = parse_shape(s.substr(eq + 1));
    }
    return given;
}

// One random input per graph input, with the declared dtype and a fully bound shape.
NamedTensors make_random_inputs(const Graph& g, const std::string& model, const std::map<std::string, Shape>& given,
                                std::mt19937& rng) {
    for (const auto& [name, shape] : given) {
        if (!has_input(g, name)) {
            std::string names;
            for (ValueId id : g.inputs) names += (names.empty() ? "" : ", ") + g.value(id).name;
            fail(model + ": --input-shape names '" + name + "', but the model's inputs are: " + names);
        }
    }
    NamedTensors inputs;
    for (ValueId id : g.inputs) {
        const Value& v = g.value(id);
        Shape s;
        auto it = given.find(v.name);
        if (it != given.end()) {
            s = it->second;
            if (v.shape) {
                if (v.shape->size() != s.size())
                    fail(model + ": input '" + v.name + "' has rank " + std::to_string(v.shape->size()) +
                         ", --input-shape gives " + shape_str(s));
                for (size_t i = 0; i < s.size(); ++i) {
                    const Dim& d = (*v.shape)[i];
                    if (d.is_static() && d.value != s[i])
                        fail(model + ": input '" + v.name + "' has dim " + std::to_string(i) + " fixed at " +
                             std::to_string(d.value) + ", --input-shape gives " + shape_str(s));
                }
            }
        } else if (v.shape) {
            for (size_t i = 0; i < v.shape->size(); ++i) {
                const Dim& d = (*v.shape)[i];
                if (d.is_static()) {
                    s.push_back(d.value);
                } else if (i == 0) {
                    s.push_back(1);  // a dynamic leading dim is the batch
                } else {
                    fail(model + ": input '" + v.name + "' has a dynamic dim " + dim_name(d) + " at axis " +
                         std::to_string(i) + "; give its shape with --input-shape " + v.name + "=...");
                }
            }
        } else {
            fail(model + ": input '" + v.name + "' declares no shape; give it with --input-shape " + v.name + "=...");
        }
        if (dtype_size(v.dtype) == 0) fail(model + ": input '" + v.name + "' has dtype " + dtype_name(v.dtype) +
                                           ", which bench cannot generate");
        Tensor t(v.dtype, s);  // zero-initialised
        if (v.dtype == DType::F32) {
            std::uniform_real_distribution<float> u(0.f, 1.f);
            float* p = t.data<float>();
            for (int64_t k = 0; k < t.numel(); ++k) p[k] = u(rng);
        } else if (v.dtype == DType::F64) {
            std::uniform_real_distribution<double> u(0.0, 1.0);
            double* p = t.data<double>();
            for (int64_t k = 0; k < t.numel(); ++k) p[k] = u(rng);
        } else if (v.dtype == DType::F16 || v.dtype == DType::BF16) {
            std::uniform_real_distribution<float> u(0.f, 1.f);
            auto* p = static_cast<uint16_t*>(t.raw());
            for (int64_t k = 0; k < t.numel(); ++k)
                p[k] = v.dtype == DType::F16 ? float_to_half(u(rng)) : float_to_bf16(u(rng));
        }
        inputs.emplace_back(v.name, std::move(t));
    }
    return inputs;
}

}  // namespace edgecnn::cli
