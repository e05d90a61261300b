// --task text-detect | text-recognize | ocr: PP-OCR's DB text detection, CTC text
// recognition, and both chained (detect -> crop and straighten -> orientation check ->
// recognize), on top of the pure post-processing in src/vision/postprocess/.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include "base/error.hpp"
#include "common.hpp"
#include "tasks.hpp"
#include "vision/draw.hpp"
#include "vision/postprocess/ctc.hpp"
#include "vision/postprocess/db_text.hpp"
#include "vision/postprocess/text_crop.hpp"

namespace edgecnn::cli {

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// A --task-opt value as a number; the option is named when it is not one.
float param_float(const TaskOptions& o, const std::string& key, float d) {
    std::string v = o.param_or(key, "");
    if (v.empty()) return d;
    try {
        size_t used = 0;
        float f = std::stof(v, &used);
        if (used == v.size() && std::isfinite(f)) return f;
    } catch (const std::exception&) {
    }
    fail("--task-opt " + key + "=" + v + ": not a number");
}

constexpr int kRecHeight = 48;     // PP-OCR rec and cls input height
constexpr int kRecMinWidth = 320;  // PP-OCR pads rec batches to at least 320 (ratio 320/48)
constexpr int kClsWidth = 192;

// PP-OCR det: BGR, ImageNet mean/std in that order, longer side at most 960, multiples of 32.
void det_defaults(vision::Preprocess& p) {
    p.scale = 1.0f / 255.0f;
    p.mean = {0.485f, 0.456f, 0.406f};
    p.std = {0.229f, 0.224f, 0.225f};
    p.bgr = true;
    p.max_side = 960;
    p.size_multiple = 32;
}
// PP-OCR rec/cls: (x/255 - 0.5)/0.5, BGR.
void rec_defaults(vision::Preprocess& p) {
    p.scale = 1.0f / 127.5f;
    p.mean = {1.f, 1.f, 1.f};
    p.std = {1.f, 1.f, 1.f};
    p.bgr = true;
}

vision::PixelsView view_of(const vision::Image& img) {
    return {img.pixels.data(), img.width, img.height, img.channels, int64_t(img.stride())};
}

// The DB map's pixel indices (centres at integers) to photo pixel indices through the
// preprocessing geometry (edges at integers).
vision::DbOptions db_options(const TaskFrame& f, const TaskOptions& o) {
    vision::DbOptions d;
    d.threshold = param_float(o, "db-threshold", 0.3f);
    d.box_threshold = o.threshold_or(0.6f);
    d.unclip_ratio = param_float(o, "unclip-ratio", 1.5f);
    const vision::Geometry& g = f.geometry;
    d.scale_x = g.scale_x;
    d.scale_y = g.scale_y;
    d.offset_x = g.offset_x + 0.5f * g.scale_x - 0.5f;
    d.offset_y = g.offset_y + 0.5f * g.scale_y - 0.5f;
    d.image_width = float(f.image.width);
    d.image_height = float(f.image.height);
    return d;
}

// The probability map; checks it matches the input the geometry describes.
const Tensor& prob_map(const TaskFrame& f, const TaskOptions& o) {
    const Tensor& t = task_output(f, o.param_or("output", ""));
    if (t.rank() != 4 || t.dim(0) != 1 || t.dim(1) != 1)
        fail("text-detect: output " + shape_str(t.shape()) + " is not a probability map [1,1,H,W] (a PP-OCR det model?)");
    if (t.dim(2) != f.geometry.tensor_height || t.dim(3) != f.geometry.tensor_width)
        fail("text-detect: probability map " + shape_str(t.shape()) + " is not the input's size " +
             std::to_string(f.geometry.tensor_width) + "x" + std::to_string(f.geometry.tensor_height));
    return t;
}

std::string quad_str(const vision::TextBox& b) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "(%.0f,%.0f) (%.0f,%.0f) (%.0f,%.0f) (%.0f,%.0f)", double(b.quad[0].x), double(b.quad[0].y),
                  double(b.quad[1].x), double(b.quad[1].y), double(b.quad[2].x), double(b.quad[2].y), double(b.quad[3].x),
                  double(b.quad[3].y));
    return buf;
}

