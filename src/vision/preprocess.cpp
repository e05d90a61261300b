#include "vision/preprocess.hpp"

#include "base/thread_pool.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "base/error.hpp"

namespace edgecnn::vision {

namespace {

float parse_float(const std::string& flag, const std::string& s) {
    size_t used = 0;
    float v = 0;
    try {
        v = std::stof(s, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != s.size() || !std::isfinite(v)) fail(flag + ": '" + s + "' is not a number");
    return v;
}

int parse_int(const std::string& flag, const std::string& s, int lo, int hi) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) fail(flag + ": '" + s + "' is not a whole number");
    long v = s.size() > 9 ? long(hi) + 1 : std::stol(s);
    if (v < lo || v > hi) fail(flag + ": " + s + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
    return int(v);
}

Layout parse_layout(const std::string& flag, const std::string& s) {
    if (s == "nchw" || s == "NCHW") return Layout::NCHW;
    if (s == "nhwc" || s == "NHWC") return Layout::NHWC;
    fail(flag + ": layout '" + s + "' is neither nchw nor nhwc");
}

void check_std(const std::string& where, const std::array<float, 3>& s) {
    for (float v : s)
        if (v == 0.f) fail(where + ": std must not be 0");
}

// Bilinear sample of one image channel at continuous coordinates (pixel centres at +0.5),
// clamped to the edge.
float bilinear(const Image& img, float sx, float sy, int ch) {
    float fx = sx - 0.5f, fy = sy - 0.5f;
    int x0 = int(std::floor(fx)), y0 = int(std::floor(fy));
    float wx = fx - float(x0), wy = fy - float(y0);
    int xa = std::clamp(x0, 0, img.width - 1), xb = std::clamp(x0 + 1, 0, img.width - 1);
    int ya = std::clamp(y0, 0, img.height - 1), yb = std::clamp(y0 + 1, 0, img.height - 1);
    float p00 = img.at(xa, ya)[ch], p01 = img.at(xb, ya)[ch], p10 = img.at(xa, yb)[ch], p11 = img.at(xb, yb)[ch];
    return (p00 * (1 - wx) + p01 * wx) * (1 - wy) + (p10 * (1 - wx) + p11 * wx) * wy;
}

// Resolved H and W of the tensor for this photo.
void resolve_size(const Image& img, const Preprocess& p, const Shape& expected, size_t h_axis, size_t w_axis, int& th,
                  int& tw) {
    int64_t mh = expected[h_axis], mw = expected[w_axis];
    if (mh > 0 && mw > 0) {
        if ((p.width > 0 && p.width != mw) || (p.height > 0 && p.height != mh))
            fail("--size " + std::to_string(p.width) + "x" + std::to_string(p.height) + " contradicts the model input's fixed " +
                 std::to_string(mw) + "x" + std::to_string(mh));
        th = int(mh);
        tw = int(mw);
        return;
    }
    if (p.width > 0 && p.height > 0) {
        tw = mw > 0 ? int(mw) : p.width;
        th = mh > 0 ? int(mh) : p.height;
        return;
    }
    // Dynamic: the photo's own size, the longer side capped, rounded to a multiple.
    double w = img.width, h = img.height;
    if (p.max_side > 0 && std::max(w, h) > p.max_side) {
        double s = p.max_side / std::max(w, h);
        w *= s;
        h *= s;
    }
    int m = std::max(1, p.size_multiple);
    auto round_to = [m](double v) { return std::max(m, int(std::lround(v / m)) * m); };
    tw = mw > 0 ? int(mw) : round_to(w);
    th = mh > 0 ? int(mh) : round_to(h);
}

}  // namespace

ResizeMode parse_resize_mode(const std::string& s) {
    if (s == "stretch") return ResizeMode::Stretch;
    if (s == "letterbox") return ResizeMode::Letterbox;
    if (s == "center-crop" || s == "center_crop" || s == "crop") return ResizeMode::CenterCrop;
    fail("--resize: '" + s + "' is not one of stretch, letterbox, center-crop");
}

std::array<float, 3> parse_triple(const std::string& flag, const std::string& s) {
    std::vector<float> v;
    size_t b = 0;
    while (b <= s.size()) {
        size_t e = s.find(',', b);
        if (e == std::string::npos) e = s.size();
        v.push_back(parse_float(flag, s.substr(b, e - b)));
        b = e + 1;
    }
    if (v.size() == 1) return {v[0], v[0], v[0]};
    if (v.size() == 3) return {v[0], v[1], v[2]};
    fail(flag + ": '" + s + "' needs 1 or 3 comma-separated numbers");
}

void parse_size(const std::string& flag, const std::string& s, int& w, int& h) {
    size_t x = s.find_first_of("xX");
    if (x == std::string::npos) fail(flag + ": '" + s + "' is not WxH (e.g. 224x224)");
    w = parse_int(flag, s.substr(0, x), 1, 16384);
    h = parse_int(flag, s.substr(x + 1), 1, 16384);
}

void apply_flags(Preprocess& p, const PreprocessFlags& f) {
    if (!f.resize.empty()) p.resize = parse_resize_mode(f.resize);
    if (!f.size.empty()) parse_size("--size", f.size, p.width, p.height);
    if (!f.scale.empty()) p.scale = parse_float("--scale", f.scale);
    if (!f.mean.empty()) p.mean = parse_triple("--mean", f.mean);
    if (!f.std.empty()) {
        p.std = parse_triple("--std", f.std);
        check_std("--std", p.std);
    }
    if (f.bgr && f.rgb) fail("--bgr and --rgb contradict each other");
    if (f.bgr) p.bgr = true;
    if (f.rgb) p.bgr = false;
    if (f.nhwc && f.nchw) fail("--nhwc and --nchw contradict each other");
    if (f.nhwc) p.layout = Layout::NHWC;
    if (f.nchw) p.layout = Layout::NCHW;
    if (!f.layout.empty()) p.layout = parse_layout("--layout", f.layout);
    if (!f.pad.empty()) p.pad = parse_int("--pad", f.pad, 0, 255);
}

void apply_sidecar(Preprocess& p, const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(ErrorKind::Io, path + ": cannot open preprocessing sidecar");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    apply_sidecar_json(p, text, path, std::filesystem::path(path).parent_path().string());
}

void apply_sidecar_json(Preprocess& p, const std::string& text, const std::string& origin, const std::string& base_dir) {
    const std::string& path = origin;
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        fail(path + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object()) fail(path + ": the sidecar must be a JSON object");
    auto where = [&](const std::string& key) { return path + ": \"" + key + "\""; };
    auto number = [&](const std::string& key, const nlohmann::json& v) -> float {
        if (!v.is_number()) fail(where(key) + " must be a number");
        return v.get<float>();
    };
    auto triple = [&](const std::string& key, const nlohmann::json& v) -> std::array<float, 3> {
        if (v.is_number()) return {number(key, v), number(key, v), number(key, v)};
        if (!v.is_array() || (v.size() != 1 && v.size() != 3)) fail(where(key) + " must be a number or an array of 1 or 3 numbers");
        if (v.size() == 1) return {number(key, v[0]), number(key, v[0]), number(key, v[0])};
        return {number(key, v[0]), number(key, v[1]), number(key, v[2])};
    };
    auto string = [&](const std::string& key, const nlohmann::json& v) -> std::string {
        if (!v.is_string()) fail(where(key) + " must be a string");
        return v.get<std::string>();
    };
    auto integer = [&](const std::string& key, const nlohmann::json& v, int lo, int hi) -> int {
        if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi)
            fail(where(key) + " must be a whole number in " + std::to_string(lo) + ".." + std::to_string(hi));
        return v.get<int>();
    };
    try {
        for (auto it = j.begin(); it != j.end(); ++it) {
            const std::string& key = it.key();
            const nlohmann::json& v = it.value();
            if (key == "resize") p.resize = parse_resize_mode(string(key, v));
            else if (key == "size") {
                if (v.is_string()) parse_size(where(key), v.get<std::string>(), p.width, p.height);
                else if (v.is_array() && v.size() == 2) {
                    p.width = integer(key, v[0], 1, 16384);
                    p.height = integer(key, v[1], 1, 16384);
                } else fail(where(key) + " must be \"WxH\" or [W, H]");
            } else if (key == "scale") p.scale = number(key, v);
            else if (key == "mean") p.mean = triple(key, v);
            else if (key == "std") {
                p.std = triple(key, v);
                check_std(where(key), p.std);
            } else if (key == "bgr") {
                if (!v.is_boolean()) fail(where(key) + " must be true or false");
                p.bgr = v.get<bool>();
            } else if (key == "layout") p.layout = parse_layout(where(key), string(key, v));
            else if (key == "pad") p.pad = integer(key, v, 0, 255);
            else if (key == "max_side") p.max_side = integer(key, v, 0, 16384);
            else if (key == "size_multiple") p.size_multiple = integer(key, v, 1, 4096);
            else if (key == "task") p.task = string(key, v);
            else if (key == "class_names") {
                std::filesystem::path f = string(key, v);
                if (f.is_relative() && !base_dir.empty()) f = std::filesystem::path(base_dir) / f;
                p.class_names = f.string();
            } else if (key == "comment" || key == "_comment") {
                // free text for the reader
            } else {
                fail(path + ": unknown key \"" + key +
                     "\" (known: resize, size, scale, mean, std, bgr, layout, pad, max_side, size_multiple, task, "
                     "class_names, comment)");
            }
        }
    } catch (const nlohmann::json::exception& e) {
        fail(path + ": " + e.what());
    } catch (const Error& e) {
        // Flag parsers name the flag; from a sidecar, name the file too.
        if (std::string(e.what()).rfind(path, 0) == 0) throw;
        throw e.with_prefix(path + ": ");
    }
}

