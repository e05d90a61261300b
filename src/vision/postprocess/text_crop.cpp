#include "vision/postprocess/text_crop.hpp"

#include <algorithm>
#include <cmath>

#include "base/error.hpp"

namespace edgecnn::vision {

namespace {
float dist(const PointF& a, const PointF& b) { return std::hypot(a.x - b.x, a.y - b.y); }

// Unit square -> quad (q0 at (0,0), q1 at (1,0), q2 at (1,1), q3 at (0,1)): the projective
// map X = (a s + b t + c) / (g s + h t + 1), Y = (d s + e t + f) / (g s + h t + 1).
struct Homography {
    double a, b, c, d, e, f, g, h;
};

// OpenCV's bicubic kernel (a = -0.75) at fraction t: weights of taps -1, 0, 1, 2.
void cubic_weights(float t, float* w) {
    const float A = -0.75f;
    float t1 = t + 1, t2 = 1 - t, t3 = 2 - t;
    w[0] = ((A * t1 - 5 * A) * t1 + 8 * A) * t1 - 4 * A;
    w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
    w[2] = ((A + 2) * t2 - (A + 3)) * t2 * t2 + 1;
    w[3] = ((A * t3 - 5 * A) * t3 + 8 * A) * t3 - 4 * A;
}

Homography square_to_quad(const std::array<PointF, 4>& q) {
    double x0 = q[0].x, y0 = q[0].y, x1 = q[1].x, y1 = q[1].y, x2 = q[2].x, y2 = q[2].y, x3 = q[3].x, y3 = q[3].y;
    double dx1 = x1 - x2, dx2 = x3 - x2, dx3 = x0 - x1 + x2 - x3;
    double dy1 = y1 - y2, dy2 = y3 - y2, dy3 = y0 - y1 + y2 - y3;
    double den = dx1 * dy2 - dx2 * dy1;
    double g = 0, h = 0;
    if (std::abs(den) > 1e-12 && (std::abs(dx3) > 1e-9 || std::abs(dy3) > 1e-9)) {
        g = (dx3 * dy2 - dx2 * dy3) / den;
        h = (dx1 * dy3 - dx3 * dy1) / den;
    }
    return {x1 - x0 + g * x1, x3 - x0 + h * x3, x0, y1 - y0 + g * y1, y3 - y0 + h * y3, y0, g, h};
}
}  // namespace

QuadCrop straighten_quad(const std::array<PointF, 4>& q) {
    QuadCrop c;
    c.quad = q;
    c.width = std::max(1, int(std::max(dist(q[0], q[1]), dist(q[2], q[3]))));
    c.height = std::max(1, int(std::max(dist(q[0], q[3]), dist(q[1], q[2]))));
    if (float(c.height) >= 1.5f * float(c.width)) {
        // np.rot90 (counter-clockwise): the crop's new top-left is the old top-right.
        c.quad = {q[1], q[2], q[3], q[0]};
        std::swap(c.width, c.height);
    }
    return c;
}

QuadCrop rotate_180(const QuadCrop& c) {
    QuadCrop r = c;
    r.quad = {c.quad[2], c.quad[3], c.quad[0], c.quad[1]};
    return r;
}

QuadCrop sub_crop(const QuadCrop& c, float s0, float s1) {
    auto lerp = [](const PointF& a, const PointF& b, float t) { return PointF{a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)}; };
    QuadCrop r;
    r.quad = {lerp(c.quad[0], c.quad[1], s0), lerp(c.quad[0], c.quad[1], s1), lerp(c.quad[3], c.quad[2], s1),
              lerp(c.quad[3], c.quad[2], s0)};
    r.width = std::max(1, int(float(c.width) * (s1 - s0)));
    r.height = c.height;
    return r;
}

int resized_width(const QuadCrop& c, int out_h, int max_w) {
    double w = std::ceil(double(out_h) * c.width / std::max(c.height, 1));
    return std::clamp(int(w), 1, std::max(max_w, 1));
}

