// Photos and camera frames as model inputs: finds the model's image input, resolves the
// preprocessing (defaults < the task's defaults < sidecar < flags) and builds the tensor.
#pragma once
#include <map>
#include <random>
#include <string>

#include "runtime/session.hpp"
#include "vision/image.hpp"
#include "vision/preprocess.hpp"
#include "vision_args.hpp"

namespace edgecnn::cli {

struct ImagePipeline {
    std::string model;
    std::string input_name;
    Shape input_shape;  // as declared; -1 for dynamic dims
    vision::InputLayout layout;
    vision::Preprocess preprocess;
    std::string sidecar;  // the sidecar read ("" = none)
    std::vector<std::string> class_names;  // carried by an .ecnn file (empty: none)
};

// The preprocessing for `model`: defaults < the task's (sidecar "task") < the JSON a .ecnn
// file carries (when `g` is given) < sidecar < flags. `sidecar` receives the sidecar's path
// ("" = none).
vision::Preprocess resolve_preprocess(const std::string& model, const ImageArgs& a, const std::string& task,
                                      std::string* sidecar = nullptr, const Graph* g = nullptr);

// `task` may be empty; when it is, the sidecar's "task" (if any) is used for the defaults.
// Throws naming the model when it has no single image-like input (listing the inputs and
// suggesting --image-input or --nhwc/--nchw).
ImagePipeline make_image_pipeline(const Graph& g, const std::string& model, const ImageArgs& a, const std::string& task);

struct PreparedImage {
    std::string source;  // file name
    vision::Image image;           // the photo (for NV12: converted to RGB, full size)
    vision::TensorImage tensor;    // input tensor + geometry
    double decode_ms = 0, preprocess_ms = 0;
};
// Reads --image (or --nv12/--nv21 with --frame-size) and preprocesses it.
PreparedImage prepare_image(const ImagePipeline& p, const ImageArgs& a);
// The same for a photo already decoded (stream).
vision::TensorImage preprocess_image(const ImagePipeline& p, const vision::Image& img, ThreadPool* pool = nullptr);

// Random inputs for bench/profile with the image input (when --image/--nv12 is given)
// taken from the photo; `given` holds the --input-shape bindings.
NamedTensors inputs_with_image(const Graph& g, const std::string& model, const ImageArgs& a,
                               std::map<std::string, Shape> given, std::mt19937& rng);

// The resolved task name: --task, else the sidecar's "task", else "" (callers apply the
// sidecar's default only when a photo or frame is the input).
std::string resolve_task_name(const Graph& g, const std::string& model, const ImageArgs& a, const std::string& task_flag);
// Task options from the flags and the pipeline (class names default to the sidecar's).
struct TaskOptions;
TaskOptions make_task_options(const TaskArgs& t, const std::string& task_name, const ImagePipeline& p, int threads);

}  // namespace edgecnn::cli
