// Photos as calibration / evaluation inputs: a folder of images (unlabelled), or an
// ImageFolder tree (one sub-folder per class; label = the sub-folder's index in sorted
// order, as torchvision's ImageFolder numbers them). Each photo goes through the same
// preprocessing as `edgecnn run --image` (src/vision/preprocess.hpp).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "quant/calibration.hpp"
#include "vision/preprocess.hpp"

namespace edgecnn {

struct ImageList {
    std::vector<std::string> files;    // sorted (by class, then by name)
    std::vector<int> labels;           // per file; empty for a flat folder
    std::vector<std::string> classes;  // sub-folder names, in label order
};

// True for .jpg/.jpeg/.png/.bmp (any case).
bool is_image_file(const std::string& path);
// True when `dir` holds photos directly or sub-folders that hold photos.
bool is_image_folder(const std::string& dir);
// Lists a flat folder of photos or an ImageFolder tree (photos directly in `dir` and in
// sub-folders at once is an error: the labels would be ambiguous). Throws Io naming `dir`
// when it holds none.
ImageList list_images(const std::string& dir);

// The model's single image-like input (rank 4, 1 or 3 channels; `pre.layout` decides
// NCHW/NHWC when both fit) fed from the photos in `dir`. With 0 < limit < count, `limit`
// photos spread evenly over the list (so every class of a tree is sampled).
std::unique_ptr<CalibrationSource> image_folder_source(const Graph& g, const std::string& dir,
                                                       const vision::Preprocess& pre, int64_t limit);
// The same over an explicit list of files (labels optional, as in ImageList).
std::unique_ptr<CalibrationSource> image_list_source(const Graph& g, ImageList list, const vision::Preprocess& pre,
                                                     int64_t limit, const std::string& what);

}  // namespace edgecnn
