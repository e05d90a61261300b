// Task heads: what turns a model's outputs on one photo into answers (printed lines) and a
// picture (an overlay). `run --task NAME`, `stream --task NAME` and the quickstart use them.
//
// Adding a task (e.g. detect-blazeface in tools/edgecnn/task_detect.cpp):
//
//   namespace edgecnn::cli {
//   namespace {
//   class BlazeFaceTask : public Task {
//   public:
//       explicit BlazeFaceTask(const TaskOptions& o) : threshold_(o.threshold_or(0.75f)) {}
//       TaskResult process(const TaskFrame& f) override {
//           // f.outputs: the session's outputs; f.geometry maps tensor pixels to f.image.
//           TaskResult r;
//           r.lines.push_back("face 0.93 box 150,40 - 230,140");
//           r.overlay = f.image;  // copy, draw on it (vision/draw.hpp)
//           return r;
//       }
//   private:
//       float threshold_;
//   };
//   }  // namespace
//   EDGECNN_REGISTER_TASK(blazeface, {"detect-blazeface", "BlazeFace: anchors + NMS",
//       [](const TaskOptions& o) { return std::make_unique<BlazeFaceTask>(o); },
//       [](vision::Preprocess& p) { p.scale = 1.f / 127.5f; p.mean = {1.f, 1.f, 1.f}; }});
//   }  // namespace edgecnn::cli
//
// No other file changes: registration happens when the CLI's object files are linked.
// A Task object lives for a whole run or stream (it may hold sessions for second-stage
// models, e.g. ocr's recognizer); process() is called once per frame, from one thread at
// a time.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/session.hpp"
#include "vision/image.hpp"
#include "vision/preprocess.hpp"

namespace edgecnn::cli {

struct TaskOptions {
    std::string task;
    std::string model;          // the main model's path
    std::string class_names;    // --class-names or the sidecar's "class_names" ("" = none)
    std::vector<std::string> class_name_list;  // an .ecnn file's, used when class_names is ""

    int top_k = 5;
    float threshold = -1.f;     // < 0: not given
    float iou_threshold = -1.f; // < 0: not given
    std::string rec_model, cls_model;
    int threads = 1;            // for sessions a task creates
    std::map<std::string, std::string> params;  // --task-opt KEY=VALUE
    float threshold_or(float d) const { return threshold >= 0 ? threshold : d; }
    float iou_or(float d) const { return iou_threshold >= 0 ? iou_threshold : d; }
    std::string param_or(const std::string& key, const std::string& d) const {
        auto it = params.find(key);
        return it == params.end() ? d : it->second;
    }
};

// One photo through the model.
struct TaskFrame {
    const vision::Image& image;             // the photo as decoded (1, 3 or 4 channels)
    const vision::Geometry& geometry;       // tensor pixels ↔ photo pixels
    const vision::Preprocess& preprocess;   // how the input tensor was made
    vision::Layout input_layout;            // of the image input
    const Graph& graph;
    const NamedTensors& outputs;            // the session's outputs, in graph order
    const std::string& image_name;          // the photo's file name (for messages)
};

struct TaskResult {
    std::vector<std::string> lines;  // printed one per line, in order
    vision::Image overlay;           // the picture to write (empty: none)
};

class Task {
public:
    virtual ~Task() = default;
    virtual TaskResult process(const TaskFrame& frame) = 0;
    // Called once before the session is made: a task may rewrite the model's head so that
    // the engine computes (and fuses) what it would otherwise do after inference, e.g. the
    // segment task appends the per-pixel ArgMax. process() then sees the changed outputs.
    // `input` / `input_shape`: the image input and the shape of the tensors it will get.
    virtual void adapt_graph(Graph&, const std::string& /*input*/, const Shape& /*input_shape*/) {}
};

struct TaskInfo {
    std::string name;  // what --task takes
    std::string help;
    std::function<std::unique_ptr<Task>(const TaskOptions&)> make;
    // Default preprocessing for this task's models, applied before the sidecar and the flags
    // (may be empty).
    std::function<void(vision::Preprocess&)> preprocess_defaults;
};

// Adds a task to the table (duplicate names abort at start-up: a programming error).
bool register_task(TaskInfo info);
const TaskInfo* find_task(const std::string& name);
std::vector<std::string> task_names();
// Creates the task or throws Error(Invalid) listing the known names.
std::unique_ptr<Task> make_task(const TaskOptions& options);

// Helpers for task implementations.
// The output called `name`, or the first output when `name` is empty; throws naming the model.
const Tensor& task_output(const TaskFrame& f, const std::string& name);
// The photo as RGB (grey replicated, alpha dropped) for drawing in colour.
vision::Image rgb_copy(const vision::Image& img);

#define EDGECNN_REGISTER_TASK(ident, ...) \
    [[maybe_unused]] static const bool edgecnn_task_registered_##ident = ::edgecnn::cli::register_task(TaskInfo __VA_ARGS__)

}  // namespace edgecnn::cli
