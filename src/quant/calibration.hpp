// Where calibration (and evaluation) inputs come from. A CalibrationSource yields one
// input set per index (one tensor per graph input, batch 1). Sources today: an IDX images
// file (MNIST / Fashion-MNIST, .gz or not) with (pixel*scale - mean)/std preprocessing, a
// folder of .npy/.pb tensors (one file per sample, single-input models), random:N, and a
// folder of photos or an ImageFolder tree (quant/image_source.hpp, through src/vision/).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/tensor.hpp"
#include "ir/graph.hpp"
#include "vision/preprocess.hpp"

namespace edgecnn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class CalibrationSource {
public:
    virtual ~CalibrationSource() = default;
    virtual int64_t size() const = 0;
    // Sample i (0 <= i < size()) as the graph's inputs.
    virtual NamedTensors get(int64_t i) = 0;
    // Sample i's class index when the source is labelled (an ImageFolder tree), else -1.
    virtual int label(int64_t) const { return -1; }
    // Class names of a labelled source, in label order (empty when unlabelled).
    virtual std::vector<std::string> class_names() const { return {}; }
};

// Preprocessing of 8-bit images: x = (pixel * scale - mean) / std.
struct ImagePreprocess {
    float scale = 1.f / 255.f;
    float mean = 0.f;
    float std = 1.f;
};

// The first `limit` images (all when limit <= 0) of an IDX file as the graph's single
// 4-D input [1,1,H,W] (or [1,H,W,1] / [1,H,W] as the graph's declared rank and dims say).
std::unique_ptr<CalibrationSource> idx_image_source(const Graph& g, const std::string& path, const ImagePreprocess& pre,
                                                    int64_t limit);
// Parses SOURCE: "random:N", a folder of .npy/.pb files, a folder of photos or an
// ImageFolder tree (preprocessed by `pre`, as `run --image` does), or an IDX images file
// (one flag set, one meaning: (pixel*pre.scale - pre.mean)/pre.std, one channel).
// `shapes` binds inputs with dynamic dims for random:N (a dynamic batch defaults to 1).
std::unique_ptr<CalibrationSource> open_calibration_source(const Graph& g, const std::string& spec,
                                                           const vision::Preprocess& pre, int64_t limit,
                                                           const std::map<std::string, Shape>& shapes = {});

// Reader of .pb tensor files for folder sources: protobuf lives in the ONNX library
// (src/onnx/), which the core does not link; its users (the CLI) set this hook.
extern Tensor (*g_read_tensor_pb_hook)(const std::string& path);

// Labels of an IDX labels file (uint8 class indices).
std::vector<int> read_idx_labels(const std::string& path);

}  // namespace edgecnn
