#include "vision/nv12.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "base/cpu_features.hpp"
#include "base/error.hpp"

namespace edgecnn::vision {

namespace {
constexpr float kY = 1.164383f, kRV = 1.596027f, kGU = 0.391762f, kGV = 0.812968f, kBU = 2.017232f;

void rgb_of(const YuvImage& f, int x, int y, float rgb[3]) {
    const float Y = float(f.y()[size_t(y) * size_t(f.width) + size_t(x)]);
    const uint8_t* c = f.uv() + size_t(y / 2) * size_t(f.uv_stride()) + size_t(x / 2) * 2;
    const float U = float(f.order == YuvOrder::NV12 ? c[0] : c[1]), V = float(f.order == YuvOrder::NV12 ? c[1] : c[0]);
    const float yv = kY * (Y - 16.f);
    rgb[0] = std::clamp(yv + kRV * (V - 128.f), 0.f, 255.f);
    rgb[1] = std::clamp(yv - kGU * (U - 128.f) - kGV * (V - 128.f), 0.f, 255.f);
    rgb[2] = std::clamp(yv + kBU * (U - 128.f), 0.f, 255.f);
}

void check_frame(const YuvImage& f) {
    if (f.width <= 0 || f.height <= 0 || f.data.size() != YuvImage::frame_bytes(f.width, f.height))
        fail("YUV frame " + std::to_string(f.width) + "x" + std::to_string(f.height) + " holds " +
             std::to_string(f.data.size()) + " bytes, expected " + std::to_string(YuvImage::frame_bytes(f.width, f.height)));
}
}  // namespace

YuvImage load_yuv(const std::string& path, int width, int height, YuvOrder order) {
    if (width <= 0 || height <= 0 || width > 16384 || height > 16384)
        fail(path + ": frame size " + std::to_string(width) + "x" + std::to_string(height) + " is outside 1..16384");
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) throw Error(ErrorKind::Io, path + ": no such file");
    const size_t want = YuvImage::frame_bytes(width, height);
    const auto size = std::filesystem::file_size(path, ec);
    if (ec || size != want)
        fail(path + ": " + std::to_string(size) + " bytes, but a " + std::to_string(width) + "x" + std::to_string(height) +
             " NV12/NV21 frame has " + std::to_string(want) + " (check --frame-size)");
    YuvImage f;
    f.width = width;
    f.height = height;
    f.order = order;
    f.data.resize(want);
    std::ifstream in(path, std::ios::binary);
    if (!in.read(reinterpret_cast<char*>(f.data.data()), std::streamsize(want)))
        throw Error(ErrorKind::Io, path + ": cannot read");
    return f;
}

YuvImage rgb_to_yuv(const Image& src, YuvOrder order) {
    Image img = convert_channels(src, 3);
    YuvImage f;
    f.width = img.width;
    f.height = img.height;
    f.order = order;
    f.data.assign(YuvImage::frame_bytes(img.width, img.height), 128);
    auto to_y = [](float r, float g, float b) { return 16.f + 0.256788f * r + 0.504129f * g + 0.097906f * b; };
    for (int y = 0; y < img.height; ++y)
        for (int x = 0; x < img.width; ++x) {
            const uint8_t* p = img.at(x, y);
            f.data[size_t(y) * size_t(img.width) + size_t(x)] =
                uint8_t(std::clamp(std::lround(to_y(p[0], p[1], p[2])), 16l, 235l));
        }
    uint8_t* uv = f.data.data() + size_t(img.width) * size_t(img.height);
    for (int cy = 0; cy < f.uv_rows(); ++cy)
        for (int cx = 0; cx < f.uv_stride() / 2; ++cx) {
            float r = 0, g = 0, b = 0;
            int n = 0;
            for (int dy = 0; dy < 2; ++dy)
                for (int dx = 0; dx < 2; ++dx) {
                    int x = 2 * cx + dx, y = 2 * cy + dy;
                    if (x >= img.width || y >= img.height) continue;
                    const uint8_t* p = img.at(x, y);
                    r += p[0];
                    g += p[1];
                    b += p[2];
                    ++n;
                }
            r /= float(n);
            g /= float(n);
            b /= float(n);
            float U = 128.f - 0.148223f * r - 0.290993f * g + 0.439216f * b;
            float V = 128.f + 0.439216f * r - 0.367788f * g - 0.071427f * b;
            uint8_t u8 = uint8_t(std::clamp(std::lround(U), 16l, 240l)), v8 = uint8_t(std::clamp(std::lround(V), 16l, 240l));
            uint8_t* d = uv + size_t(cy) * size_t(f.uv_stride()) + size_t(cx) * 2;
            d[0] = order == YuvOrder::NV12 ? u8 : v8;
            d[1] = order == YuvOrder::NV12 ? v8 : u8;
        }
    return f;
}

