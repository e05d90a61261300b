// Packed single-precision GEMM: the engine's core kernel. Fully connected layers, 1x1
// convolutions (NHWC: A = pixels x Cin, B = weights, C = pixels x Cout) and the
// im2col / indirect kxk convolutions all end up here.
//
//   C[M,N] = act(A[M,K] · B[K,N] + bias + residual)
//
// B (the weights) is packed once, at session creation, into column panels whose width
// matches the register tile of the ISA chosen at pack time (32 columns on AVX-512, 16 on
// AVX2 and NEON, 8 for the portable path). A and C are read and written in place: they may be
// strided views (lda >= K, ldc >= N), e.g. a 1x1 convolution writing into its channel
// slice of a Concat buffer.
//
// Kernel-level only: no graph knowledge, no allocation in gemm_f32 (the A panel buffer
// lives on the calling thread's stack).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/cpu_features.hpp"
#include "kernels/activation.hpp"

namespace edgecnn {

class ThreadPool;

// B packed into column panels: for each panel of `panel_width()` columns, K rows of
// panel-width floats, columns beyond N zero-filled. When N's remainder fits in half a
// panel, the last panel is half as wide (so N = 16 costs no padding on AVX-512).
// Move-only; owns 64-byte-aligned memory; immutable once packed, so one packing may serve
// any number of threads and sessions at once.
class PackedGemmB {
public:
    PackedGemmB() = default;

    int64_t k() const { return k_; }
    int64_t n() const { return n_; }
    // The ISA whose micro-kernel layout this packing has; gemm_f32 runs that kernel
    // (clamped to what the CPU has, never above what the packing was made for).
    Isa isa() const { return isa_; }
    int64_t panel_width() const { return nr_; }
    // Bytes held (for the session's memory accounting).
    size_t bytes() const { return bytes_; }
    // No columns: default-constructed, or packed with N == 0.
    bool empty() const { return n_ == 0; }
    const float* data() const { return data_.get(); }
    // The packed floats as a shareable allocation, and a packing rebuilt from one made
    // earlier with the same K, N and ISA (an .ecnn file packed for this CPU: `data` may
    // point into its memory map). adopt() throws if `floats` does not fit K, N and ISA.
    std::shared_ptr<const float> storage() const { return data_; }
    size_t floats() const { return bytes_ / sizeof(float); }
    static PackedGemmB adopt(std::shared_ptr<const float> data, size_t floats, int64_t K, int64_t N, Isa isa);

    // Start of the panel holding column `col` (a multiple of panel_width()); its rows are
    // panel_width() floats apart, except a narrow last panel whose rows are half that.
    const float* panel(int64_t col) const { return data_.get() + col * k_; }

private:
    friend PackedGemmB pack_gemm_b_f32(const float*, int64_t, int64_t, int64_t, bool, Isa);
    struct Free {
        void operator()(float* p) const;
    };
    std::shared_ptr<const float> data_;
    int64_t k_ = 0, n_ = 0, nr_ = 0;
    size_t bytes_ = 0;
    Isa isa_ = Isa::Scalar;
};

// Packs B for the micro-kernel of `isa` (every NEON level packs for the one NEON FP32
// kernel; a level the CPU lacks falls back to the best below it). B is row-major [K, N] with row stride ldb, or, with `b_is_nk`,
// [N, K] with row stride ldb — convolution weights come as [Cout, Cin*kh*kw].
PackedGemmB pack_gemm_b_f32(const float* B, int64_t K, int64_t N, int64_t ldb, bool b_is_nk,
                            Isa isa = active_isa());

struct GemmEpilogue {
    const float* bias = nullptr;      // [N], added to every row
    // [M, ld_residual], added after the bias, before the activation. It may be C itself
    // (same pointer and stride: an in-place residual add) but must not otherwise overlap C.
    const float* residual = nullptr;
    int64_t ld_residual = 0;
    ActivationParams act;  // applied last
};

// C[M,N] (row stride ldc) = act(A[M,K] (row stride lda) · B + bias + residual), with
// K and N taken from B. Runs the micro-kernel B was packed for. Splits C into blocks of
// register tiles (balanced for the pool's thread count, fine enough that the claim-one-
// task-at-a-time pool rebalances when a core is taken away) and runs them on `pool`
// (nullptr = the caller only). Reentrant. A must not overlap C. M == 0 or N == 0 does
// nothing; K == 0 yields act(bias + residual). Sigmoid, SiLU and Tanh use a polynomial
// exp (relative error ~1e-7; tanh absolute error ~1e-7).
void gemm_f32(int64_t M, const float* A, int64_t lda, const PackedGemmB& B, float* C, int64_t ldc,
              const GemmEpilogue& ep, ThreadPool* pool);

}  // namespace edgecnn
