// The activations the GEMM tests run every epilogue with, and parameters for each that
// reach its interesting ranges (shared by the FP32 and BF16 GEMM tests).
#pragma once
#include "kernels/activation.hpp"

namespace edgecnn::test {

inline ActivationParams gemm_test_act(Activation kind) {
    ActivationParams p;
    p.kind = kind;
    if (kind == Activation::Clip) p.alpha = -0.5f, p.beta = 6.f;
    if (kind == Activation::HardSigmoid) p.alpha = 0.2f, p.beta = 0.5f;
    if (kind == Activation::LeakyRelu) p.alpha = 0.1f;
    return p;
}

inline constexpr Activation kGemmTestActs[] = {Activation::None,      Activation::Relu,    Activation::Clip,
                                               Activation::HardSigmoid, Activation::HardSwish, Activation::Sigmoid,
                                               Activation::Silu,      Activation::LeakyRelu, Activation::Tanh};

}  // namespace edgecnn::test
