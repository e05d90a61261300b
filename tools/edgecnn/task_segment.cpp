// --task segment: a per-pixel label map (argmax over K > 1 classes, or threshold of a
// 1-channel map) painted over the photo.
#include <algorithm>
#include <cstdio>
#include <optional>

#include "base/error.hpp"
#include "tasks.hpp"
#include "vision/draw.hpp"
#include "vision/postprocess/classify.hpp"
#include "vision/postprocess/segment.hpp"

namespace edgecnn::cli {

namespace {

Attribute int_attr(int64_t v) {
    Attribute a;
    a.kind = Attribute::Kind::Int;
    a.i = v;
    return a;
}

class SegmentTask : public Task {
public:
    explicit SegmentTask(const TaskOptions& o)
        : threshold_(o.threshold_or(0.5f)), output_(o.param_or("output", "")),
          alpha_(std::stof(o.param_or("alpha", "0.5"))) {
        if (!o.class_names.empty()) names_ = vision::read_class_names(o.class_names);
        else names_ = o.class_name_list;
    }

    // A head that upsamples [1,K,h,w] class scores with a Resize (LR-ASPP, DeepLab, FCN)
    // gets the ArgMax over the classes appended in its place: the engine fuses the pair
    // (passes/fuse_resize_argmax) and never writes the full-resolution score map. The
    // labels are the same as those segment_labels() takes from the scores (same values,
    // first index on ties), and the model's own output is then the label map.
    void adapt_graph(Graph& g, const std::string& input, const Shape& input_shape) override {
        size_t slot = 0;
        if (!output_.empty()) {
            slot = g.outputs.size();
            for (size_t i = 0; i < g.outputs.size(); ++i)
                if (g.value(g.outputs[i]).name == output_) slot = i;
        }
        if (slot >= g.outputs.size()) return;  // process() names the missing output
        const ValueId scores = g.outputs[slot];
        const Value& sv = g.value(scores);
        if (sv.constant || sv.producer < 0 || sv.dtype != DType::F32 || !sv.shape || sv.shape->size() != 4) return;
        const Node& rs = g.nodes[size_t(sv.producer)];
        if (rs.op_type != "Resize" || !rs.domain.empty() || rs.inputs.empty()) return;
        const Dim k = (*sv.shape)[1];
        if (!k.is_static() || k.value < 2) return;
        // Classes on axis 1 (NCHW) and not resized: the Resize's input, with this photo's
        // tensor shape, has the same K on axis 1 (a [1,H,W,K] map resized on H and W fails
        // this). Exporters rarely record intermediate shapes, so they are inferred here.
        {
            const ValueId in_id = g.find(input);
            if (in_id == kNoValue || g.inputs.size() != 1) return;
            SessionOptions o;
            o.optimization_level = 0;
            std::optional<Shape> rin;
            try {
                Session probe(std::make_shared<const Graph>(g), o);
                probe.bind_shapes({input_shape});
                rin = probe.value_shapes().at(size_t(rs.inputs[0]));
            } catch (const Error&) {
                return;  // the real session reports what is wrong with the model or the input
            }
            if (!rin || rin->size() != 4 || (*rin)[1] != k.value) return;
        }
        for (size_t i = 0; i < g.outputs.size(); ++i)
            if (i != slot && g.outputs[i] == scores) return;
        Value lv;
        lv.name = sv.name + ":labels";
        lv.dtype = DType::I64;
        lv.shape = std::vector<Dim>{(*sv.shape)[0], Dim{1, ""}, (*sv.shape)[2], (*sv.shape)[3]};
        const ValueId labels = g.add_value(lv);
        Node am;
        am.name = rs.name + "/argmax";
        am.op_type = "ArgMax";
        am.inputs = {scores};
        am.outputs = {labels};
        am.attrs["axis"] = int_attr(1);
        am.attrs["keepdims"] = int_attr(1);
        g.nodes.push_back(am);
        g.outputs[slot] = labels;
        verify_and_sort(g);
        labels_name_ = g.value(labels).name;
        classes_ = int(k.value);
    }

    TaskResult process(const TaskFrame& f) override {
        const Tensor& t = task_output(f, labels_name_.empty() ? output_ : labels_name_);
        vision::LabelMap m;
        bool thresholded = false;
        if (!labels_name_.empty()) {
            m = vision::labels_from_argmax(t, classes_);
        } else {
            if (t.rank() != 4) fail("segment: output " + shape_str(t.shape()) + " is not a [1,K,H,W] score map");
            // NCHW unless the shape only fits NHWC (dims 1 and 2 are the tensor's H and W).
            const int th = f.geometry.tensor_height, tw = f.geometry.tensor_width;
            bool nchw = true;
            if (t.dim(1) == th && t.dim(2) == tw && !(t.dim(2) == th && t.dim(3) == tw)) nchw = false;
            m = vision::segment_labels(t, nchw, threshold_);
            thresholded = t.dim(nchw ? 1 : 3) == 1;
        }
        auto hist = vision::label_histogram(m);
        TaskResult r;
        char buf[300];
        std::snprintf(buf, sizeof buf, "segment: %dx%d label map, %d classes%s", m.width, m.height, m.classes,
                      thresholded ? " (threshold)" : labels_name_.empty() ? " (argmax)" : " (argmax in the model)");
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
    std::string labels_name_;  // set when adapt_graph() appended the ArgMax
    int classes_ = 0;
};

}  // namespace

EDGECNN_REGISTER_TASK(segment, {"segment", "per-pixel argmax (or --threshold for 1-channel maps), colour overlay",
                                [](const TaskOptions& o) { return std::make_unique<SegmentTask>(o); }, nullptr});

}  // namespace edgecnn::cli
