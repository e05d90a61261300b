#include "tasks.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "base/error.hpp"

namespace edgecnn::cli {

namespace {
// Function-local so registrations from other files' static initialisers find it built.
std::vector<TaskInfo>& table() {
    static std::vector<TaskInfo> t;
    return t;
}
}  // namespace

bool register_task(TaskInfo info) {
    for (const TaskInfo& t : table())
        if (t.name == info.name) {
            std::fprintf(stderr, "internal error: task '%s' registered twice\n", info.name.c_str());
            std::abort();
        }
    table().push_back(std::move(info));
    return true;
}

const TaskInfo* find_task(const std::string& name) {
    for (const TaskInfo& t : table())
        if (t.name == name) return &t;
    return nullptr;
}

std::vector<std::string> task_names() {
    std::vector<std::string> names;
    for (const TaskInfo& t : table()) names.push_back(t.name);
    std::sort(names.begin(), names.end());
    return names;
}

std::unique_ptr<Task> make_task(const TaskOptions& o) {
    const TaskInfo* t = find_task(o.task);
    if (!t) {
        std::string known;
        for (const auto& n : task_names()) known += (known.empty() ? "" : ", ") + n;
        fail("--task: unknown task '" + o.task + "' (known: " + known + ")");
    }
    return t->make(o);
}

const Tensor& task_output(const TaskFrame& f, const std::string& name) {
    if (f.outputs.empty()) fail("the model has no outputs");
    if (name.empty()) return f.outputs[0].second;
    std::string names;
    for (const auto& [n, t] : f.outputs) {
        if (n == name) return t;
        names += (names.empty() ? "" : ", ") + n;
    }
    fail("the model has no output '" + name + "' (outputs: " + names + ")");
}

vision::Image rgb_copy(const vision::Image& img) { return vision::convert_channels(img, 3); }

}  // namespace edgecnn::cli
