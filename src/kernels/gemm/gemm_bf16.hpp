// GEMM with BF16 operands and FP32 accumulation: C = act(bf16(A) · bf16(B) + bias + residual),
// the same contract as gemm_f32 (kernels/gemm/gemm_f32.hpp) except that A and B are rounded
// to bfloat16 (8-bit mantissa, round to nearest even) before they are multiplied. Products
// of two bf16 values are exact in FP32 and sums stay FP32, so the only loss is the two
// roundings: a relative error of about 2^-9 per operand.
//
// Why: AVX512-BF16's vdpbf16ps does 32 multiply-adds per instruction where vfmadd231ps
// does 16, at the same rate (Zen 5: 560 vs 280 GFLOP/s on one core), so compute-bound
// layers run up to twice as fast, and the packed weights take half the memory. Sessions
// opt in (SessionOptions::fpmath = FpMath::Bf16); the default stays FP32.
//
// Only the AVX512-BF16 kernel exists; bf16_gemm_available() says whether this CPU (at the
// active ISA level) has it. Callers fall back to gemm_f32 where it does not.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/gemm/gemm_f32.hpp"

namespace edgecnn {

// Layers take the BF16 GEMM under FpMath::Bf16 when their K and N are both at least this:
// those are compute-bound, where vdpbf16ps's double rate pays (bench/gemm_bench: 1.9x at
// 160x960 on 33x33). A GEMM with a narrow side is closer to memory-bound (at K = 16 bf16 is
// slower: converting A costs) and, in lraspp_mobilenet_v3_large, such early high-resolution
// layers carried most of the bf16 error: every 1x1 layer with K >= 32 in bf16 gave 1.40x and
// 98.3-98.7 % pixel agreement with FP32 on photos, this rule 1.34x and 99.3-99.4 %
// (edgecnn bench --vs-fpmath bf16, docs/PERFORMANCE.md).
inline constexpr int64_t kBf16MinGemmDim = 64;

// The CPU runs the BF16 kernel: AVX-512 (F, BW, DQ, VL) plus AVX512_BF16, at an active ISA
// level of AVX-512 (EDGECNN_ISA=avx2 turns it off like the other AVX-512 kernels).
bool bf16_gemm_available();

// B as bf16 pairs in column panels of 32 (the FP32 AVX-512 kernel's panel width; a narrow
// last panel of 16 when N's remainder fits): for each pair of rows (k, k+1), the panel's
// columns as [col][2] bf16, so one 64-byte load holds 16 columns x 2 rows. K is padded to
// even with a zero row; columns beyond N are zero. Immutable once packed.
class PackedGemmBBf16 {
public:
    PackedGemmBBf16() = default;
    int64_t k() const { return k_; }
    int64_t n() const { return n_; }
    size_t bytes() const { return bytes_; }
    bool empty() const { return n_ == 0; }
    const uint16_t* data() const { return data_.get(); }

private:
    friend PackedGemmBBf16 pack_gemm_b_bf16(const float*, int64_t, int64_t, int64_t, bool);
    struct Free {
        void operator()(uint16_t* p) const;
    };
    std::shared_ptr<const uint16_t> data_;
    int64_t k_ = 0, n_ = 0;
    size_t bytes_ = 0;
};

// Packs B ([K, N] with row stride ldb, or with `b_is_nk` [N, K]) rounded to bf16. Throws
// when bf16_gemm_available() is false.
PackedGemmBBf16 pack_gemm_b_bf16(const float* B, int64_t K, int64_t N, int64_t ldb, bool b_is_nk);

// C[M,N] (row stride ldc) = act(bf16(A)[M,K] (row stride lda) · B + bias + residual). Same
// epilogue, threading and aliasing rules as gemm_f32. A is converted to bf16 a register
// tile of rows at a time, into a per-thread buffer (grown once, then reused).
void gemm_bf16(int64_t M, const float* A, int64_t lda, const PackedGemmBBf16& B, float* C, int64_t ldc,
               const GemmEpilogue& ep, ThreadPool* pool);

// The scalar twin, for tests: A and B rounded to bf16 exactly as the kernel rounds them
// (float_to_bf16), products summed in double, then the epilogue in float. B as for
// pack_gemm_b_bf16 (unpacked).
void gemm_bf16_reference(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
                         bool b_is_nk, float* C, int64_t ldc, const GemmEpilogue& ep);

}  // namespace edgecnn
