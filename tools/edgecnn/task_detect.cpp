// --task detect-blazeface | detect-ssd: anchor decoding + NMS (src/vision/postprocess/
// detect_decode.hpp), boxes printed in photo pixels and drawn on the photo.
#include <algorithm>
#include <cstdio>

#include "base/error.hpp"
#include "tasks.hpp"
#include "vision/draw.hpp"
#include "vision/postprocess/classify.hpp"
#include "vision/postprocess/detect_decode.hpp"

namespace edgecnn::cli {

namespace {

// A box normalized to the model input -> photo pixels (edges at integers).
vision::BoxF to_photo(const vision::BoxF& b, const vision::Geometry& g) {
    float tw = float(g.tensor_width), th = float(g.tensor_height);
    vision::BoxF r{g.to_image_x(b.x0 * tw), g.to_image_y(b.y0 * th), g.to_image_x(b.x1 * tw), g.to_image_y(b.y1 * th)};
    return vision::clip_box(r, float(g.image_width), float(g.image_height));
}

std::string box_str(const vision::BoxF& b) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "box (%.0f,%.0f)-(%.0f,%.0f)", double(b.x0), double(b.y0), double(b.x1), double(b.y1));
    return buf;
}

void draw_box(vision::Image& img, const vision::BoxF& b, vision::Color c, const std::string& label) {
    vision::draw_rect(img, int(b.x0), int(b.y0), int(b.x1), int(b.y1), c, std::max(2, img.width / 300));
    if (!label.empty()) vision::draw_text(img, int(b.x0), std::max(0, int(b.y0) - 16), label, c, 2);
}

class BlazeFaceTask : public Task {
public:
    explicit BlazeFaceTask(const TaskOptions& o) {
        dopt_.score_threshold = o.threshold_or(0.75f);
        dopt_.iou_threshold = o.iou_or(0.3f);
        dopt_.weighted_nms = o.param_or("nms", "weighted") != "hard";
    }
    TaskResult process(const TaskFrame& f) override {
        // Scores are the [1,N,1] outputs, boxes the [1,N,16] ones, in the model's order.
        std::vector<Tensor> scores, boxes;
        for (const auto& [name, t] : f.outputs) {
            if (t.rank() != 3) fail("detect-blazeface: output '" + name + "' " + shape_str(t.shape()) + " is not [1,N,K]");
            (t.dim(2) == 1 ? scores : boxes).push_back(t);
        }
        int size = f.geometry.tensor_width;
        if (size != f.geometry.tensor_height || (size != 128 && size != 256))
            fail("detect-blazeface: the anchors are known for 128x128 (front) and 256x256 (back) inputs, not " +
                 std::to_string(f.geometry.tensor_width) + "x" + std::to_string(f.geometry.tensor_height));
        if (size != anchor_size_) {
            aopt_ = size == 128 ? vision::blazeface_front_options() : vision::blazeface_back_options();
            anchors_ = vision::blazeface_anchors(aopt_);
            anchor_size_ = size;
        }
        auto faces = vision::decode_blazeface(scores, boxes, anchors_, aopt_, dopt_);
        TaskResult r;
        r.overlay = rgb_copy(f.image);
        char buf[64];
        std::snprintf(buf, sizeof buf, "%zu faces", faces.size());
        r.lines.push_back(buf);
        const float tw = float(f.geometry.tensor_width), th = float(f.geometry.tensor_height);
        for (size_t i = 0; i < faces.size(); ++i) {
            vision::BoxF b = to_photo(faces[i].box, f.geometry);
            std::snprintf(buf, sizeof buf, "face %zu: score %.3f ", i + 1, double(faces[i].score));
            std::string line = buf + box_str(b) + " keypoints";
            vision::Color c = vision::palette_color(int(i) + 1);
            for (const auto& k : faces[i].keypoints) {
                float x = f.geometry.to_image_x(k.x * tw), y = f.geometry.to_image_y(k.y * th);
                std::snprintf(buf, sizeof buf, " (%.0f,%.0f)", double(x), double(y));
                line += buf;
                vision::fill_rect(r.overlay, int(x) - 2, int(y) - 2, int(x) + 2, int(y) + 2, c);
            }
            r.lines.push_back(line);
            std::snprintf(buf, sizeof buf, "%.2f", double(faces[i].score));
            draw_box(r.overlay, b, c, buf);
        }
        return r;
    }

private:
    vision::BlazeFaceDecodeOptions dopt_;
    vision::BlazeFaceAnchorOptions aopt_;
    std::vector<vision::Anchor> anchors_;
    int anchor_size_ = 0;
};