void draw_quad(vision::Image& img, const vision::TextBox& b, vision::Color c) {
    std::vector<std::pair<float, float>> pts;
    for (const auto& p : b.quad) pts.emplace_back(p.x, p.y);
    vision::draw_polygon(img, pts, c, 2);
}

std::unique_ptr<Session> open_session(const std::string& path, int threads) {
    SessionOptions so;
    so.num_threads = std::max(1, threads);
    return std::make_unique<Session>(load_model(path), so);
}

// Runs a one-input model on a batch and returns its first output.
Tensor run_first(Session& s, const Tensor& x) {
    const Graph& g = s.graph();
    NamedTensors out = s.run({{g.value(g.inputs[0]).name, x}});
    if (out.empty()) fail("model has no outputs");
    return out[0].second;
}

// Recognizes straightened crops in one batch padded to the widest (PP-OCR's rec batching).
// Recognizes straightened crops in batches of kRecBatch similar widths (sorted by aspect,
// PP-OCR's rec batching), each padded to its widest crop; results in the crops' order.
// Batches bound the memory whatever the number of boxes.
constexpr size_t kRecBatch = 8;
constexpr int kRecMaxWidth = 8192;  // a crop wider than 170:1 is squeezed to this

std::vector<vision::CtcText> recognize(Session& rec, const vision::Image& img, const std::vector<vision::QuadCrop>& crops,
                                       const std::vector<std::string>& charset) {
    std::vector<vision::CtcText> out(crops.size());
    std::vector<size_t> order(crops.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    auto aspect = [&](size_t i) { return double(crops[i].width) / std::max(crops[i].height, 1); };
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return aspect(a) < aspect(b); });
    for (size_t b0 = 0; b0 < order.size(); b0 += kRecBatch) {
        size_t n = std::min(kRecBatch, order.size() - b0);
        int width = kRecMinWidth;
        for (size_t k = 0; k < n; ++k)
            width = std::max(width, vision::resized_width(crops[order[b0 + k]], kRecHeight, kRecMaxWidth));
        Tensor x = Tensor::uninitialized(DType::F32, {int64_t(n), 3, kRecHeight, width});
        const size_t per = size_t(3) * kRecHeight * size_t(width);
        for (size_t k = 0; k < n; ++k) {
            const auto& c = crops[order[b0 + k]];
            vision::sample_crop_chw(view_of(img), c, kRecHeight, vision::resized_width(c, kRecHeight, width), width,
                                    vision::CropNormalize{}, x.data<float>() + k * per);
        }
        Tensor y = run_first(rec, x);
        if (y.rank() != 3 || y.dim(0) != int64_t(n))
            fail("text-recognize: output " + shape_str(y.shape()) + " is not [N,T,C] scores (a PP-OCR rec model?)");
        auto texts = vision::ctc_greedy_decode(y, charset);
        for (size_t k = 0; k < n; ++k) out[order[b0 + k]] = std::move(texts[k]);
    }
    return out;
}

// --------------------------------------------------------------------------------------

class TextDetectTask : public Task {
public:
    explicit TextDetectTask(const TaskOptions& o) : opt_(o) {}
    TaskResult process(const TaskFrame& f) override {
        auto boxes = vision::db_postprocess(prob_map(f, opt_), db_options(f, opt_));
        vision::sort_text_boxes(boxes);
        TaskResult r;
        r.overlay = rgb_copy(f.image);
        char buf[64];
        std::snprintf(buf, sizeof buf, "%zu text boxes", boxes.size());
        r.lines.push_back(buf);
        for (size_t i = 0; i < boxes.size(); ++i) {
            std::snprintf(buf, sizeof buf, "box %zu: score %.3f  ", i + 1, double(boxes[i].score));
            r.lines.push_back(buf + quad_str(boxes[i]));
            draw_quad(r.overlay, boxes[i], vision::palette_color(int(i) + 1));
        }
        return r;
    }

private:
    TaskOptions opt_;
};

