#include "vision/postprocess/boxes.hpp"

#include <algorithm>
#include <numeric>

namespace edgecnn::vision {

float iou(const BoxF& a, const BoxF& b) {
    float ix = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
    float iy = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
    if (ix <= 0 || iy <= 0) return 0.0f;
    float inter = ix * iy;
    float uni = a.area() + b.area() - inter;
    return uni > 0 ? inter / uni : 0.0f;
}

BoxF clip_box(const BoxF& b, float x_max, float y_max) {
    auto c = [](float v, float hi) { return std::clamp(v, 0.0f, hi); };
    return {c(b.x0, x_max), c(b.y0, y_max), c(b.x1, x_max), c(b.y1, y_max)};
}

std::vector<Detection> nms(std::vector<Detection> cand, const NmsOptions& opt) {
    std::erase_if(cand, [&](const Detection& d) { return !(d.score >= opt.score_threshold); });
    std::vector<uint32_t> order(cand.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return cand[a].score > cand[b].score; });
    std::vector<Detection> kept;
    std::vector<char> removed(cand.size(), 0);
    size_t limit = opt.top_k > 0 ? size_t(opt.top_k) : cand.size();
    for (size_t oi = 0; oi < order.size() && kept.size() < limit; ++oi) {
        uint32_t i = order[oi];
        if (removed[i]) continue;
        const Detection& top = cand[i];
        if (!opt.weighted) {
            kept.push_back(top);
            for (size_t oj = oi + 1; oj < order.size(); ++oj) {
                uint32_t j = order[oj];
                if (removed[j] || (opt.per_class && cand[j].label != top.label)) continue;
                if (iou(top.box, cand[j].box) > opt.iou_threshold) removed[j] = 1;
            }
            continue;
        }
        // Blend the top box with every box it suppresses, weighted by score.
        Detection blended = top;
        double wsum = top.score;
        double bx0 = top.box.x0 * double(top.score), by0 = top.box.y0 * double(top.score);
        double bx1 = top.box.x1 * double(top.score), by1 = top.box.y1 * double(top.score);
        std::vector<double> kp(top.keypoints.size() * 2);
        for (size_t k = 0; k < top.keypoints.size(); ++k) {
            kp[2 * k] = top.keypoints[k].x * double(top.score);
            kp[2 * k + 1] = top.keypoints[k].y * double(top.score);
        }
        for (size_t oj = oi + 1; oj < order.size(); ++oj) {
            uint32_t j = order[oj];
            const Detection& d = cand[j];
            if (removed[j] || (opt.per_class && d.label != top.label)) continue;
            if (iou(top.box, d.box) <= opt.iou_threshold) continue;
            removed[j] = 1;
            double w = d.score;
            wsum += w;
            bx0 += d.box.x0 * w; by0 += d.box.y0 * w; bx1 += d.box.x1 * w; by1 += d.box.y1 * w;
            for (size_t k = 0; k < kp.size() / 2 && k < d.keypoints.size(); ++k) {
                kp[2 * k] += d.keypoints[k].x * w;
                kp[2 * k + 1] += d.keypoints[k].y * w;
            }
        }
        if (wsum > 0) {
            blended.box = {float(bx0 / wsum), float(by0 / wsum), float(bx1 / wsum), float(by1 / wsum)};
            for (size_t k = 0; k < blended.keypoints.size(); ++k)
                blended.keypoints[k] = {float(kp[2 * k] / wsum), float(kp[2 * k + 1] / wsum)};
        }
        kept.push_back(std::move(blended));
    }
    return kept;
}

}  // namespace edgecnn::vision
