#include "vision/postprocess/detect_decode.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/error.hpp"

namespace edgecnn::vision {

namespace {

// Rows of a [1,N,W] (or [N,W] / [N]) float tensor: N and W.
void rows_of(const Tensor& t, const char* what, int64_t& n, int64_t& w) {
    if (t.dtype() != DType::F32) fail(std::string(what) + ": expected float32, got " + dtype_name(t.dtype()));
    const Shape& s = t.shape();
    if (s.size() == 3 && s[0] == 1) { n = s[1]; w = s[2]; }
    else if (s.size() == 2) { n = s[0]; w = s[1]; }
    else if (s.size() == 1) { n = s[0]; w = 1; }
    else fail(std::string(what) + ": expected shape [1,N,W], got " + shape_str(s));
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace

BlazeFaceAnchorOptions blazeface_front_options() { return {}; }

BlazeFaceAnchorOptions blazeface_back_options() {
    BlazeFaceAnchorOptions o;
    o.input_width = o.input_height = 256;
    o.strides = {16, 32, 32, 32};
    return o;
}

std::vector<Anchor> blazeface_anchors(const BlazeFaceAnchorOptions& opt) {
    if (opt.input_width <= 0 || opt.input_height <= 0) fail("BlazeFace anchors: input size must be positive");
    std::vector<Anchor> out;
    size_t layer = 0;
    while (layer < opt.strides.size()) {
        int stride = opt.strides[layer];
        if (stride <= 0) fail("BlazeFace anchors: strides must be positive");
        size_t last = layer;
        int per_cell = 0;
        while (last < opt.strides.size() && opt.strides[last] == stride) {
            per_cell += opt.anchors_per_layer;
            ++last;
        }
        int gh = (opt.input_height + stride - 1) / stride, gw = (opt.input_width + stride - 1) / stride;
        for (int y = 0; y < gh; ++y)
            for (int x = 0; x < gw; ++x)
                for (int a = 0; a < per_cell; ++a)
                    out.push_back({(x + opt.offset) / float(gw), (y + opt.offset) / float(gh), 1.0f, 1.0f});
        layer = last;
    }
    return out;
}

std::vector<Detection> decode_blazeface(const std::vector<Tensor>& scores, const std::vector<Tensor>& regressors,
                                        const std::vector<Anchor>& anchors, const BlazeFaceAnchorOptions& aopt,
                                        const BlazeFaceDecodeOptions& opt) {
    if (scores.size() != regressors.size() || scores.empty())
        fail("BlazeFace: expected matching score and box outputs, got " + std::to_string(scores.size()) + " and " +
             std::to_string(regressors.size()));
    const int need = 4 + 2 * opt.num_keypoints;
    int64_t total = 0;
    for (size_t i = 0; i < scores.size(); ++i) {
        int64_t n, w, rn, rw;
        rows_of(scores[i], "BlazeFace scores", n, w);
        rows_of(regressors[i], "BlazeFace boxes", rn, rw);
        if (w != 1) fail("BlazeFace scores: expected one logit per anchor, got " + shape_str(scores[i].shape()));
        if (rn != n || rw < need)
            fail("BlazeFace boxes: expected [1," + std::to_string(n) + "," + std::to_string(need) + "], got " +
                 shape_str(regressors[i].shape()));
        total += n;
    }
    if (total != int64_t(anchors.size()))
        fail("BlazeFace: the model has " + std::to_string(total) + " anchors, the anchor options give " +
             std::to_string(anchors.size()) + " (wrong model size or strides?)");
    const float sx = 1.0f / float(aopt.input_width), sy = 1.0f / float(aopt.input_height);
    std::vector<Detection> cand;
    size_t a = 0;
    for (size_t i = 0; i < scores.size(); ++i) {
        const float* s = scores[i].data<float>();
        const float* r = regressors[i].data<float>();
        int64_t n = scores[i].numel(), rw = regressors[i].numel() / std::max<int64_t>(n, 1);
        for (int64_t k = 0; k < n; ++k, ++a) {
            float logit = std::clamp(s[k], -opt.logit_clip, opt.logit_clip);
            float score = sigmoid(logit);
            if (!(score >= opt.score_threshold)) continue;
            const float* v = r + k * rw;
            const Anchor& an = anchors[a];
            float cx = v[0] * sx * an.w + an.cx, cy = v[1] * sy * an.h + an.cy;
            float w = v[2] * sx * an.w, h = v[3] * sy * an.h;
            Detection d;
            d.box = {cx - 0.5f * w, cy - 0.5f * h, cx + 0.5f * w, cy + 0.5f * h};
            d.score = score;
            d.keypoints.resize(size_t(opt.num_keypoints));
            for (int p = 0; p < opt.num_keypoints; ++p)
                d.keypoints[size_t(p)] = {v[4 + 2 * p] * sx * an.w + an.cx, v[5 + 2 * p] * sy * an.h + an.cy};
            cand.push_back(std::move(d));
        }
    }
    NmsOptions nopt;
    nopt.iou_threshold = opt.iou_threshold;
    nopt.score_threshold = opt.score_threshold;
    nopt.weighted = opt.weighted_nms;
    return nms(std::move(cand), nopt);
}

SsdPriorOptions ssdlite_prior_options(int input_height, int input_width) {
    if (input_height <= 0 || input_width <= 0) fail("SSD priors: input size must be positive");
    SsdPriorOptions o;
    int h = (input_height + 15) / 16, w = (input_width + 15) / 16;
    for (int k = 0; k < 6; ++k) {
        o.grid_sizes.emplace_back(h, w);
        o.aspect_ratios.push_back({2.0f, 3.0f});
        h = (h + 1) / 2;
        w = (w + 1) / 2;
    }
    return o;
}

std::vector<Anchor> ssd_priors(const SsdPriorOptions& opt) {
    size_t m = opt.grid_sizes.size();
    if (m == 0 || opt.aspect_ratios.size() != m) fail("SSD priors: need one aspect-ratio list per feature map");
    std::vector<double> scales;
    for (size_t k = 0; k < m; ++k)
        scales.push_back(m > 1 ? opt.min_ratio + (opt.max_ratio - opt.min_ratio) * double(k) / double(m - 1)
                               : opt.min_ratio);
    scales.push_back(1.0);
    std::vector<Anchor> out;
    for (size_t k = 0; k < m; ++k) {
        std::vector<std::pair<float, float>> wh;
        double sk = scales[k], sp = std::sqrt(scales[k] * scales[k + 1]);
        wh.emplace_back(float(sk), float(sk));
        wh.emplace_back(float(sp), float(sp));
        for (float ar : opt.aspect_ratios[k]) {
            double q = std::sqrt(double(ar));
            wh.emplace_back(float(sk * q), float(sk / q));
            wh.emplace_back(float(sk / q), float(sk * q));
        }
        if (opt.clip)
            for (auto& [w, h] : wh) {
                w = std::clamp(w, 0.0f, 1.0f);
                h = std::clamp(h, 0.0f, 1.0f);
            }
        auto [gh, gw] = opt.grid_sizes[k];
        if (gh <= 0 || gw <= 0) fail("SSD priors: grid sizes must be positive");
        for (int y = 0; y < gh; ++y)
            for (int x = 0; x < gw; ++x)
                for (auto [w, h] : wh) out.push_back({(x + 0.5f) / float(gw), (y + 0.5f) / float(gh), w, h});
    }
    return out;
}

namespace {
// log(1000/16): torchvision's BoxCoder clamp on dw, dh so exp() cannot overflow.
const float kMaxLogScale = std::log(1000.0f / 16.0f);
}

void ssd_encode(const BoxF& box, const Anchor& p, const float wt[4], float out[4]) {
    float cx = 0.5f * (box.x0 + box.x1), cy = 0.5f * (box.y0 + box.y1);
    out[0] = wt[0] * (cx - p.cx) / p.w;
    out[1] = wt[1] * (cy - p.cy) / p.h;
    out[2] = wt[2] * std::log(box.width() / p.w);
    out[3] = wt[3] * std::log(box.height() / p.h);
}

std::vector<Detection> decode_ssd(const Tensor& cls, const Tensor& reg, const std::vector<Anchor>& priors,
                                  const SsdDecodeOptions& opt) {
    int64_t a, c, ra, rw;
    rows_of(cls, "SSD class scores", a, c);
    rows_of(reg, "SSD box regression", ra, rw);
    if (ra != a || rw != 4)
        fail("SSD box regression: expected [1," + std::to_string(a) + ",4], got " + shape_str(reg.shape()));
    if (a != int64_t(priors.size()))
        fail("SSD: the model has " + std::to_string(a) + " anchors, the prior options give " +
             std::to_string(priors.size()) + " (input size or grid sizes wrong?)");
    if (c < 2) fail("SSD class scores: need at least 2 classes (background + 1), got " + std::to_string(c));
    const float* lp = cls.data<float>();
    const float* rp = reg.data<float>();
    // Per class: candidates over the threshold; at most top_k_per_class each.
    std::vector<std::vector<Detection>> per_class(static_cast<size_t>(c));
    std::vector<float> prob(static_cast<size_t>(c));
    for (int64_t i = 0; i < a; ++i) {
        const float* l = lp + i * c;
        if (opt.softmax) {
            float mx = *std::max_element(l, l + c);
            // p_j = exp(l_j - logsumexp) <= exp(l_j - max): skip the exps of anchors where no
            // class but the background can pass (almost all of them).
            float mx_obj = -std::numeric_limits<float>::infinity();
            for (int64_t j = 0; j < c; ++j)
                if (j != opt.background_class) mx_obj = std::max(mx_obj, l[j]);
            if (std::exp(mx_obj - mx) <= opt.score_threshold) continue;
            double sum = 0;
            for (int64_t j = 0; j < c; ++j) sum += (prob[size_t(j)] = std::exp(l[j] - mx));
            for (auto& p : prob) p = float(p / sum);
        } else {
            std::copy(l, l + c, prob.begin());
        }
        bool any = false;
        for (int64_t j = 0; j < c; ++j)
            if (j != opt.background_class && prob[size_t(j)] > opt.score_threshold) any = true;
        if (!any) continue;
        const float* r = rp + i * 4;
        const Anchor& p = priors[size_t(i)];
        float dx = r[0] / opt.weights[0], dy = r[1] / opt.weights[1];
        float dw = std::min(r[2] / opt.weights[2], kMaxLogScale), dh = std::min(r[3] / opt.weights[3], kMaxLogScale);
        float cx = dx * p.w + p.cx, cy = dy * p.h + p.cy, w = std::exp(dw) * p.w, h = std::exp(dh) * p.h;
        BoxF box = clip_box({cx - 0.5f * w, cy - 0.5f * h, cx + 0.5f * w, cy + 0.5f * h}, 1.0f, 1.0f);
        for (int64_t j = 0; j < c; ++j)
            if (j != opt.background_class && prob[size_t(j)] > opt.score_threshold)
                per_class[size_t(j)].push_back({box, prob[size_t(j)], int(j), {}});
    }
    std::vector<Detection> all;
    NmsOptions nopt;
    nopt.iou_threshold = opt.iou_threshold;
    nopt.per_class = true;
    for (auto& v : per_class) {
        if (v.empty()) continue;
        if (opt.top_k_per_class > 0 && v.size() > size_t(opt.top_k_per_class)) {
            std::stable_sort(v.begin(), v.end(), [](const Detection& x, const Detection& y) { return x.score > y.score; });
            v.resize(size_t(opt.top_k_per_class));
        }
        auto kept = nms(std::move(v), nopt);
        all.insert(all.end(), std::make_move_iterator(kept.begin()), std::make_move_iterator(kept.end()));
    }
    std::stable_sort(all.begin(), all.end(), [](const Detection& x, const Detection& y) { return x.score > y.score; });
    if (opt.max_detections > 0 && all.size() > size_t(opt.max_detections)) all.resize(size_t(opt.max_detections));
    return all;
}

}  // namespace edgecnn::vision
