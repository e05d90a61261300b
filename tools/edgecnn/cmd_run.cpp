#include <cstdio>
#include <filesystem>

#include "base/error.hpp"
#include "commands.hpp"
#include "common.hpp"

namespace edgecnn::cli {

int cmd_run(const RunArgs& a) {
    auto graph = load_model(a.model);
    const Graph& g = *graph;
    NamedTensors inputs;
    std::string ext = "npy";
    size_t positional = 0;
    for (const auto& spec : a.inputs) {
        std::string name, file;
        auto eq = spec.find('=');
        if (eq != std::string::npos && g.find(spec.substr(0, eq)) != kNoValue) {
            name = spec.substr(0, eq);
            file = spec.substr(eq + 1);
        } else {
            if (positional >= g.inputs.size())
                fail("more inputs given than the model has (" + std::to_string(g.inputs.size()) + ")");
            name = g.value(g.inputs[positional++]).name;
            file = spec;
        }
        if (file.size() > 3 && file.substr(file.size() - 3) == ".pb") ext = "pb";
        inputs.emplace_back(name, read_tensor_file(file));
    }
    SessionOptions opts;
    if (a.dump_all) {
        // Every value of the model as imported (NCHW, unfused) so dumps compare 1:1 with
        // another engine's: the reference interpreter, not the optimized plan.
        opts.optimization_level = 0;
        if (a.out_dir.empty()) fail("--dump-all needs --out DIR");
        std::string dump_dir = (std::filesystem::path(a.out_dir) / "intermediates").string();
        opts.on_node_output = [dump_dir, ext](const Node&, const std::vector<std::pair<std::string, const Tensor*>>& outs) {
            for (const auto& [name, t] : outs)
                if (t && !t->empty()) write_tensor_file(dump_dir, name, *t, ext);
        };
    }
    Session session(graph, opts);
    NamedTensors outputs = session.run(inputs);
    for (const auto& [name, t] : outputs) {
        std::printf("%s: %s\n", name.c_str(), summarize(t).c_str());
        if (!a.out_dir.empty()) write_tensor_file(a.out_dir, name, t, ext);
    }
    if (!a.out_dir.empty()) std::printf("outputs written to %s\n", a.out_dir.c_str());
    return 0;
}

}  // namespace edgecnn::cli
