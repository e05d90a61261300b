// --task segment: a per-pixel label map (argmax over K > 1 classes, or threshold of a
// 1-channel map) painted over the photo.
#include <algorithm>
#include <cstdio>

#include "base/error.hpp"
#include "tasks.hpp"
#include "vision/draw.hpp"
#include "vision/postprocess/classify.hpp"
#include "vision/postprocess/segment.hpp"

namespace edgecnn::cli {

namespace {

class SegmentTask : public Task {
public:
    explicit SegmentTask(const TaskOptions& o)
        : threshold_(o.threshold_or(0.5f)), output_(o.param_or("output", "")),
          alpha_(std::stof(o.param_or("alpha", "0.5"))) {
        if (!o.class_names.empty()) names_ = vision::read_class_names(o.class_names);
        else names_ = o.class_name_list;
    }

    TaskResult process(const TaskFrame& f) override {
        const Tensor& t = task_output(f, output_);
        if (t.rank() != 4) fail("segment: output " + shape_str(t.shape()) + " is not a [1,K,H,W] score map");
        // NCHW unless the shape only fits NHWC (dims 1 and 2 are the tensor's H and W).
        const int th = f.geometry.tensor_height, tw = f.geometry.tensor_width;
        bool nchw = true;
        if (t.dim(1) == th && t.dim(2) == tw && !(t.dim(2) == th && t.dim(3) == tw)) nchw = false;
        vision::LabelMap m = vision::segment_labels(t, nchw, threshold_);
        auto hist = vision::label_histogram(m);
        TaskResult r;
        char buf[300];
        std::snprintf(buf, sizeof buf, "segment: %dx%d label map, %d classes%s", m.width, m.height, m.classes,
                      t.dim(nchw ? 1 : 3) == 1 ? " (threshold)" : " (argmax)");
        r.lines.push_back(buf);
        const double total = double(m.width) * double(m.height);
        for (size_t c = 0; c < hist.size(); ++c) {
            if (hist[c] == 0) continue;
            std::string name = c < names_.size() ? " " + names_[c] : "";
            std::snprintf(buf, sizeof buf, "class %zu%s: %lld pixels (%.2f%%)", c, name.c_str(), (long long)hist[c],
                          100.0 * double(hist[c]) / total);
            r.lines.push_back(buf);
        }
        r.overlay = rgb_copy(f.image);
        // The label grid covers the input tensor; where it is smaller (a stride-8 head), it
        // still maps proportionally.
        vision::overlay_labels(r.overlay, m.labels, m.width, m.height, f.geometry, alpha_, 0);
        return r;
    }

private:
    float threshold_;
    std::string output_;
    float alpha_;
    std::vector<std::string> names_;
};

}  // namespace

EDGECNN_REGISTER_TASK(segment, {"segment", "per-pixel argmax (or --threshold for 1-channel maps), colour overlay",
                                [](const TaskOptions& o) { return std::make_unique<SegmentTask>(o); }, nullptr});

}  // namespace edgecnn::cli
