// PP-OCR's DB (differentiable binarization) text-detection post-process, on the
// probability map the det model outputs: threshold, 8-connected components, minimum-area
// rotated rectangle of each, box score filter, "unclip" (DB's training shrinks text
// regions; the box is grown back by area * ratio / perimeter), scaled to the image.
// Linear in the map size: one run-length labeling pass, per-row extremes per component,
// convex hull of those (already sorted by row), rotating over hull edges.
#pragma once
#include <array>
#include <vector>

#include "base/tensor.hpp"
#include "vision/postprocess/boxes.hpp"

namespace edgecnn::vision {

// A text box: four corners clockwise from the top-left (top-left, top-right,
// bottom-right, bottom-left) as PP-OCR orders them.
struct TextBox {
    std::array<PointF, 4> quad;
    float score = 0;  // mean probability over the region's pixels
    BoxF bounds() const;
};

struct DbOptions {
    float threshold = 0.3f;        // pixel is text when prob > threshold
    float box_threshold = 0.6f;    // keep a region when its mean prob >= this
    float unclip_ratio = 1.5f;
    float min_size = 3.0f;         // shorter side, in map pixels, before (and +2 after) unclip
    int max_candidates = 1000;
    // Map pixel -> image pixel: x_img = x_map * scale_x + offset_x (same for y). The default
    // leaves boxes in map coordinates. Boxes are clipped to [0, image_width/height].
    float scale_x = 1, scale_y = 1, offset_x = 0, offset_y = 0;
    float image_width = 0, image_height = 0;  // 0: map size * scale
};

// `prob`: [1,1,H,W], [1,H,W] or [H,W] float32. Returns boxes in component discovery order
// (top-most pixel first); sort_text_boxes() gives reading order.
std::vector<TextBox> db_postprocess(const Tensor& prob, const DbOptions& opt);

// PP-OCR's reading order: by top-left y then x, swapping neighbours whose tops are within
// `same_line_px` when they are out of x order.
void sort_text_boxes(std::vector<TextBox>& boxes, float same_line_px = 10.0f);

// Minimum-area rectangle around points (exposed for tests): corners ordered like TextBox.
std::array<PointF, 4> min_area_rect(const std::vector<PointF>& points, float* width = nullptr,
                                    float* height = nullptr);

}  // namespace edgecnn::vision
