// Raw camera frames (NV12 / NV21: a full-size Y plane, then one interleaved chroma plane
// at half size in both directions) straight into a model's input tensor: colour
// conversion, bilinear resize and normalisation in one fused pass (AVX2 where the CPU has
// it), with a per-pixel float reference twin.
//
// Colour: BT.601 limited range (video levels, Y 16..235), the usual camera/ISP output:
//   R = 1.164383 (Y-16) + 1.596027 (V-128)
//   G = 1.164383 (Y-16) - 0.391762 (U-128) - 0.812968 (V-128)
//   B = 1.164383 (Y-16) + 2.017232 (U-128)
// clamped to [0, 255]. Each chroma pair covers a 2×2 block of luma (nearest chroma). The
// resize samples the converted RGB bilinearly (so clamping happens before interpolation,
// as if the frame had first been converted to an RGB image), with the geometry and the
// normalisation of vision/preprocess.hpp.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "vision/image.hpp"
#include "vision/preprocess.hpp"

namespace edgecnn::vision {

enum class YuvOrder { NV12, NV21 };  // chroma bytes U,V (NV12) or V,U (NV21)

struct YuvImage {
    int width = 0, height = 0;
    YuvOrder order = YuvOrder::NV12;
    std::vector<uint8_t> data;  // Y rows (width bytes each), then chroma rows (uv_stride() bytes)
    int uv_stride() const { return 2 * ((width + 1) / 2); }
    int uv_rows() const { return (height + 1) / 2; }
    static size_t frame_bytes(int w, int h) { return size_t(w) * size_t(h) + size_t(2 * ((w + 1) / 2)) * size_t((h + 1) / 2); }
    const uint8_t* y() const { return data.data(); }
    const uint8_t* uv() const { return data.data() + size_t(width) * size_t(height); }
};

// Reads a raw frame; the file must hold exactly frame_bytes(w, h) bytes (errors name the
// file and both sizes).
YuvImage load_yuv(const std::string& path, int width, int height, YuvOrder order);
// Encodes an RGB (or grey/RGBA) image with the inverse BT.601 limited-range transform,
// chroma averaged over each 2×2 block (for tests and for making camera-like frames).
YuvImage rgb_to_yuv(const Image& img, YuvOrder order);
// The whole frame as an 8-bit RGB image (rounded reference conversion; for overlays).
Image yuv_to_rgb(const YuvImage& f);

// Reference twin: the float value of tensor pixel (xt, yt), tensor channel c of `channels`.
float yuv_reference_sample(const YuvImage& f, const Preprocess& p, const Geometry& g, int xt, int yt, int c, int channels);
// The fused pass. Same contract as to_tensor (shape, layout, letterbox/crop, errors).
TensorImage yuv_to_tensor(const YuvImage& f, const Preprocess& p, const Shape& expected);

namespace detail {
// One output row of the fused kernel: raw (0..255) R, G, B at each output column x in
// [0, n), from source rows ya/yb (weight wy) and per-column tables.
struct YuvRow {
    const uint8_t *ya, *yb;      // luma rows
    const uint8_t *ca, *cb;      // chroma rows for ya and yb
    float wy;
    const int32_t *xa, *xb;      // source columns (clamped)
    const float* wx;
    int src_width, uv_stride;
    bool nv21;
    float *r, *g, *b;            // outputs, n floats each
};
void yuv_row_scalar(const YuvRow& j, int x0, int x1);
// Returns the number of leading columns done (a multiple of 8; 0 when the frame is too
// narrow for its 4-byte gathers).
int yuv_row_avx2(const YuvRow& j, int n);
}  // namespace detail

}  // namespace edgecnn::vision