std::string find_sidecar(const std::string& model_path) {
    std::string s = model_path + ".json";
    std::error_code ec;
    return std::filesystem::is_regular_file(s, ec) ? s : std::string();
}

std::string describe(const Preprocess& p) {
    const char* mode = p.resize == ResizeMode::Stretch ? "stretch" : p.resize == ResizeMode::Letterbox ? "letterbox" : "center-crop";
    char buf[400];
    std::snprintf(buf, sizeof buf, "resize %s, scale %g, mean (%g, %g, %g), std (%g, %g, %g), %s%s", mode, double(p.scale),
                  double(p.mean[0]), double(p.mean[1]), double(p.mean[2]), double(p.std[0]), double(p.std[1]),
                  double(p.std[2]), p.bgr ? "BGR" : "RGB",
                  !p.layout ? "" : *p.layout == Layout::NCHW ? ", NCHW" : ", NHWC");
    return buf;
}

Geometry make_geometry(int iw, int ih, int tw, int th, ResizeMode mode) {
    Geometry g;
    g.image_width = iw;
    g.image_height = ih;
    g.tensor_width = tw;
    g.tensor_height = th;
    float sx = float(iw) / float(tw), sy = float(ih) / float(th);
    switch (mode) {
        case ResizeMode::Stretch:
            g.scale_x = sx;
            g.scale_y = sy;
            break;
        case ResizeMode::Letterbox: {
            float s = std::max(sx, sy);  // the whole photo fits; borders fill the rest
            g.scale_x = g.scale_y = s;
            g.offset_x = -0.5f * (float(tw) - float(iw) / s) * s;
            g.offset_y = -0.5f * (float(th) - float(ih) / s) * s;
            break;
        }
        case ResizeMode::CenterCrop: {
            float s = std::min(sx, sy);  // the tensor is covered; the photo's overhang is cut
            g.scale_x = g.scale_y = s;
            g.offset_x = 0.5f * (float(iw) - float(tw) * s);
            g.offset_y = 0.5f * (float(ih) - float(th) * s);
            break;
        }
    }
    return g;
}