Image yuv_to_rgb(const YuvImage& f) {
    check_frame(f);
    Image img(f.width, f.height, 3);
    for (int y = 0; y < f.height; ++y)
        for (int x = 0; x < f.width; ++x) {
            float rgb[3];
            rgb_of(f, x, y, rgb);
            for (int c = 0; c < 3; ++c) img.at(x, y)[c] = uint8_t(std::lround(rgb[c]));
        }
    return img;
}

float yuv_reference_sample(const YuvImage& f, const Preprocess& p, const Geometry& g, int xt, int yt, int c, int channels) {
    const float sx = g.to_image_x(float(xt) + 0.5f), sy = g.to_image_y(float(yt) + 0.5f);
    float v[3];
    if (sx < 0 || sy < 0 || sx >= float(f.width) || sy >= float(f.height)) {
        v[0] = v[1] = v[2] = float(p.pad);
    } else {
        const float fx = sx - 0.5f, fy = sy - 0.5f;
        const int x0 = int(std::floor(fx)), y0 = int(std::floor(fy));
        const float wx = fx - float(x0), wy = fy - float(y0);
        const int xs[2] = {std::clamp(x0, 0, f.width - 1), std::clamp(x0 + 1, 0, f.width - 1)};
        const int ys[2] = {std::clamp(y0, 0, f.height - 1), std::clamp(y0 + 1, 0, f.height - 1)};
        float q[2][2][3];
        for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 2; ++j) rgb_of(f, xs[j], ys[i], q[i][j]);
        for (int k = 0; k < 3; ++k)
            v[k] = (q[0][0][k] * (1 - wx) + q[0][1][k] * wx) * (1 - wy) + (q[1][0][k] * (1 - wx) + q[1][1][k] * wx) * wy;
    }
    float x;
    if (channels == 1) x = 0.299f * v[0] + 0.587f * v[1] + 0.114f * v[2];
    else x = v[p.bgr ? 2 - c : c];
    return (x * p.scale - p.mean[size_t(c)]) / p.std[size_t(c)];
}

namespace detail {
void yuv_row_scalar(const YuvRow& j, int x0, int x1) {
    auto conv = [&](const uint8_t* yrow, const uint8_t* crow, int x, float out[3]) {
        const float Y = float(yrow[x]);
        const uint8_t* c = crow + (x >> 1) * 2;
        const float U = float(j.nv21 ? c[1] : c[0]), V = float(j.nv21 ? c[0] : c[1]);
        const float yv = kY * (Y - 16.f);
        out[0] = std::clamp(yv + kRV * (V - 128.f), 0.f, 255.f);
        out[1] = std::clamp(yv - kGU * (U - 128.f) - kGV * (V - 128.f), 0.f, 255.f);
        out[2] = std::clamp(yv + kBU * (U - 128.f), 0.f, 255.f);
    };
    for (int x = x0; x < x1; ++x) {
        float p00[3], p01[3], p10[3], p11[3];
        conv(j.ya, j.ca, j.xa[x], p00);
        conv(j.ya, j.ca, j.xb[x], p01);
        conv(j.yb, j.cb, j.xa[x], p10);
        conv(j.yb, j.cb, j.xb[x], p11);
        const float w = j.wx[x];
        float v[3];
        for (int k = 0; k < 3; ++k) {
            float top = p00[k] + w * (p01[k] - p00[k]), bot = p10[k] + w * (p11[k] - p10[k]);
            v[k] = top + j.wy * (bot - top);
        }
        j.r[x] = v[0];
        j.g[x] = v[1];
        j.b[x] = v[2];
    }
}
#if !(defined(__x86_64__) || defined(_M_X64))
int yuv_row_avx2(const YuvRow&, int) { return 0; }
#endif
}  // namespace detail

