#include "quant/calibration.hpp"

#include <algorithm>
#include <filesystem>
#include <random>

#include "base/error.hpp"
#include "io/idx.hpp"
#include "io/npy.hpp"
#include "quant/image_source.hpp"

namespace edgecnn {

namespace {

// The single graph input's static shape with a dynamic leading (batch) dim set to 1.
Shape single_input_shape(const Graph& g, const std::string& what) {
    if (g.inputs.size() != 1)
        fail_unsupported(what + " feeds models with one input; this model has " + std::to_string(g.inputs.size()));
    const Value& v = g.value(g.inputs[0]);
    if (!v.shape) fail_unsupported(what + ": input '" + v.name + "' has no declared shape");
    Shape s;
    for (size_t i = 0; i < v.shape->size(); ++i) {
        const Dim& d = (*v.shape)[i];
        if (d.is_static()) s.push_back(d.value);
        else if (i == 0) s.push_back(1);
        else fail_unsupported(what + ": input '" + v.name + "' has a dynamic dim other than the batch");
    }
    return s;
}

class IdxSource final : public CalibrationSource {
public:
    IdxSource(const Graph& g, const std::string& path, const ImagePreprocess& pre, int64_t limit) : pre_(pre) {
        images_ = read_idx_u8(path);
        if (images_.rank() != 3) fail(path + ": expected an IDX file of images [N,H,W], got " + shape_str(images_.shape()));
        shape_ = single_input_shape(g, path);
        name_ = g.value(g.inputs[0]).name;
        if (g.value(g.inputs[0]).dtype != DType::F32) fail_unsupported(path + ": the model's input is not float32");
        const int64_t hw = images_.dim(1) * images_.dim(2);
        if (shape_numel(shape_) != hw)
            fail(path + ": images are " + std::to_string(images_.dim(1)) + "x" + std::to_string(images_.dim(2)) +
                 " but the model's input is " + shape_str(shape_));
        n_ = limit > 0 ? std::min(limit, images_.dim(0)) : images_.dim(0);
        if (!(pre_.std != 0.f)) fail("--std must not be 0");
    }
    int64_t size() const override { return n_; }
    NamedTensors get(int64_t i) override {
        Tensor t(DType::F32, shape_);
        const int64_t hw = images_.dim(1) * images_.dim(2);
        const uint8_t* px = images_.data<uint8_t>() + i * hw;
        float* d = t.data<float>();
        for (int64_t k = 0; k < hw; ++k) d[k] = (float(px[k]) * pre_.scale - pre_.mean) / pre_.std;
        return {{name_, t}};
    }

private:
    Tensor images_;
    ImagePreprocess pre_;
    Shape shape_;
    std::string name_;
    int64_t n_ = 0;
};

class FolderSource final : public CalibrationSource {
public:
    FolderSource(const Graph& g, const std::string& dir, int64_t limit) {
        if (g.inputs.size() != 1)
            fail_unsupported(dir + ": a folder of tensors feeds models with one input; this model has " +
                             std::to_string(g.inputs.size()));
        name_ = g.value(g.inputs[0]).name;
        for (const auto& e : std::filesystem::directory_iterator(dir)) {
            const std::string ext = e.path().extension().string();
            if (e.is_regular_file() && (ext == ".npy" || ext == ".pb")) files_.push_back(e.path().string());
        }
        std::sort(files_.begin(), files_.end());
        if (files_.empty()) fail(dir + ": no .npy or .pb files");
        if (limit > 0 && int64_t(files_.size()) > limit) files_.resize(size_t(limit));
    }
    int64_t size() const override { return int64_t(files_.size()); }
    NamedTensors get(int64_t i) override;

private:
    std::vector<std::string> files_;
    std::string name_;
};

class RandomSource final : public CalibrationSource {
public:
    RandomSource(const Graph& g, int64_t n, const std::map<std::string, Shape>& given) : n_(n) {
        for (ValueId v : g.inputs) {
            if (g.value(v).dtype != DType::F32) fail_unsupported("random: input '" + g.value(v).name + "' is not float32");
            if (auto it = given.find(g.value(v).name); it != given.end()) {
                inputs_.emplace_back(g.value(v).name, it->second);
                continue;
            }
            Shape s;
            if (!g.value(v).shape) fail_unsupported("random: input '" + g.value(v).name + "' has no declared shape");
            for (size_t i = 0; i < g.value(v).shape->size(); ++i) {
                const Dim& d = (*g.value(v).shape)[i];
                if (d.is_static()) s.push_back(d.value);
                else if (i == 0) s.push_back(1);
                else
                    fail_unsupported("random: input '" + g.value(v).name +
                                     "' has a dynamic dim other than the batch (bind it with --input-shape)");
            }
            inputs_.emplace_back(g.value(v).name, s);
        }
    }
    int64_t size() const override { return n_; }
    NamedTensors get(int64_t i) override {
        std::mt19937 rng(uint32_t(1234 + i));
        std::normal_distribution<float> nd(0.f, 1.f);
        NamedTensors out;
        for (const auto& [name, s] : inputs_) {
            Tensor t(DType::F32, s);
            for (int64_t k = 0; k < t.numel(); ++k) t.data<float>()[k] = nd(rng);
            out.emplace_back(name, t);
        }
        return out;
    }

private:
    int64_t n_;
    std::vector<std::pair<std::string, Shape>> inputs_;
};

}  // namespace

// .pb files need protobuf, which lives in the ONNX library (src/onnx/); its reader is
// reached through this hook, set by that library's users (the CLI).
Tensor (*g_read_tensor_pb_hook)(const std::string&) = nullptr;

NamedTensors FolderSource::get(int64_t i) {
    const std::string& f = files_[size_t(i)];
    Tensor t;
    if (f.size() > 4 && f.substr(f.size() - 4) == ".npy") {
        t = read_npy(f);
    } else {
        if (!g_read_tensor_pb_hook) fail_unsupported(f + ": .pb tensors need the ONNX library");
        t = g_read_tensor_pb_hook(f);
    }
    return {{name_, t}};
}

std::unique_ptr<CalibrationSource> idx_image_source(const Graph& g, const std::string& path, const ImagePreprocess& pre,
                                                    int64_t limit) {
    return std::make_unique<IdxSource>(g, path, pre, limit);
}

std::unique_ptr<CalibrationSource> open_calibration_source(const Graph& g, const std::string& spec,
                                                           const vision::Preprocess& pre, int64_t limit,
                                                           const std::map<std::string, Shape>& shapes) {
    if (spec.rfind("random:", 0) == 0) {
        int64_t n = 0;
        try {
            n = std::stoll(spec.substr(7));
        } catch (...) {
            n = 0;
        }
        if (n <= 0) fail("calibration source '" + spec + "': expected random:N with N > 0");
        return std::make_unique<RandomSource>(g, limit > 0 ? std::min(n, limit) : n, shapes);
    }
    if (!std::filesystem::exists(spec)) throw Error(ErrorKind::Io, "calibration source '" + spec + "' does not exist");
    if (std::filesystem::is_directory(spec)) {
        if (is_image_folder(spec)) return image_folder_source(g, spec, pre, limit);
        return std::make_unique<FolderSource>(g, spec, limit);
    }
    // IDX images are grey: one mean and one std (a triple of equal values is the same).
    for (int c = 1; c < 3; ++c)
        if (pre.mean[size_t(c)] != pre.mean[0] || pre.std[size_t(c)] != pre.std[0])
            fail(spec + ": IDX images have one channel; give one --mean and one --std value");
    if (pre.resize != vision::ResizeMode::Stretch || pre.width || pre.height || pre.bgr)
        fail(spec + ": IDX images are fed as stored; --resize/--size/--bgr apply to photos only");
    ImagePreprocess ip;
    ip.scale = pre.scale;
    ip.mean = pre.mean[0];
    ip.std = pre.std[0];
    return idx_image_source(g, spec, ip, limit);
}

std::vector<int> read_idx_labels(const std::string& path) {
    Tensor t = read_idx_u8(path);
    if (t.rank() != 1) fail(path + ": expected an IDX labels file [N], got " + shape_str(t.shape()));
    std::vector<int> out(size_t(t.numel()));
    for (int64_t i = 0; i < t.numel(); ++i) out[size_t(i)] = t.data<uint8_t>()[i];
    return out;
}

}  // namespace edgecnn
