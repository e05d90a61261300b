// Activations that kernels fuse into their epilogues. The scalar `apply` is the ground
// truth that vectorized epilogues are tested against.
#pragma once
#include <algorithm>
#include <cmath>
#include <string>

namespace edgecnn {

enum class Activation { None, Relu, Clip, HardSigmoid, HardSwish, Sigmoid, Silu, LeakyRelu, Tanh };

struct ActivationParams {
    Activation kind = Activation::None;
    // Clip: [alpha, beta] = [min, max]; HardSigmoid: alpha*x + beta (ONNX defaults 0.2, 0.5);
    // LeakyRelu: alpha = slope.
    float alpha = 0.f;
    float beta = 0.f;
};

inline float apply_activation(float x, const ActivationParams& p) {
    switch (p.kind) {
        case Activation::None: return x;
        case Activation::Relu: return x > 0.f ? x : 0.f;
        case Activation::Clip: return std::min(std::max(x, p.alpha), p.beta);
        case Activation::HardSigmoid: return std::min(std::max(p.alpha * x + p.beta, 0.f), 1.f);
        case Activation::HardSwish: return x * std::min(std::max(x * (1.f / 6.f) + 0.5f, 0.f), 1.f);
        case Activation::Sigmoid: return 1.f / (1.f + std::exp(-x));
        case Activation::Silu: return x / (1.f + std::exp(-x));
        case Activation::LeakyRelu: return x >= 0.f ? x : p.alpha * x;
        case Activation::Tanh: return std::tanh(x);
    }
    return x;
}

inline const char* activation_name(Activation a) {
    switch (a) {
        case Activation::None: return "none";
        case Activation::Relu: return "relu";
        case Activation::Clip: return "clip";
        case Activation::HardSigmoid: return "hardsigmoid";
        case Activation::HardSwish: return "hardswish";
        case Activation::Sigmoid: return "sigmoid";
        case Activation::Silu: return "silu";
        case Activation::LeakyRelu: return "leakyrelu";
        case Activation::Tanh: return "tanh";
    }
    return "?";
}

}  // namespace edgecnn