class TextRecognizeTask : public Task {
public:
    explicit TextRecognizeTask(const TaskOptions& o) : opt_(o) {
        if (o.class_names.empty()) fail("--task text-recognize needs --class-names KEYS.txt (e.g. ppocr_keys_v1.txt)");
        charset_ = vision::load_ctc_charset(o.class_names);
    }
    TaskResult process(const TaskFrame& f) override {
        // The whole photo is one text line: height 48, width keeping its aspect. When the
        // CLI's input already has that shape its outputs are used; otherwise (the generic
        // preprocessing cannot keep a line's aspect) the model runs again on the right input.
        vision::QuadCrop whole;
        float w = float(f.image.width), h = float(f.image.height);
        whole.quad = {vision::PointF{0, 0}, vision::PointF{w, 0}, vision::PointF{w, h}, vision::PointF{0, h}};
        whole.width = f.image.width;
        whole.height = f.image.height;
        int rw = vision::resized_width(whole, kRecHeight, 1 << 14);
        vision::CtcText t;
        const Tensor& y = task_output(f, opt_.param_or("output", ""));
        if (f.geometry.tensor_height == kRecHeight && std::abs(f.geometry.tensor_width - rw) <= 1 && y.rank() == 3) {
            t = vision::ctc_greedy_decode(y, charset_).at(0);
        } else {
            if (!own_) own_ = open_session(opt_.model, opt_.threads);
            t = recognize(*own_, f.image, {whole}, charset_).at(0);
        }
        TaskResult r;
        char buf[64];
        std::snprintf(buf, sizeof buf, "  confidence %.3f", double(t.confidence));
        r.lines.push_back("text: \"" + t.text + "\"" + buf);
        return r;
    }

private:
    TaskOptions opt_;
    std::vector<std::string> charset_;
    std::unique_ptr<Session> own_;
};

