// From a photo to a model's input tensor: resize (stretch, letterbox, center-crop) with
// bilinear sampling, channel order, normalisation and layout, in one pass over the output
// (no intermediate 8-bit image, so nothing is rounded twice). `Geometry` maps tensor
// coordinates back to the photo, so post-processing can draw boxes and masks on it.
//
// Normalisation: value = (pixel * scale - mean[c]) / std[c], pixel in 0..255, with c the
// channel index *in the tensor's order* (after --bgr swaps R and B).
//
// Described by CLI flags or by a JSON sidecar next to the model, `<model file>.json`
// (e.g. `model.onnx.json`), or by the same JSON embedded in an .ecnn file (`convert` stores
// the sidecar there, class names as a list); flags override the sidecar, the sidecar the
// embedded JSON, and that the defaults:
//   {
//     "resize": "stretch" | "letterbox" | "center-crop",   default "stretch"
//     "size": [W, H] or "WxH",            default: the model input's H and W
//     "scale": 0.00392156862,              default 1/255
//     "mean": [m] or [m0, m1, m2],         default 0
//     "std":  [s] or [s0, s1, s2],         default 1
//     "bgr": false,                         channel order of the tensor
//     "layout": "nchw" | "nhwc",          default: inferred from the input's shape
//     "pad": 0,                             letterbox border value (0..255)
//     "max_side": 960, "size_multiple": 32, for inputs with dynamic H and W: the photo's
//                                            size, longer side capped, rounded to a multiple
//     "task": "classify",                  default --task (read by the CLI)
//     "class_names": "labels.txt"          default --class-names, relative to the sidecar
//   }
// Unknown keys are an error naming the file and the key (a typo must not pass silently).
#pragma once
#include <array>
#include <optional>
#include <string>

#include "base/tensor.hpp"
#include "vision/image.hpp"

namespace edgecnn {
class ThreadPool;
}

namespace edgecnn::vision {

enum class ResizeMode { Stretch, Letterbox, CenterCrop };
enum class Layout { NCHW, NHWC };

struct Preprocess {
    ResizeMode resize = ResizeMode::Stretch;
    int width = 0, height = 0;  // 0: from the model input (or the photo when that is dynamic)
    float scale = 1.0f / 255.0f;
    std::array<float, 3> mean{0.f, 0.f, 0.f};
    std::array<float, 3> std{1.f, 1.f, 1.f};
    bool bgr = false;
    std::optional<Layout> layout;  // unset: inferred from the expected shape
    int pad = 0;                   // letterbox border pixel value
    int max_side = 0;              // dynamic H/W: cap the longer side (0: no cap)
    int size_multiple = 1;         // dynamic H/W: round each side to a multiple (>= 1)
    // Sidecar-only extras the CLI reads (empty when not given).
    std::string task;
    std::string class_names;  // path, already made absolute/relative to the working directory
};

// The flags as the user typed them (empty/unset = not given).
struct PreprocessFlags {
    std::string resize, size, scale, mean, std, layout, pad;
    bool bgr = false, rgb = false, nhwc = false, nchw = false;
};

// Parse one flag value; throw Error(Invalid) naming the flag.
ResizeMode parse_resize_mode(const std::string& s);
std::array<float, 3> parse_triple(const std::string& flag, const std::string& s);  // "0.5" or "0.1,0.2,0.3"
void parse_size(const std::string& flag, const std::string& s, int& w, int& h);       // "256x192"
// Applies the flags that were given on top of `p`.
void apply_flags(Preprocess& p, const PreprocessFlags& f);
// Reads a JSON sidecar (format above) on top of `p`; throws naming the file on bad JSON,
// unknown keys or bad values.
void apply_sidecar(Preprocess& p, const std::string& json_path);
// The same from JSON text: `origin` names it in errors (a file, or "model.ecnn: embedded
// preprocessing"), a relative "class_names" path resolves against `base_dir` ("": the
// working directory). An .ecnn file carries this JSON (convert stores the sidecar's).
void apply_sidecar_json(Preprocess& p, const std::string& json_text, const std::string& origin,
                        const std::string& base_dir);
// `<model>.json` when it exists, else "".
std::string find_sidecar(const std::string& model_path);
std::string describe(const Preprocess& p);  // one line for logs

// Maps tensor pixel coordinates to photo coordinates (continuous, pixel edges at integers):
// x_image = x_tensor * scale_x + offset_x. Tensor pixels outside the photo (letterbox
// borders) map outside [0, width).
struct Geometry {
    int image_width = 0, image_height = 0;    // the photo
    int tensor_width = 0, tensor_height = 0;  // the model input's W and H
    float scale_x = 1, scale_y = 1, offset_x = 0, offset_y = 0;
    float to_image_x(float xt) const { return xt * scale_x + offset_x; }
    float to_image_y(float yt) const { return yt * scale_y + offset_y; }
    float to_tensor_x(float xi) const { return (xi - offset_x) / scale_x; }
    float to_tensor_y(float yi) const { return (yi - offset_y) / scale_y; }
};
Geometry make_geometry(int image_w, int image_h, int tensor_w, int tensor_h, ResizeMode mode);

// Which axes of a rank-4 input are C, H, W.
struct InputLayout {
    Layout layout = Layout::NCHW;
    int channels = 0;  // 1 or 3
};
// Decides whether a model input of this shape (dims < 0 = dynamic) takes an image: rank 4,
// batch 1 or dynamic, and 1 or 3 channels in axis 1 (NCHW) or axis 3 (NHWC). `forced`
// (from --nhwc/--nchw/the sidecar) decides when both fit. Nullopt when it is not an image.
std::optional<InputLayout> image_input_layout(const Shape& shape, std::optional<Layout> forced);

struct TensorImage {
    Tensor tensor;  // float32, [1,C,H,W] or [1,H,W,C]
    Geometry geometry;
};
// Builds the input tensor for `expected` (the model input's shape, dims < 0 dynamic; rank 4
// as image_input_layout accepts). Grey photos feed 3-channel models by replication and RGB
// photos feed 1-channel models through BT.601 luma; alpha is ignored. Throws Error(Invalid)
// when the shape is not an image input or --size contradicts the model's fixed H/W.
// With a pool, blocks of output rows run on its threads (the result does not change).
TensorImage to_tensor(const Image& img, const Preprocess& p, const Shape& expected, ThreadPool* pool = nullptr);

// The horizontal half of a bilinear resize into a tensor of width `tw` from a picture of
// width `src_width`: per output column the two source columns, the second's weight, and
// whether the column falls inside the picture (letterbox borders do not). Shared by the
// photo and the NV12 paths so both sample the same way.
struct ColumnTaps {
    std::vector<int32_t> a, b;
    std::vector<float> w;
    std::vector<char> inside;
};
ColumnTaps column_taps(const Geometry& g, int tw, int src_width);

// Throws unless scale, mean and std make finite values: a std of 0 would turn every pixel into
// inf/NaN, a silently wrong input (to_tensor and yuv_to_tensor call it).
void check_normalization(const Preprocess& p);
// The float32 normalised value of one tensor pixel, for tests and other kernels: the
// bilinear sample of `img` (edge-clamped) at tensor pixel (xt, yt) under `g`, or `pad`
// outside the photo, then (v * scale - mean) / std of tensor channel `c`.
float reference_sample(const Image& img, const Preprocess& p, const Geometry& g, int xt, int yt, int c, int channels);

// An 8-bit image resized with the same bilinear sampling (stretch; channels kept), rounded.
Image resize_bilinear(const Image& img, int width, int height);

}  // namespace edgecnn::vision