std::optional<InputLayout> image_input_layout(const Shape& s, std::optional<Layout> forced) {
    if (s.size() != 4 || s[0] > 1) return std::nullopt;
    auto is_c = [](int64_t d) { return d == 1 || d == 3; };
    bool nchw = is_c(s[1]), nhwc = is_c(s[3]);
    if (forced) {
        if (*forced == Layout::NCHW && nchw) return InputLayout{Layout::NCHW, int(s[1])};
        if (*forced == Layout::NHWC && nhwc) return InputLayout{Layout::NHWC, int(s[3])};
        return std::nullopt;
    }
    // A dynamic or 1/3 axis 1 is the usual PyTorch export; NHWC only when axis 1 cannot be C.
    if (nchw && !(nhwc && s[1] == 1 && s[2] > 3 && s[3] == 3)) return InputLayout{Layout::NCHW, int(s[1])};
    if (nhwc) return InputLayout{Layout::NHWC, int(s[3])};
    return std::nullopt;
}

float reference_sample(const Image& img, const Preprocess& p, const Geometry& g, int xt, int yt, int c, int channels) {
    float sx = g.to_image_x(float(xt) + 0.5f), sy = g.to_image_y(float(yt) + 0.5f);
    float v;
    if (sx < 0 || sy < 0 || sx >= float(img.width) || sy >= float(img.height)) {
        v = float(p.pad);
    } else if (channels == 1) {
        if (img.channels == 1) v = bilinear(img, sx, sy, 0);
        else
            v = 0.299f * bilinear(img, sx, sy, 0) + 0.587f * bilinear(img, sx, sy, 1) + 0.114f * bilinear(img, sx, sy, 2);
    } else {
        int src = p.bgr ? 2 - c : c;
        v = bilinear(img, sx, sy, img.channels == 1 ? 0 : src);
    }
    return (v * p.scale - p.mean[size_t(c)]) / p.std[size_t(c)];
}