TensorImage yuv_to_tensor(const YuvImage& f, const Preprocess& p, const Shape& expected) {
    check_normalization(p);
    check_frame(f);
    auto lay = image_input_layout(expected, p.layout);
    if (!lay) fail("input shape " + shape_str(expected) + " is not an image input (rank 4, batch 1, 1 or 3 channels)");
    const bool nchw = lay->layout == Layout::NCHW;
    const int C = lay->channels;
    // The tensor size: fixed by the model, else --size (a frame has no natural size to keep).
    int th, tw;
    {
        const int64_t mh = expected[nchw ? 2 : 1], mw = expected[nchw ? 3 : 2];
        if (mh > 0 && mw > 0) {
            if ((p.width > 0 && p.width != mw) || (p.height > 0 && p.height != mh))
                fail("--size " + std::to_string(p.width) + "x" + std::to_string(p.height) +
                     " contradicts the model input's fixed " + std::to_string(mw) + "x" + std::to_string(mh));
            th = int(mh);
            tw = int(mw);
        } else if (p.width > 0 && p.height > 0) {
            th = mh > 0 ? int(mh) : p.height;
            tw = mw > 0 ? int(mw) : p.width;
        } else {
            fail("a YUV frame into a model input with dynamic size needs --size WxH");
        }
    }
    TensorImage out;
    out.geometry = make_geometry(f.width, f.height, tw, th, p.resize);
    const Geometry& g = out.geometry;
    out.tensor = Tensor::uninitialized(DType::F32, nchw ? Shape{1, C, th, tw} : Shape{1, th, tw, C});
    float* dst = out.tensor.data<float>();
    const size_t n = size_t(tw);
    const ColumnTaps cols = column_taps(g, tw, f.width);
    const auto &xa = cols.a, &xb = cols.b;
    const auto& wx = cols.w;
    const auto& xin = cols.inside;
    std::vector<float> rgb(3 * n);
    float mul[3], add[3];
    for (int c = 0; c < C; ++c) {
        mul[c] = p.scale / p.std[size_t(c)];
        add[c] = -p.mean[size_t(c)] / p.std[size_t(c)];
    }
    const bool avx2 = active_isa() >= Isa::Avx2 && active_isa() < Isa::Neon;
    const float pad = float(p.pad);
    for (int y = 0; y < th; ++y) {
        float sy = g.to_image_y(float(y) + 0.5f);
        const bool yin = sy >= 0 && sy < float(f.height);
        float fy = sy - 0.5f;
        int y0 = int(std::floor(fy));
        int ya = std::clamp(y0, 0, f.height - 1), yb = std::clamp(y0 + 1, 0, f.height - 1);
        detail::YuvRow j{f.y() + size_t(ya) * size_t(f.width),
                         f.y() + size_t(yb) * size_t(f.width),
                         f.uv() + size_t(ya / 2) * size_t(f.uv_stride()),
                         f.uv() + size_t(yb / 2) * size_t(f.uv_stride()),
                         fy - float(y0),
                         xa.data(),
                         xb.data(),
                         wx.data(),
                         f.width,
                         f.uv_stride(),
                         f.order == YuvOrder::NV21,
                         rgb.data(),
                         rgb.data() + n,
                         rgb.data() + 2 * n};
        int done = 0;
        if (yin) {
            if (avx2) done = detail::yuv_row_avx2(j, tw);
            detail::yuv_row_scalar(j, done, tw);
        }
        const float* planes[3] = {rgb.data(), rgb.data() + n, rgb.data() + 2 * n};
        if (p.bgr) std::swap(planes[0], planes[2]);
        for (int c = 0; c < C; ++c) {
            float* d = nchw ? dst + (size_t(c) * size_t(th) + size_t(y)) * n : dst + size_t(y) * n * size_t(C) + size_t(c);
            const size_t step = nchw ? 1 : size_t(C);
            for (size_t x = 0; x < n; ++x) {
                float v = !yin || !xin[x] ? pad
                          : C == 1        ? 0.299f * rgb[x] + 0.587f * rgb[n + x] + 0.114f * rgb[2 * n + x]
                                          : planes[c][x];
                d[x * step] = v * mul[c] + add[c];
            }
        }
    }
    return out;
}

}  // namespace edgecnn::vision
