// --task classify: top-k classes of a [1,K] (or [1,K,1,1]) score output, with names.
#include <algorithm>
#include <cstdio>

#include "base/error.hpp"
#include "tasks.hpp"
#include "vision/draw.hpp"
#include "vision/postprocess/classify.hpp"

namespace edgecnn::cli {

namespace {

class ClassifyTask : public Task {
public:
    explicit ClassifyTask(const TaskOptions& o) : k_(std::max(1, o.top_k)), output_(o.param_or("output", "")) {
        if (!o.class_names.empty()) names_ = vision::read_class_names(o.class_names);
        else names_ = o.class_name_list;
    }

    TaskResult process(const TaskFrame& f) override {
        const Tensor& t = task_output(f, output_);
        if (t.dtype() != DType::F32) fail("classify: output is " + dtype_name(t.dtype()) + ", not float32");
        int64_t batch = t.rank() > 0 ? t.dim(0) : 1;
        if (t.rank() < 1 || batch != 1 || t.numel() < 1)
            fail("classify: output " + shape_str(t.shape()) + " is not one row of class scores [1,K]");
        const size_t n = size_t(t.numel());
        if (!names_.empty() && names_.size() != n)
            std::fprintf(stderr, "warning: %zu class names for %zu scores\n", names_.size(), n);
        auto top = vision::top_k(t.data<float>(), n, k_);
        TaskResult r;
        for (size_t i = 0; i < top.size(); ++i) {
            const auto& c = top[i];
            std::string name = size_t(c.index) < names_.size() ? names_[size_t(c.index)] : "";
            char buf[300];
            std::snprintf(buf, sizeof buf, "top-%zu: class %d%s%s  score %.4f  p %.4f", i + 1, c.index,
                          name.empty() ? "" : " ", name.c_str(), double(c.score), double(c.probability));
            r.lines.push_back(buf);
        }
        // The picture: the photo (enlarged to at least 256 px wide, nearest) with the top-1
        // label written on it.
        vision::Image img = rgb_copy(f.image);
        int s = std::max(1, (256 + img.width - 1) / img.width);
        if (s > 1) {
            vision::Image big(img.width * s, img.height * s, 3);
            // One enlarged row per source row, copied s times (whole rows, not pixel by pixel).
            for (int y = 0; y < img.height; ++y) {
                uint8_t* row = big.at(0, y * s);
                for (int x = 0; x < img.width; ++x)
                    for (int r = 0; r < s; ++r) std::copy_n(img.at(x, y), 3, row + size_t(x * s + r) * 3);
                for (int r = 1; r < s; ++r) std::copy_n(row, size_t(big.width) * 3, big.at(0, y * s + r));
            }
            img = std::move(big);
        }
        if (!top.empty()) {
            const auto& c = top[0];
            std::string label = size_t(c.index) < names_.size() ? names_[size_t(c.index)] : "class " + std::to_string(c.index);
            char buf[64];
            std::snprintf(buf, sizeof buf, " %.0f%%", 100.0 * double(c.probability));
            vision::draw_text(img, 4, 4, label + buf, vision::Color{255, 255, 255}, std::max(1, img.width / 160));
        }
        r.overlay = std::move(img);
        return r;
    }

private:
    int k_;
    std::string output_;
    std::vector<std::string> names_;
};

}  // namespace

EDGECNN_REGISTER_TASK(classify, {"classify", "top-k classes (--top-k, --class-names FILE)",
                                 [](const TaskOptions& o) { return std::make_unique<ClassifyTask>(o); }, nullptr});

}  // namespace edgecnn::cli
