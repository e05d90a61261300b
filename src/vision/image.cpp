#include "vision/image.hpp"

#include <stb_image.h>
#include <stb_image_write.h>

// libjpeg's header needs size_t and FILE declared first.
#include <cstdio>
#include <cstddef>
#include <csetjmp>
#include <jpeglib.h>
#include <jerror.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "base/error.hpp"
#include "base/tensor.hpp"

namespace edgecnn::vision {

namespace {
constexpr int kMaxSide = 1 << 15;  // 32768: far beyond any camera, small enough to never overflow

void check_dims(int w, int h, int c, const std::string& what) {
    if (c != 1 && c != 3 && c != 4)
        fail(what + ": an image has 1, 3 or 4 channels, not " + std::to_string(c));
    if (w <= 0 || h <= 0 || w > kMaxSide || h > kMaxSide)
        throw Error(ErrorKind::Limit, what + ": image size " + std::to_string(w) + "x" + std::to_string(h) +
                                          " is outside 1..32768");
    // A few bytes of JPEG or PNG can declare a 32768x32768 picture: the pixels are bounded
    // by the engine's tensor limit (base/tensor.hpp, configurable) before anything is decoded.
    const int64_t bytes = int64_t(w) * int64_t(h) * int64_t(c);
    if (bytes > max_tensor_bytes())
        throw Error(ErrorKind::Limit, what + ": image " + std::to_string(w) + "x" + std::to_string(h) + "x" +
                                          std::to_string(c) + " needs " + std::to_string(bytes) +
                                          " bytes, over the memory limit of " + std::to_string(max_tensor_bytes()));
}

uint32_t read_be32(const uint8_t* p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

// stb_image can be made to allocate gigabytes by a few bytes of PNG whose header passed
// check_dims (fuzz_image hit its 2 GiB limit twice): it inflates the pixel data into a
// buffer it doubles without limit (a decompression bomb), and it grows its IDAT buffer to a
// chunk's declared length before checking that the file holds that many bytes. So before
// stb runs, every chunk up to IEND must fit in the file, and zlib (the reference inflater)
// inflates the IDAT stream into a small scratch buffer, only counting: a stream that is
// damaged, ends early, or inflates to more than twice what the header's size needs (Adam7
// interlacing adds at most a few filter bytes a row) is refused here. Costs one extra
// inflate for PNG; JPEG, the camera path, does not come here.
void check_png_stream(const uint8_t* data, size_t size, const std::string& name) {
    static const uint8_t kSig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    if (size < 8 || std::memcmp(data, kSig, 8) != 0) return;  // not PNG
    auto damaged = [&](const std::string& why) {
        return Error(ErrorKind::Io, name + ": cannot decode PNG (" + why + ")");
    };
    if (size < 33 || std::memcmp(data + 12, "IHDR", 4) != 0) throw damaged("no IHDR header");
    const uint64_t w = read_be32(data + 16), h = read_be32(data + 20);
    const int depth = data[24], color = data[25];
    const int samples = color == 0 ? 1 : color == 2 ? 3 : color == 3 ? 1 : color == 4 ? 2 : color == 6 ? 4 : 0;
    if (samples == 0 || depth < 1 || depth > 16) throw damaged("bad colour type or bit depth");
    const uint64_t row_bytes = (w * uint64_t(samples) * uint64_t(depth) + 7) / 8 + 1;
    const uint64_t limit = 2 * h * row_bytes + 4096;
    z_stream zs{};
    if (inflateInit(&zs) != Z_OK) throw Error(ErrorKind::Limit, name + ": cannot start zlib");
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
    std::vector<uint8_t> scratch(64 * 1024);
    uint64_t total = 0;
    // Every chunk up to IEND is walked, also after the stream has ended: stb sizes its IDAT
    // buffer from a chunk's declared length before checking that the file holds it.
    bool stream_done = false;
    size_t pos = 8;
    while (pos + 12 <= size) {
        const uint32_t len = read_be32(data + pos);
        const uint8_t* type = data + pos + 4;
        if (uint64_t(len) > size - pos - 12) throw damaged("chunk runs past the end of the file");
        if (std::memcmp(type, "IEND", 4) == 0) break;
        if (std::memcmp(type, "IDAT", 4) == 0 && !stream_done) {
            zs.next_in = const_cast<Bytef*>(data + pos + 8);
            zs.avail_in = len;
            while (zs.avail_in > 0) {
                zs.next_out = scratch.data();
                zs.avail_out = uInt(scratch.size());
                const int rc = inflate(&zs, Z_NO_FLUSH);
                total += scratch.size() - zs.avail_out;
                if (total > limit)
                    throw Error(ErrorKind::Limit,
                                name + ": PNG pixel data inflates to more than " + std::to_string(limit) +
                                    " bytes, far beyond what its " + std::to_string(w) + "x" + std::to_string(h) +
                                    " header needs (corrupt, or a decompression bomb)");
                if (rc == Z_STREAM_END) {
                    stream_done = true;
                    break;
                }
                if (rc != Z_OK) throw damaged(std::string("pixel data: ") + (zs.msg ? zs.msg : "zlib error"));
            }
        }
        pos += size_t(len) + 12;
    }
    if (!stream_done) throw damaged("pixel data ends before its compressed stream does");
}

// stb's own channel count for a file → ours: grey+alpha becomes RGBA (there is no 2).
int wanted_channels(int file_channels, int requested) {
    if (requested != 0) return requested;
    return file_channels == 2 ? 4 : file_channels;
}
}  // namespace

Image::Image(int w, int h, int c, uint8_t fill) : width(w), height(h), channels(c) {
    check_dims(w, h, c, "Image");
    pixels.assign(size_t(w) * size_t(h) * size_t(c), fill);
}

namespace {
// JPEG through libjpeg-turbo (about twice as fast as stb_image on camera frames, which
// matters at 30-120 FPS). libjpeg reports errors by calling error_exit, which must not
// return: it jumps back here. Nothing with a destructor lives between setjmp and the
// jump, and `img` is only read after a normal return.
struct JpegError {
    jpeg_error_mgr mgr;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

void jpeg_error_exit(j_common_ptr cinfo) {
    JpegError* err = reinterpret_cast<JpegError*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, err->message);
    std::longjmp(err->jump, 1);
}
// Warnings are not errors (extraneous bytes and the like), except a file that ends early:
// libjpeg would pad it with grey and return a picture that is silently wrong.
void jpeg_warning(j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) jpeg_error_exit(cinfo);
}

// Returns false (with `why`) on a decoding error; `fallback` is set for colour spaces left
// to stb (CMYK/YCCK).
bool decode_jpeg(const uint8_t* data, size_t size, int channels, Image& img, std::string& why, bool& fallback) {
    jpeg_decompress_struct cinfo;
    JpegError err;
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_error_exit;
    err.mgr.emit_message = jpeg_warning;
    err.message[0] = 0;
    if (setjmp(err.jump)) {
        why = err.message;
        jpeg_destroy_decompress(&cinfo);
        return false;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        fallback = true;
        jpeg_destroy_decompress(&cinfo);
        return false;
    }
    const bool grey = cinfo.num_components == 1;
    const int decoded = (channels == 1 || (channels == 0 && grey)) ? 1 : 3;
    cinfo.out_color_space = decoded == 1 ? JCS_GRAYSCALE : JCS_RGB;
    if (cinfo.image_width < 1 || cinfo.image_height < 1 || cinfo.image_width > 32768 || cinfo.image_height > 32768) {
        why = "image size " + std::to_string(cinfo.image_width) + "x" + std::to_string(cinfo.image_height) + " is outside 1..32768";
        jpeg_destroy_decompress(&cinfo);
        return false;
    }
    try {
        check_dims(int(cinfo.image_width), int(cinfo.image_height), decoded, "JPEG");
    } catch (const Error& e) {
        why = e.what();
        jpeg_destroy_decompress(&cinfo);
        return false;
    }
    img.width = int(cinfo.image_width);
    img.height = int(cinfo.image_height);
    img.channels = decoded;
    img.pixels.resize(size_t(img.width) * size_t(img.height) * size_t(decoded));
    jpeg_start_decompress(&cinfo);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = img.pixels.data() + size_t(cinfo.output_scanline) * img.stride();
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return true;
}
}  // namespace

Image decode_image(const uint8_t* data, size_t size, const std::string& name, int channels) {
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF &&
        (channels == 0 || channels == 1 || channels == 3 || channels == 4)) {
        Image img;
        std::string why;
        bool fallback = false;
        if (decode_jpeg(data, size, channels, img, why, fallback)) {
            if (channels != 0 && img.channels != channels) img = convert_channels(img, channels);
            return img;
        }
        if (!fallback) throw Error(ErrorKind::Io, name + ": cannot decode JPEG (" + why + ")");
    }
    if (channels != 0 && channels != 1 && channels != 3 && channels != 4)
        fail(name + ": cannot decode to " + std::to_string(channels) + " channels (0, 1, 3 or 4)");
    if (size > size_t(INT32_MAX)) throw Error(ErrorKind::Limit, name + ": encoded image larger than 2 GiB");
    int w = 0, h = 0, comp = 0;
    if (!stbi_info_from_memory(data, int(size), &w, &h, &comp))
        throw Error(ErrorKind::Io, name + ": not a readable image (" +
                                       std::string(stbi_failure_reason() ? stbi_failure_reason() : "unknown format") +
                                       "; JPEG and PNG are supported)");
    check_dims(w, h, wanted_channels(comp, channels), name);
    check_png_stream(data, size, name);
    int want = wanted_channels(comp, channels);
    std::unique_ptr<stbi_uc, void (*)(void*)> px(stbi_load_from_memory(data, int(size), &w, &h, &comp, want),
                                                 stbi_image_free);
    if (!px)
        throw Error(ErrorKind::Io, name + ": cannot decode image (" +
                                       std::string(stbi_failure_reason() ? stbi_failure_reason() : "unknown") + ")");
    Image img;
    img.width = w;
    img.height = h;
    img.channels = want;
    img.pixels.assign(px.get(), px.get() + size_t(w) * size_t(h) * size_t(want));
    return img;
}

