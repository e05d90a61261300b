#include "quant/image_source.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "base/error.hpp"
#include "vision/image.hpp"

namespace edgecnn {

namespace fs = std::filesystem;

bool is_image_file(const std::string& path) {
    std::string ext = fs::path(path).extension().string();
    for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
    return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

namespace {

std::vector<std::string> images_in(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_regular_file() && is_image_file(e.path().string())) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<fs::path> subdirs(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_directory()) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

class ImageListSource final : public CalibrationSource {
public:
    ImageListSource(const Graph& g, ImageList list, const vision::Preprocess& pre, int64_t limit, const std::string& what)
        : list_(std::move(list)), pre_(pre) {
        std::string all;
        int found = 0;
        for (ValueId id : g.inputs) {
            const Value& v = g.value(id);
            all += (all.empty() ? "" : ", ") + v.name;
            if (v.constant || !v.shape) continue;
            Shape s;
            for (const Dim& d : *v.shape) s.push_back(d.is_static() ? d.value : -1);
            if (auto lay = vision::image_input_layout(s, pre.layout)) {
                ++found;
                name_ = v.name;
                shape_ = s;
                if (!pre_.layout) pre_.layout = lay->layout;
            }
        }
        if (found != 1)
            fail_unsupported(what + ": photos feed models with one image input (rank 4, 1 or 3 channels); inputs: " + all);
        if (g.inputs.size() != 1) fail_unsupported(what + ": photos feed models with one input; inputs: " + all);
        const int64_t total = int64_t(list_.files.size());
        if (limit > 0 && limit < total) {
            for (int64_t k = 0; k < limit; ++k) pick_.push_back(k * total / limit);
        } else {
            for (int64_t k = 0; k < total; ++k) pick_.push_back(k);
        }
    }
    int64_t size() const override { return int64_t(pick_.size()); }
    NamedTensors get(int64_t i) override {
        const std::string& f = list_.files[size_t(pick_[size_t(i)])];
        vision::Image img = vision::load_image(f);
        try {
            return {{name_, vision::to_tensor(img, pre_, shape_).tensor}};
        } catch (const Error& e) {
            throw e.with_prefix(f + ": ");
        }
    }
    int label(int64_t i) const override {
        return list_.labels.empty() ? -1 : list_.labels[size_t(pick_[size_t(i)])];
    }
    std::vector<std::string> class_names() const override { return list_.classes; }

private:
    ImageList list_;
    vision::Preprocess pre_;
    std::string name_;
    Shape shape_;
    std::vector<int64_t> pick_;  // indices into list_.files
};

}  // namespace

bool is_image_folder(const std::string& dir) {
    if (!fs::is_directory(dir)) return false;
    if (!images_in(dir).empty()) return true;
    for (const auto& d : subdirs(dir))
        if (!images_in(d).empty()) return true;
    return false;
}

ImageList list_images(const std::string& dir) {
    ImageList l;
    l.files = images_in(dir);
    std::vector<fs::path> classes;
    for (const auto& d : subdirs(dir))
        if (!images_in(d).empty()) classes.push_back(d);
    if (!l.files.empty() && !classes.empty())
        fail(dir + ": holds photos and class sub-folders at once; use a flat folder or an ImageFolder tree");
    for (const auto& d : classes) {
        const int label = int(l.classes.size());
        l.classes.push_back(d.filename().string());
        for (auto& f : images_in(d)) {
            l.files.push_back(std::move(f));
            l.labels.push_back(label);
        }
    }
    if (l.files.empty()) throw Error(ErrorKind::Io, dir + ": no .jpg, .jpeg, .png or .bmp photos (nor class sub-folders of them)");
    return l;
}

std::unique_ptr<CalibrationSource> image_list_source(const Graph& g, ImageList list, const vision::Preprocess& pre,
                                                     int64_t limit, const std::string& what) {
    if (list.files.empty()) fail(what + ": no photos");
    if (!list.labels.empty() && list.labels.size() != list.files.size()) fail(what + ": labels do not match the photos");
    return std::make_unique<ImageListSource>(g, std::move(list), pre, limit, what);
}

std::unique_ptr<CalibrationSource> image_folder_source(const Graph& g, const std::string& dir,
                                                       const vision::Preprocess& pre, int64_t limit) {
    return image_list_source(g, list_images(dir), pre, limit, dir);
}

}  // namespace edgecnn
