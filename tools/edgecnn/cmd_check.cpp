#include <cmath>
#include <cstdio>

#include "base/error.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "test_data.hpp"

namespace edgecnn::cli {

int cmd_check(const CheckArgs& a) {
    auto graph = load_model(a.model);
    const Graph& g = *graph;
    auto sets = find_data_sets(a.data_dir);
    if (sets.empty()) fail(a.data_dir + ": no input_K.pb/output_K.pb files or test_data_set_* folders");
    Session session(graph);
    bool all_ok = true;
    for (const auto& dir : sets) {
        TestDataSet ds = read_data_set(dir);
        if (ds.inputs.size() != g.inputs.size())
            fail(dir + ": has " + std::to_string(ds.inputs.size()) + " inputs, the model needs " +
                 std::to_string(g.inputs.size()));
        NamedTensors inputs;
        for (size_t k = 0; k < g.inputs.size(); ++k) inputs.emplace_back(g.value(g.inputs[k]).name, ds.inputs[k]);
        NamedTensors outputs = session.run(inputs);
        if (outputs.size() != ds.outputs.size())
            fail(dir + ": has " + std::to_string(ds.outputs.size()) + " reference outputs, the model gives " +
                 std::to_string(outputs.size()));
        std::printf("%s\n", dir.c_str());
        for (size_t k = 0; k < outputs.size(); ++k) {
            const Tensor& out = outputs[k].second;
            const Tensor& ref = ds.outputs[k];
            if (out.shape() != ref.shape()) {
                std::printf("  %-24s FAIL shape %s, reference %s\n", outputs[k].first.c_str(), shape_str(out.shape()).c_str(),
                            shape_str(ref.shape()).c_str());
                all_ok = false;
                continue;
            }
            std::vector<double> o = out.to_f64(), r = ref.to_f64();
            double max_abs = 0, max_rel = 0, ref_max = 0;
            bool nan_mismatch = false;
            for (size_t i = 0; i < o.size(); ++i) {
                if (std::isnan(o[i]) != std::isnan(r[i])) nan_mismatch = true;
                if (std::isnan(r[i])) continue;
                double d = std::fabs(o[i] - r[i]);
                if (std::isnan(d)) d = INFINITY;
                max_abs = std::max(max_abs, d);
                max_rel = std::max(max_rel, d / std::max(std::fabs(r[i]), 1e-12));
                ref_max = std::max(ref_max, std::fabs(r[i]));
            }
            double limit = a.atol * std::max(1.0, ref_max);
            if (a.range_tol > 0) {  // relative to the output's range instead (reduced-precision weights)
                double lo = INFINITY, hi = -INFINITY;
                for (double v : r)
                    if (!std::isnan(v)) lo = std::min(lo, v), hi = std::max(hi, v);
                limit = a.range_tol * (hi > lo ? hi - lo : 1.0);
            }
            bool ok = !nan_mismatch && max_abs <= limit;
            all_ok = all_ok && ok;
            std::printf("  %-24s %s  max_abs_err %.3g  max_rel_err %.3g  (limit %.3g, max|ref| %.4g)\n",
                        outputs[k].first.c_str(), ok ? "ok  " : "FAIL", max_abs, max_rel, limit, ref_max);
        }
    }
    std::printf("%s\n", all_ok ? "PASS" : "FAIL");
    return all_ok ? 0 : 1;
}

}  // namespace edgecnn::cli