ColumnTaps column_taps(const Geometry& g, int tw, int src_width) {
    const size_t n = size_t(tw);
    ColumnTaps t{std::vector<int32_t>(n), std::vector<int32_t>(n), std::vector<float>(n), std::vector<char>(n)};
    for (int x = 0; x < tw; ++x) {
        float sx = g.to_image_x(float(x) + 0.5f);
        t.inside[size_t(x)] = sx >= 0 && sx < float(src_width);
        float fx = sx - 0.5f;
        int x0 = int(std::floor(fx));
        t.w[size_t(x)] = fx - float(x0);
        t.a[size_t(x)] = std::clamp(x0, 0, src_width - 1);
        t.b[size_t(x)] = std::clamp(x0 + 1, 0, src_width - 1);
    }
    return t;
}

void check_normalization(const Preprocess& p) {
    if (!std::isfinite(p.scale)) fail("preprocessing: scale is not a finite number");
    for (size_t c = 0; c < 3; ++c) {
        if (!std::isfinite(p.mean[c]) || !std::isfinite(p.std[c]))
            fail("preprocessing: mean/std must be finite numbers");
        if (p.std[c] == 0) fail("preprocessing: std must not be 0 (channel " + std::to_string(c) + ")");
    }
}

TensorImage to_tensor(const Image& img, const Preprocess& p, const Shape& expected, ThreadPool* pool) {
    if (img.empty()) fail("to_tensor: empty image");
    check_normalization(p);
    auto lay = image_input_layout(expected, p.layout);
    if (!lay) fail("input shape " + shape_str(expected) + " is not an image input (rank 4, batch 1, 1 or 3 channels" +
                   std::string(p.layout ? " in the layout asked for" : "") + ")");
    const bool nchw = lay->layout == Layout::NCHW;
    const int C = lay->channels;
    int th = 0, tw = 0;
    resolve_size(img, p, expected, nchw ? 2 : 1, nchw ? 3 : 2, th, tw);
    TensorImage out;
    out.geometry = make_geometry(img.width, img.height, tw, th, p.resize);
    const Geometry& g = out.geometry;
    Shape shape = nchw ? Shape{1, C, th, tw} : Shape{1, th, tw, C};
    out.tensor = Tensor::uninitialized(DType::F32, shape);
    float* dst = out.tensor.data<float>();

    // Per column: the two source columns, the weight, and whether it is inside the photo.
    const size_t ntw = size_t(tw);
    const ColumnTaps cols = column_taps(g, tw, img.width);
    const auto &xa = cols.a, &xb = cols.b;
    const auto& wx = cols.w;
    const auto& xin = cols.inside;
    // Per tensor channel: which photo channels and weights make it (luma for C = 1).
    float mul[3], add[3];
    for (int c = 0; c < C; ++c) {
        mul[c] = p.scale / p.std[size_t(c)];
        add[c] = -p.mean[size_t(c)] / p.std[size_t(c)];
    }
    const int ic = img.channels;
    const float pad_v = float(p.pad);
    // Output rows [y0, y1): each row is independent, so blocks of rows can run in parallel.
    auto rows = [&](int y_begin, int y_end) {
        std::vector<float> row(ntw * 3);  // one output row of raw (0..255) samples, HWC
        for (int y = y_begin; y < y_end; ++y) {
            float sy = g.to_image_y(float(y) + 0.5f);
            bool yin = sy >= 0 && sy < float(img.height);
            float fy = sy - 0.5f;
            int y0 = int(std::floor(fy));
            float wy = fy - float(y0);
            const uint8_t* ra = img.at(0, std::clamp(y0, 0, img.height - 1));
            const uint8_t* rb = img.at(0, std::clamp(y0 + 1, 0, img.height - 1));
            for (int x = 0; x < tw; ++x) {
                float* r = &row[size_t(x) * 3];
                if (!yin || !xin[size_t(x)]) {
                    r[0] = r[1] = r[2] = pad_v;
                    continue;
                }
                const float w = wx[size_t(x)];
                const uint8_t *a0 = ra + xa[size_t(x)] * ic, *a1 = ra + xb[size_t(x)] * ic;
                const uint8_t *b0 = rb + xa[size_t(x)] * ic, *b1 = rb + xb[size_t(x)] * ic;
                float s[3];
                const int n = ic == 1 ? 1 : 3;
                for (int k = 0; k < n; ++k)
                    s[k] = (float(a0[k]) * (1 - w) + float(a1[k]) * w) * (1 - wy) + (float(b0[k]) * (1 - w) + float(b1[k]) * w) * wy;
                if (C == 1) {
                    r[0] = n == 1 ? s[0] : 0.299f * s[0] + 0.587f * s[1] + 0.114f * s[2];
                } else if (n == 1) {
                    r[0] = r[1] = r[2] = s[0];
                } else {
                    r[0] = s[p.bgr ? 2 : 0];
                    r[1] = s[1];
                    r[2] = s[p.bgr ? 0 : 2];
                }
            }
            if (nchw) {
                for (int c = 0; c < C; ++c) {
                    float* d = dst + (size_t(c) * size_t(th) + size_t(y)) * size_t(tw);
                    for (int x = 0; x < tw; ++x) d[x] = row[size_t(x) * 3 + size_t(c)] * mul[c] + add[c];
                }
            } else {
                float* d = dst + size_t(y) * size_t(tw) * size_t(C);
                for (int x = 0; x < tw; ++x)
                    for (int c = 0; c < C; ++c) d[size_t(x) * size_t(C) + size_t(c)] = row[size_t(x) * 3 + size_t(c)] * mul[c] + add[c];
            }
        }
    };
    // About 32 rows a task (a few 100 us each for camera-sized inputs).
    const int block = 32, tasks = (th + block - 1) / block;
    if (pool && pool->size() > 1 && tasks > 1)
        pool->parallel_for(tasks, [&](int64_t t) { rows(int(t) * block, std::min(th, int(t + 1) * block)); });
    else
        rows(0, th);
    return out;
}

Image resize_bilinear(const Image& img, int width, int height) {
    Image out(width, height, img.channels);
    Geometry g = make_geometry(img.width, img.height, width, height, ResizeMode::Stretch);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x)
            for (int c = 0; c < img.channels; ++c) {
                float v = bilinear(img, g.to_image_x(float(x) + 0.5f), g.to_image_y(float(y) + 0.5f), c);
                out.at(x, y)[c] = uint8_t(std::clamp(std::lround(v), 0l, 255l));
            }
    return out;
}

}  // namespace edgecnn::vision
