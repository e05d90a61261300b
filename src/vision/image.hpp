// 8-bit images for the vision helpers: decode JPEG (libjpeg-turbo) and PNG (stb), write PNG/JPEG,
// channel conversion and crops. Everything here is plain CPU code on interleaved pixels;
// it sits beside the engine (uses base/ only) and is linked by the CLI, not by the core.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace edgecnn::vision {

// An 8-bit image, interleaved HWC, rows packed (row stride = width * channels).
// channels: 1 (grey), 3 (RGB) or 4 (RGBA). Pixel (x, y) channel c is
// pixels[(y * width + x) * channels + c].
struct Image {
    int width = 0, height = 0, channels = 0;
    std::vector<uint8_t> pixels;

    Image() = default;
    // Throws Error(Invalid) for channels outside {1,3,4} or a non-positive/huge size.
    Image(int width, int height, int channels, uint8_t fill = 0);
    bool empty() const { return pixels.empty(); }
    size_t stride() const { return size_t(width) * size_t(channels); }
    uint8_t* at(int x, int y) { return pixels.data() + (size_t(y) * size_t(width) + size_t(x)) * size_t(channels); }
    const uint8_t* at(int x, int y) const {
        return pixels.data() + (size_t(y) * size_t(width) + size_t(x)) * size_t(channels);
    }
};

// Decodes a JPEG or PNG file (anything stb_image reads). `channels` 0 keeps the file's
// own (grey → 1, grey+alpha → 4, RGB → 3, RGBA → 4); 1, 3 or 4 converts. Throws
// Error(Io) naming the file when it is missing or cannot be decoded (with stb's reason).
Image load_image(const std::string& path, int channels = 0);
// The same from an encoded buffer in memory; `name` is used in error messages.
Image decode_image(const uint8_t* data, size_t size, const std::string& name, int channels = 0);

// Write an image; throw Error(Io) naming the file when it cannot be written.
void write_png(const std::string& path, const Image& img);
void write_jpeg(const std::string& path, const Image& img, int quality = 90);

// Converts between 1, 3 and 4 channels: grey → RGB replicates, RGB → grey uses the
// BT.601 luma weights (0.299, 0.587, 0.114), alpha is dropped (not composited) or set to 255.
Image convert_channels(const Image& img, int channels);
// The pixels of the rectangle [x, x+w) × [y, y+h), clipped to the image (may be empty).
Image crop(const Image& img, int x, int y, int w, int h);

}  // namespace edgecnn::vision