// torchvision's SSDLite head outputs: class logits [1,A,C] and box regression [1,A,4].
class SsdTask : public Task {
public:
    explicit SsdTask(const TaskOptions& o) {
        dopt_.score_threshold = o.threshold_or(0.5f);
        dopt_.iou_threshold = o.iou_or(0.55f);
        std::string m = o.param_or("max-detections", "100");
        if (m.empty() || m.find_first_not_of("0123456789") != std::string::npos || m.size() > 6 || std::stoi(m) < 1)
            fail("--task-opt max-detections=" + m + ": not a positive integer");
        dopt_.max_detections = std::stoi(m);
        if (!o.class_names.empty()) names_ = vision::read_class_names(o.class_names);
        else names_ = o.class_name_list;
    }
    TaskResult process(const TaskFrame& f) override {
        const Tensor *cls = nullptr, *reg = nullptr;
        for (const auto& [name, t] : f.outputs) {
            if (t.rank() != 3) continue;
            if (t.dim(2) == 4 && !reg) reg = &t;
            else if (!cls) cls = &t;
        }
        if (!cls || !reg)
            fail("detect-ssd: expected a class-score output [1,A,C] and a box output [1,A,4] (torchvision SSD head)");
        int th = f.geometry.tensor_height, tw = f.geometry.tensor_width;
        if (th != prior_h_ || tw != prior_w_) {
            priors_ = vision::ssd_priors(vision::ssdlite_prior_options(th, tw));
            prior_h_ = th;
            prior_w_ = tw;
        }
        auto dets = vision::decode_ssd(*cls, *reg, priors_, dopt_);
        TaskResult r;
        r.overlay = rgb_copy(f.image);
        char buf[96];
        std::snprintf(buf, sizeof buf, "%zu detections", dets.size());
        r.lines.push_back(buf);
        for (size_t i = 0; i < dets.size(); ++i) {
            vision::BoxF b = to_photo(dets[i].box, f.geometry);
            std::string name = size_t(dets[i].label) < names_.size() ? names_[size_t(dets[i].label)] : "";
            std::snprintf(buf, sizeof buf, "det %zu: class %d%s%s score %.3f ", i + 1, dets[i].label, name.empty() ? "" : " ",
                          name.c_str(), double(dets[i].score));
            r.lines.push_back(buf + box_str(b));
            draw_box(r.overlay, b, vision::palette_color(dets[i].label),
                     name.empty() ? std::to_string(dets[i].label) : name);
        }
        return r;
    }

private:
    vision::SsdDecodeOptions dopt_;
    std::vector<std::string> names_;
    std::vector<vision::Anchor> priors_;
    int prior_h_ = 0, prior_w_ = 0;
};

}  // namespace

EDGECNN_REGISTER_TASK(detect_blazeface, {"detect-blazeface", "BlazeFace faces: anchors + weighted NMS (--threshold 0.75, --iou-threshold 0.3)",
                                         [](const TaskOptions& o) { return std::make_unique<BlazeFaceTask>(o); },
                                         [](vision::Preprocess& p) {
                                             p.scale = 1.0f / 127.5f;
                                             p.mean = {1.f, 1.f, 1.f};
                                             p.std = {1.f, 1.f, 1.f};
                                         }});
EDGECNN_REGISTER_TASK(detect_ssd, {"detect-ssd", "SSD/SSDLite head: priors + per-class NMS (--threshold 0.5, --iou-threshold 0.55)",
                                   [](const TaskOptions& o) { return std::make_unique<SsdTask>(o); },
                                   [](vision::Preprocess& p) {
                                       // torchvision SSDLite: 320 px, (x/255 - 0.5) / 0.5, RGB.
                                       // The export's input is dynamic: the photo capped at
                                       // 320 on its longer side (a fixed-size model keeps its own).
                                       p.scale = 1.0f / 255.0f;
                                       p.mean = {0.5f, 0.5f, 0.5f};
                                       p.std = {0.5f, 0.5f, 0.5f};
                                       p.max_side = 320;
                                   }});

}  // namespace edgecnn::cli