class OcrTask : public Task {
public:
    explicit OcrTask(const TaskOptions& o) : opt_(o) {
        if (o.rec_model.empty()) fail("--task ocr needs --rec-model REC_MODEL (a PP-OCR rec model)");
        if (o.class_names.empty()) fail("--task ocr needs --class-names KEYS.txt (the rec model's ppocr_keys_v1.txt)");
        charset_ = vision::load_ctc_charset(o.class_names);
        rec_ = open_session(o.rec_model, o.threads);
        if (!o.cls_model.empty()) cls_ = open_session(o.cls_model, o.threads);
        cls_threshold_ = param_float(o, "cls-threshold", 0.9f);
    }
    TaskResult process(const TaskFrame& f) override {
        auto t0 = std::chrono::steady_clock::now();
        auto boxes = vision::db_postprocess(prob_map(f, opt_), db_options(f, opt_));
        vision::sort_text_boxes(boxes);
        const double db_ms = ms_since(t0);
        t0 = std::chrono::steady_clock::now();
        size_t cls_windows = 0;
        std::vector<vision::QuadCrop> crops;
        for (const auto& b : boxes) crops.push_back(vision::straighten_quad(b.quad));
        // Orientation: the cls model scores [0°, 180°] per crop at 48x192. PP-OCR squeezes
        // the whole line into that; on long lines (aspect 30+) the squeeze makes the model
        // unreliable (it called upright lines of imageTextN.png 180° at 0.93), so lines
        // longer than 6:1 are judged on three 4:1 windows (left, middle, right) whose 180°
        // scores are averaged. A turn is then also checked: both orientations are
        // recognized and the more confident reading wins.
        std::vector<char> proposed(crops.size(), 0);
        if (cls_ && !crops.empty()) {
            std::vector<vision::QuadCrop> windows;
            std::vector<size_t> first(crops.size() + 1, 0);
            for (size_t i = 0; i < crops.size(); ++i) {
                first[i] = windows.size();
                const auto& c = crops[i];
                float aspect = float(c.width) / float(std::max(c.height, 1));
                if (aspect <= 6.0f) {
                    windows.push_back(c);
                } else {
                    float w = 4.0f / aspect;
                    for (float s0 : {0.0f, 0.5f - 0.5f * w, 1.0f - w}) windows.push_back(vision::sub_crop(c, s0, s0 + w));
                }
            }
            first[crops.size()] = windows.size();
            cls_windows = windows.size();
            Tensor x = Tensor::uninitialized(DType::F32, {int64_t(windows.size()), 3, kRecHeight, kClsWidth});
            const size_t per = size_t(3) * kRecHeight * kClsWidth;
            for (size_t i = 0; i < windows.size(); ++i)
                vision::sample_crop_chw(view_of(f.image), windows[i], kRecHeight,
                                        vision::resized_width(windows[i], kRecHeight, kClsWidth), kClsWidth,
                                        vision::CropNormalize{}, x.data<float>() + i * per);
            Tensor y = run_first(*cls_, x);
            if (y.rank() != 2 || y.dim(0) != int64_t(windows.size()) || y.dim(1) != 2)
                fail("ocr: the --cls-model output " + shape_str(y.shape()) + " is not [N,2] orientation scores");
            for (size_t i = 0; i < crops.size(); ++i) {
                double up = 0, down = 0;
                for (size_t k = first[i]; k < first[i + 1]; ++k) {
                    up += y.data<float>()[2 * k];
                    down += y.data<float>()[2 * k + 1];
                }
                double n = double(first[i + 1] - first[i]);
                proposed[i] = down > up && down / n > cls_threshold_;
            }
        }
        const double cls_ms = ms_since(t0);
        t0 = std::chrono::steady_clock::now();
        std::vector<vision::QuadCrop> batch = crops;
        std::vector<size_t> turned_at(crops.size(), 0);  // index in batch of the turned crop
        for (size_t i = 0; i < crops.size(); ++i)
            if (proposed[i]) {
                turned_at[i] = batch.size();
                batch.push_back(vision::rotate_180(crops[i]));
            }
        auto all = recognize(*rec_, f.image, batch, charset_);
        std::vector<vision::CtcText> texts(all.begin(), all.begin() + std::ptrdiff_t(crops.size()));
        std::vector<char> turned(crops.size(), 0);
        for (size_t i = 0; i < crops.size(); ++i)
            if (proposed[i] && all[turned_at[i]].confidence > texts[i].confidence) {
                texts[i] = all[turned_at[i]];
                turned[i] = 1;
            }
        const double rec_ms = ms_since(t0);
        TaskResult r;
        r.overlay = rgb_copy(f.image);
        char buf[160];
        std::snprintf(buf, sizeof buf, "%zu text lines (DB post-process %.2f ms, cls %.1f ms on %zu crops, rec %.1f ms on %zu crops)",
                      boxes.size(), db_ms, cls_ms, cls_windows, rec_ms, batch.size());
        r.lines.push_back(buf);
        for (size_t i = 0; i < boxes.size(); ++i) {
            std::snprintf(buf, sizeof buf, "line %zu: conf %.3f%s  box ", i + 1, double(texts[i].confidence),
                          turned[i] ? " (turned 180)" : "");
            r.lines.push_back(buf + quad_str(boxes[i]) + "  \"" + texts[i].text + "\"");
            draw_quad(r.overlay, boxes[i], vision::palette_color(int(i) + 1));
        }
        return r;
    }

private:
    TaskOptions opt_;
    std::vector<std::string> charset_;
    std::unique_ptr<Session> rec_, cls_;
    float cls_threshold_ = 0.9f;
};

}  // namespace

EDGECNN_REGISTER_TASK(text_detect, {"text-detect", "PP-OCR DB text boxes (--threshold box score, default 0.6)",
                                    [](const TaskOptions& o) { return std::make_unique<TextDetectTask>(o); },
                                    det_defaults});
EDGECNN_REGISTER_TASK(text_recognize, {"text-recognize", "PP-OCR rec: CTC text of a line photo (--class-names KEYS.txt)",
                                       [](const TaskOptions& o) { return std::make_unique<TextRecognizeTask>(o); },
                                       rec_defaults});
EDGECNN_REGISTER_TASK(ocr, {"ocr", "PP-OCR det -> crop -> cls -> rec (--rec-model, --cls-model, --class-names KEYS.txt)",
                            [](const TaskOptions& o) { return std::make_unique<OcrTask>(o); }, det_defaults});

}  // namespace edgecnn::cli
