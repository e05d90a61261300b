#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "base/error.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "image_inputs.hpp"
#include "tasks.hpp"

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
    // --image / --nv12: the model's image input from a photo or camera frame.
    // The sidecar's default task applies to photos only; tensor inputs print raw outputs.
    const std::string task_name = a.image.given() ? resolve_task_name(g, a.model, a.image, a.task.task) : a.task.task;
    if (!task_name.empty() && !a.image.given())
        fail("--task " + task_name + " needs a photo: give --image FILE (or --nv12 FILE --frame-size WxH)");
    std::optional<ImagePipeline> pipe;
    PreparedImage photo;
    if (a.image.given()) {
        pipe = make_image_pipeline(g, a.model, a.image, task_name);
        for (const auto& [name, t] : inputs)
            if (name == pipe->input_name) fail("input '" + name + "' is given twice: by --input and by the image");
        photo = prepare_image(*pipe, a.image);
        std::printf("image: %s %dx%dx%d -> input '%s' %s (%s)\n", photo.source.c_str(), photo.image.width,
                    photo.image.height, photo.image.channels, pipe->input_name.c_str(),
                    shape_str(photo.tensor.tensor.shape()).c_str(), vision::describe(pipe->preprocess).c_str());
        inputs.emplace_back(pipe->input_name, photo.tensor.tensor);
    }
    std::unique_ptr<Task> task;
    if (!task_name.empty()) task = make_task(make_task_options(a.task, task_name, *pipe, 1));
    if (task && !a.dump_all) task->adapt_graph(*graph, pipe->input_name, photo.tensor.tensor.shape());
    SessionOptions opts;
    opts.fpmath = parse_fpmath(a.fpmath);
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
    using Clock = std::chrono::steady_clock;
    auto ms_since = [](Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); };
    auto t0 = Clock::now();
    NamedTensors outputs = session.run(inputs);
    const double first_ms = ms_since(t0);
    if (!task) {
        for (const auto& [name, t] : outputs) {
            std::printf("%s: %s\n", name.c_str(), summarize(t).c_str());
            if (!a.out_dir.empty()) write_tensor_file(a.out_dir, name, t, ext);
        }
        if (!a.out_dir.empty()) std::printf("outputs written to %s\n", a.out_dir.c_str());
        if (pipe) std::printf("latency: decode %.2f ms, preprocess %.2f ms, inference %.2f ms (first run: compiles the plan)\n",
                              photo.decode_ms, photo.preprocess_ms, first_ms);
        return 0;
    }
    // A task: the steady-state latency is the second run (the first compiles the plan).
    t0 = Clock::now();
    outputs = session.run(inputs);
    const double infer_ms = ms_since(t0);
    t0 = Clock::now();
    TaskFrame frame{photo.image, photo.tensor.geometry, pipe->preprocess, pipe->layout.layout, g, outputs, photo.source};
    TaskResult result = task->process(frame);
    const double post_ms = ms_since(t0);
    std::printf("task %s:\n", task_name.c_str());
    for (const auto& line : result.lines) std::printf("  %s\n", line.c_str());
    std::printf("latency: decode %.2f ms, preprocess %.2f ms, inference %.2f ms (first run %.2f ms), post-process %.2f ms, "
                "total %.2f ms\n",
                photo.decode_ms, photo.preprocess_ms, infer_ms, first_ms, post_ms,
                photo.decode_ms + photo.preprocess_ms + infer_ms + post_ms);
    if (!a.out_dir.empty() && !result.overlay.empty()) {
        std::filesystem::create_directories(a.out_dir);
        std::string stem = std::filesystem::path(photo.source).stem().string();
        std::string path = (std::filesystem::path(a.out_dir) / (stem + "_" + task_name + ".png")).string();
        vision::write_png(path, result.overlay);
        std::printf("picture: %s\n", path.c_str());
    }
    return 0;
}

}  // namespace edgecnn::cli
