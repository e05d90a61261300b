#include "vision/draw.hpp"

#include <stb_easy_font.h>

#include <algorithm>
#include <cmath>

namespace edgecnn::vision {

Color palette_color(int index) {
    // Well-separated hues; beyond the table, a deterministic hash keeps colours distinct.
    static const Color kTable[] = {{90, 110, 140}, {230, 25, 75},  {60, 180, 75},  {255, 225, 25}, {0, 130, 200},
                                   {245, 130, 48}, {145, 30, 180}, {70, 240, 240}, {240, 50, 230}, {210, 245, 60},
                                   {250, 190, 212}, {0, 128, 128}, {220, 190, 255}, {170, 110, 40}, {255, 250, 200},
                                   {128, 0, 0},    {170, 255, 195}, {128, 128, 0}, {255, 215, 180}, {0, 0, 128},
                                   {128, 128, 128}};
    constexpr int n = int(sizeof kTable / sizeof kTable[0]);
    if (index >= 0 && index < n) return kTable[index];
    uint32_t h = uint32_t(index) * 2654435761u;
    return Color{uint8_t(64 + (h >> 8) % 192), uint8_t(64 + (h >> 16) % 192), uint8_t(64 + (h >> 24) % 192)};
}

void blend_pixel(Image& img, int x, int y, Color c, float alpha) {
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
    uint8_t* p = img.at(x, y);
    // +0.5 and truncation: the same as lround for these non-negative values, without a
    // library call per channel (labels and filled boxes blend thousands of pixels per frame).
    auto mix = [alpha](uint8_t dst, uint8_t src) {
        return uint8_t(int(float(dst) * (1.f - alpha) + float(src) * alpha + 0.5f));
    };
    if (img.channels == 1) {
        p[0] = mix(p[0], uint8_t(std::lround(0.299f * c.r + 0.587f * c.g + 0.114f * c.b)));
        return;
    }
    p[0] = mix(p[0], c.r);
    p[1] = mix(p[1], c.g);
    p[2] = mix(p[2], c.b);
}

void fill_rect(Image& img, int x0, int y0, int x1, int y1, Color c, float alpha) {
    if (x0 > x1) std::swap(x0, x1);
    if (y0 > y1) std::swap(y0, y1);
    x0 = std::max(x0, 0);
    y0 = std::max(y0, 0);
    x1 = std::min(x1, img.width - 1);
    y1 = std::min(y1, img.height - 1);
    if (x0 > x1 || y0 > y1) return;
    if (alpha >= 1.f && img.channels >= 3) {
        // Opaque (box outlines, glyph strokes): plain stores, the same result as a blend.
        for (int y = y0; y <= y1; ++y) {
            uint8_t* p = img.at(x0, y);
            for (int x = x0; x <= x1; ++x, p += img.channels) {
                p[0] = c.r;
                p[1] = c.g;
                p[2] = c.b;
            }
        }
        return;
    }
    for (int y = y0; y <= y1; ++y)
        for (int x = x0; x <= x1; ++x) blend_pixel(img, x, y, c, alpha);
}

void draw_rect(Image& img, int x0, int y0, int x1, int y1, Color c, int thickness) {
    if (x0 > x1) std::swap(x0, x1);
    if (y0 > y1) std::swap(y0, y1);
    int t = std::max(1, thickness) - 1;
    fill_rect(img, x0, y0, x1, std::min(y1, y0 + t), c);
    fill_rect(img, x0, std::max(y0, y1 - t), x1, y1, c);
    fill_rect(img, x0, y0, std::min(x1, x0 + t), y1, c);
    fill_rect(img, std::max(x0, x1 - t), y0, x1, y1, c);
}

void draw_line(Image& img, float x0, float y0, float x1, float y1, Color c, int thickness) {
    // Steps of at most one pixel along the longer axis, a thickness-sized square at each.
    float dx = x1 - x0, dy = y1 - y0;
    int steps = std::max(1, int(std::ceil(std::max(std::fabs(dx), std::fabs(dy)))));
    steps = std::min(steps, 1 << 16);  // a wild coordinate must not loop for ever
    int r0 = (std::max(1, thickness) - 1) / 2, r1 = std::max(1, thickness) - 1 - r0;
    for (int i = 0; i <= steps; ++i) {
        int x = int(std::lround(x0 + dx * float(i) / float(steps))), y = int(std::lround(y0 + dy * float(i) / float(steps)));
        if (x + r1 < 0 || y + r1 < 0 || x - r0 >= img.width || y - r0 >= img.height) continue;
        fill_rect(img, x - r0, y - r0, x + r1, y + r1, c);
    }
}

void draw_polygon(Image& img, const std::vector<std::pair<float, float>>& pts, Color c, int thickness) {
    for (size_t i = 0; i < pts.size(); ++i) {
        const auto& a = pts[i];
        const auto& b = pts[(i + 1) % pts.size()];
        draw_line(img, a.first, a.second, b.first, b.second, c, thickness);
    }
}

int draw_text(Image& img, int x, int y, const std::string& text, Color c, int scale, bool background, Color bg) {
    if (text.empty()) return 0;
    scale = std::max(1, scale);
    // stb_easy_font indexes its glyph table by (char - 32) with no check: anything outside
    // printable ASCII (UTF-8 class names, control bytes) becomes '?'.
    std::string s = text.substr(0, 200);
    for (char& ch : s)
        if (static_cast<unsigned char>(ch) < 32 || static_cast<unsigned char>(ch) > 126) ch = '?';
    int w = stb_easy_font_width(s.data()) * scale;
    int h = stb_easy_font_height(s.data()) * scale;
    if (background) fill_rect(img, x - scale, y - scale, x + w + scale, y + h, bg, 0.7f);
    // stb_easy_font emits axis-aligned quads: 4 vertices of (x, y, z, rgba) each.
    struct Vertex {
        float x, y, z;
        unsigned char rgba[4];
    };
    static_assert(sizeof(Vertex) == 16, "stb_easy_font's vertex layout");
    std::vector<Vertex> buf((s.size() + 1) * 40 * 4);  // a glyph is at most ~30 quads
    int quads = stb_easy_font_print(0, 0, s.data(), nullptr, buf.data(), int(buf.size() * sizeof(Vertex)));
    for (int q = 0; q < quads; ++q) {
        const Vertex* v = &buf[size_t(q) * 4];
        int qx0 = x + int(std::lround(v[0].x * float(scale))), qy0 = y + int(std::lround(v[0].y * float(scale)));
        int qx1 = x + int(std::lround(v[2].x * float(scale))) - 1, qy1 = y + int(std::lround(v[2].y * float(scale))) - 1;
        fill_rect(img, qx0, qy0, qx1, qy1, c);
    }
    return w;
}

void overlay_labels(Image& img, const std::vector<int>& labels, int width, int height, const Geometry& g, float alpha,
                    int skip) {
    if (width <= 0 || height <= 0 || labels.size() < size_t(width) * size_t(height) || g.tensor_width <= 0 ||
        g.tensor_height <= 0)
        return;
    const float gx = float(width) / float(g.tensor_width), gy = float(height) / float(g.tensor_height);
    const int a8 = std::clamp(int(std::lround(alpha * 256.f)), 0, 256), inv = 256 - a8;
    Color table[21];
    for (int i = 0; i < 21; ++i) table[i] = palette_color(i);
    // The colour's share of each blend, precomputed per label (c * a8 + rounding).
    int add[21][3];
    for (int i = 0; i < 21; ++i) {
        add[i][0] = table[i].r * a8 + 128;
        add[i][1] = table[i].g * a8 + 128;
        add[i][2] = table[i].b * a8 + 128;
    }
    std::vector<int> col(size_t(img.width));
    for (int x = 0; x < img.width; ++x) {
        float t = g.to_tensor_x(float(x) + 0.5f) * gx;
        col[size_t(x)] = t < 0 || t >= float(width) ? -1 : int(t);
    }
    for (int y = 0; y < img.height; ++y) {
        float t = g.to_tensor_y(float(y) + 0.5f) * gy;
        if (t < 0 || t >= float(height)) continue;
        const int* row = labels.data() + size_t(int(t)) * size_t(width);
        uint8_t* px = img.at(0, y);
        for (int x = 0; x < img.width; ++x, px += img.channels) {
            if (col[size_t(x)] < 0) continue;
            int l = row[col[size_t(x)]];
            if (l == skip) continue;
            // Integer blend (8-bit weights): this runs on every pixel of every video frame.
            if (img.channels == 1) {
                blend_pixel(img, x, y, l < 21 && l >= 0 ? table[l] : palette_color(l), alpha);
                continue;
            }
            if (l >= 0 && l < 21) {
                px[0] = uint8_t((px[0] * inv + add[l][0]) >> 8);
                px[1] = uint8_t((px[1] * inv + add[l][1]) >> 8);
                px[2] = uint8_t((px[2] * inv + add[l][2]) >> 8);
                continue;
            }
            const Color c = palette_color(l);
            px[0] = uint8_t((px[0] * inv + c.r * a8 + 128) >> 8);
            px[1] = uint8_t((px[1] * inv + c.g * a8 + 128) >> 8);
            px[2] = uint8_t((px[2] * inv + c.b * a8 + 128) >> 8);
        }
    }
}

}  // namespace edgecnn::vision
