// Command-line arguments shared by the commands that take photos or camera frames (run,
// bench, profile, stream): the image source, its preprocessing, and the task head.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "vision/preprocess.hpp"

namespace CLI {
class App;
}

namespace edgecnn::cli {

struct ImageArgs {
    std::string image;              // --image FILE (JPEG/PNG)
    std::string nv12, nv21;         // --nv12 FILE / --nv21 FILE: raw camera frames
    std::string frame_size;         // --frame-size WxH of the raw frame
    std::string input;              // --image-input NAME: which model input (when several fit)
    std::string preprocess_file;    // --preprocess FILE: a sidecar elsewhere than <model>.json
    vision::PreprocessFlags flags;  // --resize --size --scale --mean --std --bgr/--rgb --nhwc/--nchw --pad
    bool given() const { return !image.empty() || !nv12.empty() || !nv21.empty(); }
};

struct TaskArgs {
    std::string task;          // --task NAME ("" = none; the sidecar's "task" otherwise)
    std::string class_names;   // --class-names FILE
    int top_k = 5;             // --top-k
    float threshold = -1.f;    // --threshold (task-specific default when < 0)
    float iou_threshold = -1.f;// --iou-threshold (task-specific default when < 0)
    std::string rec_model;     // --rec-model (ocr)
    std::string cls_model;     // --cls-model (ocr)
    std::vector<std::string> options;  // --task-opt KEY=VALUE, free-form per task
};

// Registers the options above on a subcommand.
void add_image_options(CLI::App* cmd, ImageArgs& a);
// Only the preprocessing part (--preprocess --resize --size --scale --mean --std --bgr --rgb
// --nhwc --nchw --pad), for commands that read many photos (quantize, eval).
void add_preprocess_options(CLI::App* cmd, ImageArgs& a);
void add_task_options(CLI::App* cmd, TaskArgs& a);

}  // namespace edgecnn::cli