void sample_crop_chw(const PixelsView& src, const QuadCrop& crop, int out_h, int resized_w, int out_w,
                     const CropNormalize& norm, float* dst) {
    if (!src.data || src.width <= 0 || src.height <= 0) fail("text crop: empty image");
    if (src.channels != 1 && src.channels != 3 && src.channels != 4)
        fail("text crop: images with " + std::to_string(src.channels) + " channels are not supported (1, 3 or 4)");
    if (out_h <= 0 || out_w <= 0 || resized_w <= 0 || resized_w > out_w) fail("text crop: bad output size");
    const int64_t stride = src.row_stride ? src.row_stride : int64_t(src.width) * src.channels;
    const int C = src.channels;
    const size_t plane = size_t(out_h) * size_t(out_w);
    // Channel k of the output reads source channel src_ch[k].
    int src_ch[3] = {0, 1, 2};
    if (C == 1) src_ch[1] = src_ch[2] = 0;
    else if (norm.bgr) { src_ch[0] = 2; src_ch[2] = 0; }
    Homography H = square_to_quad(crop.quad);
    const double sx = double(crop.width) / resized_w, sy = double(crop.height) / out_h;
    const float maxx = float(src.width - 1), maxy = float(src.height - 1);
    for (int v = 0; v < out_h; ++v) {
        // Resize half-pixel centre, clamped to the crop like cv2.resize's edge handling.
        double cy = std::clamp((v + 0.5) * sy - 0.5, 0.0, double(crop.height - 1));
        double t = cy / crop.height;
        float* row[3] = {dst + size_t(v) * out_w, dst + plane + size_t(v) * out_w, dst + 2 * plane + size_t(v) * out_w};
        for (int u = 0; u < resized_w; ++u) {
            double cx = std::clamp((u + 0.5) * sx - 0.5, 0.0, double(crop.width - 1));
            double s = cx / crop.width;
            double w = H.g * s + H.h * t + 1.0;
            float X = float((H.a * s + H.b * t + H.c) / w), Y = float((H.d * s + H.e * t + H.f) / w);
            if (!(X >= 0.0f)) X = 0.0f;  // also NaN (a degenerate quad): never index with it
            if (!(Y >= 0.0f)) Y = 0.0f;
            X = std::min(X, maxx);  // border replicate
            Y = std::min(Y, maxy);
            int x0 = int(X), y0 = int(Y);
            float fx = X - float(x0), fy = Y - float(y0);
            if (norm.interp == CropInterp::Cubic) {
                float wx[4], wy[4];
                cubic_weights(fx, wx);
                cubic_weights(fy, wy);
                for (int k = 0; k < 3; ++k) {
                    int ch = src_ch[k];
                    float acc = 0;
                    for (int j = 0; j < 4; ++j) {
                        int yy = std::clamp(y0 - 1 + j, 0, src.height - 1);
                        const uint8_t* rr = src.data + int64_t(yy) * stride;
                        float racc = 0;
                        for (int i = 0; i < 4; ++i) racc += wx[i] * rr[std::clamp(x0 - 1 + i, 0, src.width - 1) * C + ch];
                        acc += wy[j] * racc;
                    }
                    // Saturated like OpenCV's 8-bit result (cubic overshoots at edges).
                    row[k][u] = std::clamp(acc, 0.0f, 255.0f) * norm.scale + norm.bias;
                }
                continue;
            }
            int x1 = std::min(x0 + 1, src.width - 1), y1 = std::min(y0 + 1, src.height - 1);
            const uint8_t* r0 = src.data + int64_t(y0) * stride;
            const uint8_t* r1 = src.data + int64_t(y1) * stride;
            for (int k = 0; k < 3; ++k) {
                int ch = src_ch[k];
                float top = r0[x0 * C + ch] + fx * float(r0[x1 * C + ch] - r0[x0 * C + ch]);
                float bot = r1[x0 * C + ch] + fx * float(r1[x1 * C + ch] - r1[x0 * C + ch]);
                row[k][u] = (top + fy * (bot - top)) * norm.scale + norm.bias;
            }
        }
        for (int k = 0; k < 3; ++k) std::fill(row[k] + resized_w, row[k] + out_w, norm.pad);
    }
}

}  // namespace edgecnn::vision