Image load_image(const std::string& path, int channels) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw Error(ErrorKind::Io, path + ": no such file");
    if (std::filesystem::is_directory(path, ec)) throw Error(ErrorKind::Io, path + ": is a directory, not an image");
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Error(ErrorKind::Io, path + ": cannot open for reading");
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (bytes.empty()) throw Error(ErrorKind::Io, path + ": empty file, not an image");
    return decode_image(bytes.data(), bytes.size(), path, channels);
}

void write_png(const std::string& path, const Image& img) {
    check_dims(img.width, img.height, img.channels, path);
    if (!stbi_write_png(path.c_str(), img.width, img.height, img.channels, img.pixels.data(), int(img.stride())))
        throw Error(ErrorKind::Io, path + ": cannot write PNG");
}

void write_jpeg(const std::string& path, const Image& img, int quality) {
    check_dims(img.width, img.height, img.channels, path);
    if (!stbi_write_jpg(path.c_str(), img.width, img.height, img.channels, img.pixels.data(), quality))
        throw Error(ErrorKind::Io, path + ": cannot write JPEG");
}

Image convert_channels(const Image& img, int channels) {
    if (img.channels == channels) return img;
    Image out(img.width, img.height, channels);
    const size_t n = size_t(img.width) * size_t(img.height);
    for (size_t i = 0; i < n; ++i) {
        const uint8_t* s = img.pixels.data() + i * size_t(img.channels);
        uint8_t* d = out.pixels.data() + i * size_t(channels);
        uint8_t r = s[0], g = img.channels >= 3 ? s[1] : s[0], b = img.channels >= 3 ? s[2] : s[0];
        if (channels == 1) {
            d[0] = img.channels == 1 ? s[0] : uint8_t(std::min(255.f, 0.299f * r + 0.587f * g + 0.114f * b + 0.5f));
        } else {
            d[0] = r;
            d[1] = g;
            d[2] = b;
            if (channels == 4) d[3] = img.channels == 4 ? s[3] : 255;
        }
    }
    return out;
}

Image crop(const Image& img, int x, int y, int w, int h) {
    int x0 = std::clamp(x, 0, img.width), y0 = std::clamp(y, 0, img.height);
    int x1 = std::clamp(x + std::max(w, 0), 0, img.width), y1 = std::clamp(y + std::max(h, 0), 0, img.height);
    if (x1 <= x0 || y1 <= y0) return Image();
    Image out(x1 - x0, y1 - y0, img.channels);
    for (int r = y0; r < y1; ++r)
        std::copy(img.at(x0, r), img.at(x1 - 1, r) + img.channels, out.at(0, r - y0));
    return out;
}

}  // namespace edgecnn::vision
