// Drawing on 8-bit images for result pictures: rectangles, lines, polygons, translucent
// fills, class-mask overlays and short text labels (stb_easy_font's segment glyphs, so no
// font file is needed). All coordinates are photo pixels; everything clips at the edges.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "vision/image.hpp"
#include "vision/preprocess.hpp"

namespace edgecnn::vision {

struct Color {
    uint8_t r = 0, g = 0, b = 0;
};
// A distinct colour per index (class id, box id); index 0 is a neutral grey-blue.
Color palette_color(int index);

// Blends `c` into pixel (x, y) with opacity alpha (0..1); ignores points outside the image.
void blend_pixel(Image& img, int x, int y, Color c, float alpha = 1.f);
// Outline of the rectangle [x0, x1] × [y0, y1] (inclusive), `thickness` pixels inwards.
void draw_rect(Image& img, int x0, int y0, int x1, int y1, Color c, int thickness = 2);
// Filled rectangle, blended with opacity alpha.
void fill_rect(Image& img, int x0, int y0, int x1, int y1, Color c, float alpha = 1.f);
void draw_line(Image& img, float x0, float y0, float x1, float y1, Color c, int thickness = 2);
// Closed polygon outline (e.g. a rotated text box).
void draw_polygon(Image& img, const std::vector<std::pair<float, float>>& pts, Color c, int thickness = 2);
// Text at (x, y) = its top-left corner, glyphs `scale` pixels per font unit (about 7*scale
// px tall), on a filled background box when `background` is set. Printable ASCII only: other
// bytes (e.g. UTF-8) are drawn as '?'. Returns the text's width.
int draw_text(Image& img, int x, int y, const std::string& text, Color c, int scale = 2, bool background = true,
              Color bg = Color{0, 0, 0});

// Paints a label map of the model's output grid (labels[h * width + w], `width`×`height`,
// the tensor's W×H or any grid covering it proportionally) over the photo: each photo pixel
// takes the label of the grid cell it maps to through `g`, and labels other than `skip`
// (-1: none) are blended in palette_color(label) with opacity `alpha`.
void overlay_labels(Image& img, const std::vector<int>& labels, int width, int height, const Geometry& g, float alpha = 0.5f,
                    int skip = 0);

}  // namespace edgecnn::vision
