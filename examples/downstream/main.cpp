// Runs an .ecnn model on a zero input and prints the top-1 class (C++ API, static library).
#include <algorithm>
#include <cstdio>
#include <vector>

#include <edgecnn/edgecnn.hpp>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s model.ecnn\n", argv[0]);
        return 2;
    }
    try {
        ecnn::Model model = ecnn::Model::load(argv[1]);
        ecnn::TensorView info = model.input_info(0);
        for (int64_t& d : info.shape) d = d < 0 ? 1 : d;
        std::vector<float> x(size_t(info.numel()), 0.f);
        ecnn::Session session(model);
        session.bind_input(model.input_names()[0], x.data(), info.shape);
        session.run();
        ecnn::TensorView y = session.output(0);
        const float* p = y.as<float>();
        size_t best = size_t(std::max_element(p, p + y.numel()) - p);
        std::vector<std::string> names = model.class_names();
        std::printf("top-1 of a blank image: %s\n", best < names.size() ? names[best].c_str() : "?");
        return 0;
    } catch (const ecnn::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
