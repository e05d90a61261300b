#include "image_inputs.hpp"

#include <CLI/CLI.hpp>

#include <chrono>

#include "base/error.hpp"
#include "random_inputs.hpp"
#include "tasks.hpp"
#include "vision/nv12.hpp"

namespace edgecnn::cli {

namespace {
using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

std::string sidecar_path(const std::string& model, const ImageArgs& a) {
    return a.preprocess_file.empty() ? vision::find_sidecar(model) : a.preprocess_file;
}

// What an .ecnn file carries (convert stores the sidecar's JSON and the class names): the
// base layer, under a sidecar file and the flags.
void apply_embedded(vision::Preprocess& p, const Graph& g, const std::string& model) {
    auto it = g.metadata.find("preprocess");
    if (it != g.metadata.end() && !it->second.empty())
        vision::apply_sidecar_json(p, it->second, model + ": embedded preprocessing", "");
}

std::vector<std::string> embedded_class_names(const Graph& g) {
    std::vector<std::string> names;
    auto it = g.metadata.find("class_names");
    if (it == g.metadata.end()) return names;
    size_t start = 0;
    for (size_t nl; (nl = it->second.find('\n', start)) != std::string::npos; start = nl + 1)
        names.push_back(it->second.substr(start, nl - start));
    if (start < it->second.size()) names.push_back(it->second.substr(start));
    return names;
}

// The task the sidecar file names, else the embedded JSON's ("" = none).
std::string default_task(const Graph& g, const std::string& model, const std::string& sidecar) {
    vision::Preprocess probe;
    apply_embedded(probe, g, model);
    if (!sidecar.empty()) vision::apply_sidecar(probe, sidecar);
    return probe.task;
}
}  // namespace

void add_image_options(CLI::App* cmd, ImageArgs& a) {
    cmd->add_option("--image", a.image, "Photo (JPEG/PNG) for the model's image input");
    cmd->add_option("--nv12", a.nv12, "Raw NV12 camera frame (Y plane, then interleaved UV) for the image input");
    cmd->add_option("--nv21", a.nv21, "Raw NV21 camera frame (Y plane, then interleaved VU)");
    cmd->add_option("--frame-size", a.frame_size, "Size of the --nv12/--nv21 frame: WxH");
    cmd->add_option("--image-input", a.input, "Model input the image feeds (default: the one image-like input)");
    add_preprocess_options(cmd, a);
}

void add_preprocess_options(CLI::App* cmd, ImageArgs& a) {
    cmd->add_option("--preprocess", a.preprocess_file, "Preprocessing JSON (default: MODEL.json next to the model)");
    cmd->add_option("--resize", a.flags.resize, "stretch | letterbox | center-crop (default stretch)");
    cmd->add_option("--size", a.flags.size, "Input WxH when the model's is dynamic (or to check it)");
    cmd->add_option("--scale", a.flags.scale, "value = (pixel*scale - mean)/std; default 1/255");
    cmd->add_option("--mean", a.flags.mean, "M or M0,M1,M2 in the tensor's channel order (default 0)");
    cmd->add_option("--std", a.flags.std, "S or S0,S1,S2 (default 1)");
    cmd->add_flag("--bgr", a.flags.bgr, "Channels in BGR order");
    cmd->add_flag("--rgb", a.flags.rgb, "Channels in RGB order (the default; overrides the sidecar)");
    cmd->add_flag("--nhwc", a.flags.nhwc, "The image input is NHWC");
    cmd->add_flag("--nchw", a.flags.nchw, "The image input is NCHW");
    cmd->add_option("--pad", a.flags.pad, "Letterbox border value 0..255 (default 0)");
}

void add_task_options(CLI::App* cmd, TaskArgs& a) {
    cmd->add_option("--task", a.task, "Post-process the outputs: " + [] {
        std::string s;
        for (const auto& n : task_names()) s += (s.empty() ? "" : "|") + n;
        return s;
    }());
    cmd->add_option("--class-names", a.class_names, "Class names, one per line (classify, segment, text-recognize)");
    cmd->add_option("--top-k", a.top_k, "classify: how many classes to print (default 5)");
    cmd->add_option("--threshold", a.threshold, "Score threshold (task default when not given)");
    cmd->add_option("--iou-threshold", a.iou_threshold, "NMS IoU threshold (detection tasks)");
    cmd->add_option("--rec-model", a.rec_model, "ocr: the text-recognition model");
    cmd->add_option("--cls-model", a.cls_model, "ocr: the text-orientation model (optional)");
    cmd->add_option("--task-opt", a.options, "Task-specific KEY=VALUE (e.g. output=NAME, alpha=0.5)");
}

std::string resolve_task_name(const Graph& g, const std::string& model, const ImageArgs& a, const std::string& task_flag) {
    if (!task_flag.empty()) return task_flag;
    return default_task(g, model, sidecar_path(model, a));
}

vision::Preprocess resolve_preprocess(const std::string& model, const ImageArgs& a, const std::string& task,
                                      std::string* sidecar, const Graph* g) {
    // Layers, later wins: the task's defaults, the JSON a .ecnn file carries, the sidecar
    // file, the flags.
    vision::Preprocess pre;
    const std::string sc = sidecar_path(model, a);
    if (sidecar) *sidecar = sc;
    std::string task_name = task;
    if (task_name.empty()) {
        if (g) {
            task_name = default_task(*g, model, sc);
        } else if (!sc.empty()) {
            vision::Preprocess probe;
            vision::apply_sidecar(probe, sc);
            task_name = probe.task;
        }
    }
    if (!task_name.empty())
        if (const TaskInfo* t = find_task(task_name); t && t->preprocess_defaults) t->preprocess_defaults(pre);
    if (g) apply_embedded(pre, *g, model);
    if (!sc.empty()) vision::apply_sidecar(pre, sc);
    vision::apply_flags(pre, a.flags);
    return pre;
}

ImagePipeline make_image_pipeline(const Graph& g, const std::string& model, const ImageArgs& a, const std::string& task) {
    ImagePipeline p;
    p.model = model;
    p.preprocess = resolve_preprocess(model, a, task, &p.sidecar, &g);
    p.class_names = embedded_class_names(g);

    std::string candidates, all;
    int found = 0;
    for (ValueId id : g.inputs) {
        const Value& v = g.value(id);
        all += (all.empty() ? "" : ", ") + v.name;
        if (v.constant) continue;
        Shape s;
        if (v.shape)
            for (const Dim& d : *v.shape) s.push_back(d.is_static() ? d.value : -1);
        bool named = !a.input.empty() && v.name == a.input;
        auto lay = v.shape ? vision::image_input_layout(s, p.preprocess.layout) : std::nullopt;
        if (named && !lay)
            fail(model + ": input '" + v.name + "' " + (v.shape ? shape_str(s) : std::string("(no shape)")) +
                 " is not an image input (rank 4, batch 1, 1 or 3 channels)");
        if (lay && (a.input.empty() || named)) {
            ++found;
            candidates += (candidates.empty() ? "" : ", ") + v.name;
            p.input_name = v.name;
            p.input_shape = s;
            p.layout = *lay;
        }
    }
    if (!a.input.empty() && found == 0) fail(model + ": --image-input '" + a.input + "' is not an input (inputs: " + all + ")");
    if (found == 0)
        fail(model + ": no input takes an image (rank 4 with 1 or 3 channels, NCHW or NHWC); inputs: " + all);
    if (found > 1) fail(model + ": several inputs could take the image (" + candidates + "); choose one with --image-input");
    if (!p.preprocess.layout) p.preprocess.layout = p.layout.layout;
    return p;
}

vision::TensorImage preprocess_image(const ImagePipeline& p, const vision::Image& img, ThreadPool* pool) {
    try {
        return vision::to_tensor(img, p.preprocess, p.input_shape, pool);
    } catch (const Error& e) {
        throw e.with_prefix(p.model + ": input '" + p.input_name + "': ");
    }
}

PreparedImage prepare_image(const ImagePipeline& p, const ImageArgs& a) {
    PreparedImage r;
    if (!a.image.empty()) {
        if (!a.nv12.empty() || !a.nv21.empty()) fail("--image and --nv12/--nv21 exclude each other");
        r.source = a.image;
        auto t0 = Clock::now();
        r.image = vision::load_image(a.image);
        r.decode_ms = ms_since(t0);
        t0 = Clock::now();
        r.tensor = preprocess_image(p, r.image);
        r.preprocess_ms = ms_since(t0);
        return r;
    }
    if (!a.nv12.empty() && !a.nv21.empty()) fail("--nv12 and --nv21 exclude each other");
    if (!a.nv12.empty() || !a.nv21.empty()) {
        const bool nv21 = a.nv12.empty();
        r.source = nv21 ? a.nv21 : a.nv12;
        if (a.frame_size.empty()) fail(std::string(nv21 ? "--nv21" : "--nv12") + " needs --frame-size WxH");
        int w = 0, h = 0;
        vision::parse_size("--frame-size", a.frame_size, w, h);
        auto t0 = Clock::now();
        vision::YuvImage f = vision::load_yuv(r.source, w, h, nv21 ? vision::YuvOrder::NV21 : vision::YuvOrder::NV12);
        r.decode_ms = ms_since(t0);
        t0 = Clock::now();
        try {
            r.tensor = vision::yuv_to_tensor(f, p.preprocess, p.input_shape);
        } catch (const Error& e) {
            throw e.with_prefix(p.model + ": input '" + p.input_name + "': ");
        }
        r.preprocess_ms = ms_since(t0);
        r.image = vision::yuv_to_rgb(f);  // for pictures, off the clock
        return r;
    }
    fail("no --image, --nv12 or --nv21 given");
}

NamedTensors inputs_with_image(const Graph& g, const std::string& model, const ImageArgs& a,
                               std::map<std::string, Shape> given, std::mt19937& rng) {
    if (!a.given()) return make_random_inputs(g, model, given, rng);
    ImagePipeline pipe = make_image_pipeline(g, model, a, "");
    PreparedImage photo = prepare_image(pipe, a);
    if (given.count(pipe.input_name)) fail("--input-shape and the image both set input '" + pipe.input_name + "'");
    given[pipe.input_name] = photo.tensor.tensor.shape();
    NamedTensors inputs = make_random_inputs(g, model, given, rng);
    for (auto& [name, t] : inputs)
        if (name == pipe.input_name) t = photo.tensor.tensor;
    return inputs;
}

TaskOptions make_task_options(const TaskArgs& t, const std::string& task_name, const ImagePipeline& p, int threads) {
    TaskOptions o;
    o.task = task_name;
    o.model = p.model;
    o.class_names = !t.class_names.empty() ? t.class_names : p.preprocess.class_names;
    if (o.class_names.empty()) o.class_name_list = p.class_names;
    o.top_k = t.top_k;
    o.threshold = t.threshold;
    o.iou_threshold = t.iou_threshold;
    o.rec_model = t.rec_model;
    o.cls_model = t.cls_model;
    o.threads = threads;
    for (const auto& kv : t.options) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) fail("--task-opt wants KEY=VALUE, got '" + kv + "'");
        o.params[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return o;
}

}  // namespace edgecnn::cli
