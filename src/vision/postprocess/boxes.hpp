// Boxes and non-maximum suppression for the detection heads (BlazeFace, SSD). Plain
// structs and pure functions: coordinates are whatever the caller uses (normalized to the
// model input or pixels), x to the right and y down.
#pragma once
#include <cstdint>
#include <vector>

namespace edgecnn::vision {

struct BoxF {
    float x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // corners, x0 <= x1 and y0 <= y1 when valid
    float width() const { return x1 > x0 ? x1 - x0 : 0.0f; }
    float height() const { return y1 > y0 ? y1 - y0 : 0.0f; }
    float area() const { return width() * height(); }
};

struct PointF {
    float x = 0, y = 0;
};

struct Detection {
    BoxF box;
    float score = 0;
    int label = 0;                   // class index (0 for single-class detectors)
    std::vector<PointF> keypoints;   // BlazeFace: eyes, nose, mouth, ears (6)
};

// Intersection over union; 0 when either box is empty.
float iou(const BoxF& a, const BoxF& b);
BoxF clip_box(const BoxF& b, float x_max, float y_max);

struct NmsOptions {
    float iou_threshold = 0.5f;    // suppress a box overlapping a kept one by more than this
    float score_threshold = 0.0f;  // drop candidates scoring below this first
    int top_k = 0;                 // keep at most this many (0: no limit)
    bool per_class = true;         // only boxes of the same label suppress each other
    // Weighted (MediaPipe "blending") NMS: each kept detection is the score-weighted mean of
    // itself and the boxes/keypoints it suppresses; its score stays the top one.
    bool weighted = false;
};

// Greedy NMS: candidates are taken highest score first (ties: lower index first, so the
// result is deterministic). O(n log n) sort plus O(n * kept) overlap tests.
std::vector<Detection> nms(std::vector<Detection> candidates, const NmsOptions& opt);

}  // namespace edgecnn::vision
