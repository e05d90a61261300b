// Classifies one 28x28 Fashion-MNIST image with the C++ API and prints the top-1 class name
// stored in the .ecnn file. Runs the session twice on the same bound buffer to show reuse.
//
//   classify_cpp model.ecnn image.raw     (image.raw: 784 bytes, row-major, 0 = background)
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <vector>

#include "edgecnn/edgecnn.hpp"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s model.ecnn image.raw\n", argv[0]);
        return 2;
    }
    try {
        std::vector<unsigned char> pixels(28 * 28);
        std::ifstream f(argv[2], std::ios::binary);
        if (!f.read(reinterpret_cast<char*>(pixels.data()), std::streamsize(pixels.size()))) {
            std::fprintf(stderr, "%s: cannot read 784 bytes\n", argv[2]);
            return 1;
        }
        ecnn::Model model = ecnn::Model::load(argv[1]);
        ecnn::SessionOptions options;
        options.num_threads = 2;
        ecnn::Session session(model, options);
        // Preprocessing of models/fashion_mnist/README.md (also the file's "preprocess").
        std::vector<float> input(pixels.size());
        for (size_t i = 0; i < pixels.size(); ++i) input[i] = (float(pixels[i]) / 255.0f - 0.2860f) / 0.3530f;
        session.bind_input(model.input_names().at(0), input.data(), {1, 1, 28, 28});  // no copy
        int best = -1;
        for (int pass = 0; pass < 2; ++pass) {  // the second run reuses the plan and the binding
            session.run();
            ecnn::TensorView logits = session.output(0);
            const float* s = logits.as<float>();
            int b = int(std::max_element(s, s + logits.numel()) - s);
            if (best >= 0 && b != best) {
                std::fprintf(stderr, "error: the second run disagrees\n");
                return 1;
            }
            best = b;
        }
        std::vector<std::string> names = model.class_names();
        std::printf("top-1: %s (class %d)\n", best < int(names.size()) ? names[size_t(best)].c_str() : "?", best);
        return 0;
    } catch (const ecnn::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
