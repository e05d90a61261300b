#include "vision/postprocess/db_text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>

#include "base/error.hpp"

namespace edgecnn::vision {

BoxF TextBox::bounds() const {
    BoxF b{quad[0].x, quad[0].y, quad[0].x, quad[0].y};
    for (const auto& p : quad) {
        b.x0 = std::min(b.x0, p.x); b.y0 = std::min(b.y0, p.y);
        b.x1 = std::max(b.x1, p.x); b.y1 = std::max(b.y1, p.y);
    }
    return b;
}

namespace {

struct Run {
    int32_t y, x0, x1;  // inclusive pixel range on row y
    uint32_t parent;    // union-find over runs
    float sum;          // probability summed over the run (for the box score)
};

uint32_t find_root(std::vector<Run>& runs, uint32_t i) {
    while (runs[i].parent != i) {
        runs[i].parent = runs[runs[i].parent].parent;  // path halving
        i = runs[i].parent;
    }
    return i;
}

void unite(std::vector<Run>& runs, uint32_t a, uint32_t b) {
    a = find_root(runs, a);
    b = find_root(runs, b);
    if (a == b) return;
    if (a < b) runs[b].parent = a;  // the earlier run (top-most) stays the root
    else runs[a].parent = b;
}

double cross(const PointF& o, const PointF& a, const PointF& b) {
    return double(a.x - o.x) * double(b.y - o.y) - double(a.y - o.y) * double(b.x - o.x);
}

// Andrew's monotone chain over points already sorted by (y, x): O(n).
std::vector<PointF> hull_sorted(const std::vector<PointF>& p) {
    size_t n = p.size();
    if (n < 3) return p;
    std::vector<PointF> h(2 * n);
    size_t k = 0;
    for (size_t i = 0; i < n; ++i) {
        while (k >= 2 && cross(h[k - 2], h[k - 1], p[i]) <= 0) --k;
        h[k++] = p[i];
    }
    for (size_t i = n - 1, t = k + 1; i-- > 0;) {
        while (k >= t && cross(h[k - 2], h[k - 1], p[i]) <= 0) --k;
        h[k++] = p[i];
    }
    h.resize(k - 1);
    return h;
}

// PP-OCR's corner order: of the two left-most corners the upper is top-left, of the two
// right-most the upper is top-right.
std::array<PointF, 4> order_corners(std::array<PointF, 4> c) {
    std::sort(c.begin(), c.end(), [](const PointF& a, const PointF& b) { return a.x < b.x || (a.x == b.x && a.y < b.y); });
    PointF tl = c[0], bl = c[1], tr = c[2], br = c[3];
    if (bl.y < tl.y) std::swap(tl, bl);
    if (br.y < tr.y) std::swap(tr, br);
    return {tl, tr, br, bl};
}

float dist(const PointF& a, const PointF& b) { return std::hypot(a.x - b.x, a.y - b.y); }

}  // namespace

namespace {
// Points sorted by (y, x) without duplicates (db_postprocess's row extremes are).
std::array<PointF, 4> min_area_rect_sorted(const std::vector<PointF>& pts, float* width, float* height) {
    std::vector<PointF> h = hull_sorted(pts);
    if (h.empty()) fail("min_area_rect: no points");
    // Try every hull edge as a side (the optimum has a side on a hull edge).
    double best = std::numeric_limits<double>::infinity();
    double bux = 1, buy = 0, bmin_u = 0, bmax_u = 0, bmin_v = 0, bmax_v = 0;
    size_t m = h.size();
    for (size_t i = 0; i < std::max<size_t>(m, 1); ++i) {
        double ux = 1, uy = 0;
        if (m >= 2) {
            const PointF& a = h[i];
            const PointF& b = h[(i + 1) % m];
            double len = std::hypot(double(b.x - a.x), double(b.y - a.y));
            if (len == 0) continue;
            ux = (b.x - a.x) / len;
            uy = (b.y - a.y) / len;
        }
        double mnu = 1e300, mxu = -1e300, mnv = 1e300, mxv = -1e300;
        for (const auto& p : h) {
            double u = p.x * ux + p.y * uy, v = -p.x * uy + p.y * ux;
            mnu = std::min(mnu, u); mxu = std::max(mxu, u);
            mnv = std::min(mnv, v); mxv = std::max(mxv, v);
        }
        double area = (mxu - mnu) * (mxv - mnv);
        if (area < best - 1e-9) {
            best = area;
            bux = ux; buy = uy; bmin_u = mnu; bmax_u = mxu; bmin_v = mnv; bmax_v = mxv;
        }
    }
    auto corner = [&](double u, double v) { return PointF{float(u * bux - v * buy), float(u * buy + v * bux)}; };
    std::array<PointF, 4> c{corner(bmin_u, bmin_v), corner(bmax_u, bmin_v), corner(bmax_u, bmax_v), corner(bmin_u, bmax_v)};
    c = order_corners(c);
    if (width) *width = dist(c[0], c[1]);
    if (height) *height = dist(c[0], c[3]);
    return c;
}
}  // namespace

std::array<PointF, 4> min_area_rect(const std::vector<PointF>& pts_in, float* width, float* height) {
    std::vector<PointF> pts = pts_in;
    std::sort(pts.begin(), pts.end(), [](const PointF& a, const PointF& b) { return a.y < b.y || (a.y == b.y && a.x < b.x); });
    pts.erase(std::unique(pts.begin(), pts.end(), [](const PointF& a, const PointF& b) { return a.x == b.x && a.y == b.y; }),
              pts.end());
    return min_area_rect_sorted(pts, width, height);
}

std::vector<TextBox> db_postprocess(const Tensor& prob, const DbOptions& opt) {
    if (prob.dtype() != DType::F32) fail("text-detect: expected a float32 probability map, got " + dtype_name(prob.dtype()));
    const Shape& s = prob.shape();
    bool ok = (s.size() == 4 && s[0] == 1 && s[1] == 1) || (s.size() == 3 && s[0] == 1) || s.size() == 2;
    if (!ok) fail("text-detect: expected a probability map [1,1,H,W], got " + shape_str(s));
    const int64_t H = s[s.size() - 2], W = s[s.size() - 1];
    if (H > std::numeric_limits<int32_t>::max() || W > std::numeric_limits<int32_t>::max())
        fail("text-detect: probability map too large " + shape_str(s));
    const float* p = prob.data<float>();

    // 1. Runs of text pixels, united with 8-connected runs of the row above.
    std::vector<Run> runs;
    size_t prev_begin = 0, prev_end = 0;
    for (int64_t y = 0; y < H; ++y) {
        const float* row = p + y * W;
        size_t cur_begin = runs.size();
        for (int64_t x = 0; x < W;) {
            if (!(row[x] > opt.threshold)) { ++x; continue; }
            int64_t x0 = x;
            float sum = 0;
            while (x < W && row[x] > opt.threshold) sum += row[x++];
            runs.push_back({int32_t(y), int32_t(x0), int32_t(x - 1), uint32_t(runs.size()), sum});
        }
        size_t cur_end = runs.size();
        size_t j = prev_begin;
        for (size_t i = cur_begin; i < cur_end; ++i) {
            while (j < prev_end && runs[j].x1 < runs[i].x0 - 1) ++j;
            for (size_t k = j; k < prev_end && runs[k].x0 <= runs[i].x1 + 1; ++k) unite(runs, uint32_t(i), uint32_t(k));
        }
        prev_begin = cur_begin;
        prev_end = cur_end;
    }
    // 2. Component ids in order of their first run; runs grouped per component (counting sort).
    std::vector<uint32_t> comp_of_root(runs.size(), UINT32_MAX), comp(runs.size());
    uint32_t ncomp = 0;
    for (size_t i = 0; i < runs.size(); ++i) {
        uint32_t r = find_root(runs, uint32_t(i));
        if (comp_of_root[r] == UINT32_MAX) comp_of_root[r] = ncomp++;
        comp[i] = comp_of_root[r];
    }
    std::vector<uint32_t> start(ncomp + 1, 0), order(runs.size());
    for (uint32_t c : comp) ++start[c + 1];
    std::partial_sum(start.begin(), start.end(), start.begin());
    {
        std::vector<uint32_t> fill(start.begin(), start.end() - 1);
        for (size_t i = 0; i < runs.size(); ++i) order[fill[comp[i]]++] = uint32_t(i);
    }
    // 3. Per component: row extremes -> rectangle -> score, size, unclip, scale.
    const float img_w = opt.image_width > 0 ? opt.image_width : float(W) * opt.scale_x;
    const float img_h = opt.image_height > 0 ? opt.image_height : float(H) * opt.scale_y;
    std::vector<TextBox> out;
    std::vector<PointF> pts;
    uint32_t limit = std::min<uint32_t>(ncomp, uint32_t(std::max(opt.max_candidates, 0)));
    for (uint32_t c = 0; c < limit; ++c) {
        pts.clear();
        double sum = 0, count = 0;
        for (uint32_t k = start[c]; k < start[c + 1];) {
            const Run& first = runs[order[k]];
            int32_t y = first.y, mn = first.x0, mx = first.x1;
            for (; k < start[c + 1] && runs[order[k]].y == y; ++k) {
                const Run& r = runs[order[k]];
                mn = std::min(mn, r.x0);
                mx = std::max(mx, r.x1);
                sum += r.sum;
                count += r.x1 - r.x0 + 1;
            }
            pts.push_back({float(mn), float(y)});
            if (mx != mn) pts.push_back({float(mx), float(y)});
        }
        float w = 0, h = 0;
        auto rect = min_area_rect_sorted(pts, &w, &h);  // rows in order: already sorted
        if (std::min(w, h) < opt.min_size) continue;
        float score = float(sum / count);
        if (score < opt.box_threshold) continue;
        // Unclip: grow every side by area * ratio / perimeter.
        float d = w * h * opt.unclip_ratio / (2.0f * (w + h));
        PointF ctr{0.25f * (rect[0].x + rect[1].x + rect[2].x + rect[3].x), 0.25f * (rect[0].y + rect[1].y + rect[2].y + rect[3].y)};
        PointF u{w > 0 ? (rect[1].x - rect[0].x) / w : 1.0f, w > 0 ? (rect[1].y - rect[0].y) / w : 0.0f};
        PointF v{h > 0 ? (rect[3].x - rect[0].x) / h : 0.0f, h > 0 ? (rect[3].y - rect[0].y) / h : 1.0f};
        float hw = 0.5f * w + d, hh = 0.5f * h + d;
        if (std::min(w, h) + 2 * d < opt.min_size + 2) continue;
        TextBox tb;
        const float su[4] = {-1, 1, 1, -1}, sv[4] = {-1, -1, 1, 1};
        for (int i = 0; i < 4; ++i) {
            float x = ctr.x + su[i] * hw * u.x + sv[i] * hh * v.x;
            float y = ctr.y + su[i] * hw * u.y + sv[i] * hh * v.y;
            tb.quad[size_t(i)] = {std::clamp(x * opt.scale_x + opt.offset_x, 0.0f, img_w),
                                  std::clamp(y * opt.scale_y + opt.offset_y, 0.0f, img_h)};
        }
        tb.quad = order_corners(tb.quad);
        // PP-OCR drops boxes 3 pixels or less wide/high in the image.
        if (dist(tb.quad[0], tb.quad[1]) <= 3 || dist(tb.quad[0], tb.quad[3]) <= 3) continue;
        tb.score = score;
        out.push_back(tb);
    }
    return out;
}

void sort_text_boxes(std::vector<TextBox>& b, float same_line_px) {
    std::stable_sort(b.begin(), b.end(), [](const TextBox& a, const TextBox& c) {
        return a.quad[0].y < c.quad[0].y || (a.quad[0].y == c.quad[0].y && a.quad[0].x < c.quad[0].x);
    });
    for (size_t i = 0; i + 1 < b.size(); ++i)
        for (size_t j = i + 1; j-- > 0;) {
            if (std::abs(b[j + 1].quad[0].y - b[j].quad[0].y) < same_line_px && b[j + 1].quad[0].x < b[j].quad[0].x)
                std::swap(b[j], b[j + 1]);
            else
                break;
        }
}

}  // namespace edgecnn::vision
