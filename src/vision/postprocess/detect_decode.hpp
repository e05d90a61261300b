// Anchor generation and box decoding of the detection heads:
//  - BlazeFace (MediaPipe SSD anchors, offsets scaled by the input size, 6 keypoints);
//  - SSD / SSDLite (torchvision DefaultBoxGenerator priors, centre-size encoding with
//    variances 10,10,5,5, softmax class scores).
// Output boxes are normalized to the model input ([0,1] in x and y); the caller maps them
// to image pixels. Decoding is linear in the number of anchors.
#pragma once
#include <string>
#include <vector>

#include "base/tensor.hpp"
#include "vision/postprocess/boxes.hpp"

namespace edgecnn::vision {

// One prior: centre and size, normalized to the model input.
struct Anchor {
    float cx = 0, cy = 0, w = 1, h = 1;
};

// MediaPipe's SsdAnchorsCalculator with fixed_anchor_size (every BlazeFace model): layers
// that share a stride are generated together, two anchors per cell per layer, centres at
// ((x + offset) / grid_w, (y + offset) / grid_h), unit size.
struct BlazeFaceAnchorOptions {
    int input_width = 128, input_height = 128;
    std::vector<int> strides{8, 16, 16, 16};
    int anchors_per_layer = 2;  // aspect ratio 1 + the interpolated scale
    float offset = 0.5f;
};
// 128x128 front camera model: 16x16x2 + 8x8x6 = 896 anchors.
BlazeFaceAnchorOptions blazeface_front_options();
// 256x256 back camera model: strides 16, 32, 32, 32 -> 16x16x2 + 8x8x6 = 896 anchors.
BlazeFaceAnchorOptions blazeface_back_options();
std::vector<Anchor> blazeface_anchors(const BlazeFaceAnchorOptions& opt);

struct BlazeFaceDecodeOptions {
    float score_threshold = 0.75f;
    float iou_threshold = 0.3f;
    bool weighted_nms = true;  // MediaPipe blends overlapping detections
    int num_keypoints = 6;
    float logit_clip = 100.0f;  // MediaPipe clips logits before the sigmoid
};

// `scores`: the model's logit outputs in anchor order ([1,N_i,1] each, concatenated in the
// order given); `regressors`: the matching [1,N_i,4+2K] box/keypoint outputs. Offsets are
// divided by the input size (opt.input_width/height) and added to the anchor centre.
// Returns detections after NMS, boxes and keypoints normalized to the input.
std::vector<Detection> decode_blazeface(const std::vector<Tensor>& scores, const std::vector<Tensor>& regressors,
                                        const std::vector<Anchor>& anchors, const BlazeFaceAnchorOptions& anchor_opt,
                                        const BlazeFaceDecodeOptions& opt);

// torchvision's DefaultBoxGenerator: per feature map k, scale s_k from min_ratio to
// max_ratio (then 1.0), pairs (s_k, s_k), (s'_k, s'_k) with s'_k = sqrt(s_k s_{k+1}) and
// (s_k sqrt(ar), s_k / sqrt(ar)) and its transpose per aspect ratio, clipped to [0,1];
// locations row-major, the pairs of one location consecutive.
struct SsdPriorOptions {
    std::vector<std::pair<int, int>> grid_sizes;  // (rows, cols) per feature map
    std::vector<std::vector<float>> aspect_ratios; // per feature map
    float min_ratio = 0.2f, max_ratio = 0.95f;
    bool clip = true;
};
// ssdlite320_mobilenet_v3_large at input HxW: grids ceil(H/16), then halving (ceil) five
// times (20,10,5,3,2,1 at 320), aspect ratios {2,3} everywhere: 6 priors per location.
SsdPriorOptions ssdlite_prior_options(int input_height, int input_width);
std::vector<Anchor> ssd_priors(const SsdPriorOptions& opt);

struct SsdDecodeOptions {
    float score_threshold = 0.5f;
    float iou_threshold = 0.55f;          // torchvision SSD's NMS threshold
    int top_k_per_class = 300;            // candidates kept per class before NMS
    int max_detections = 100;
    float weights[4] = {10, 10, 5, 5};    // centre-size variances (BoxCoder weights)
    int background_class = 0;
    bool softmax = true;                  // class outputs are logits (softmax over classes)
};
// `cls`: [1,A,C] class logits (or probabilities with softmax=false); `reg`: [1,A,4]
// (dx,dy,dw,dh) encoded against `priors`. Per-class NMS; boxes normalized and clipped to [0,1].
std::vector<Detection> decode_ssd(const Tensor& cls, const Tensor& reg, const std::vector<Anchor>& priors,
                                  const SsdDecodeOptions& opt);

// The inverse of decode_ssd's box transform (for building test outputs): the (dx,dy,dw,dh)
// that decodes to `box` (normalized corners) against `prior`.
void ssd_encode(const BoxF& box, const Anchor& prior, const float weights[4], float out[4]);

}  // namespace edgecnn::vision
