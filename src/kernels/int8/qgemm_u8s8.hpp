// INT8 GEMM: uint8 activations x int8 weights, exact int32 accumulation, requantized to
// uint8 in the epilogue (arithmetic: requant.hpp). The engine's int8 1x1 convolutions,
// im2col kxk convolutions and fully connected layers run on it.
//
//   C[M,N] = requant(sum_k (A[m,k] - a_zero) * B[k,n] + bias[n])
//
// The zero point is compensated in the epilogue with column sums of B computed at pack
// time: sum_k (A - za) * B = sum_k A * B - za * colsum[n], so the inner loop multiplies
// raw uint8 bytes, which is what the dot-product instructions take.
//
// Three micro-kernels, picked at pack time (the packing layout differs):
//   avx512vnni  AVX-512 with VNNI: vpdpbusd (u8 x s8, four products summed into int32,
//               no saturation); B packed in column panels of 32, K in groups of 4 bytes.
//   avx2        AVX2 (also AVX-512 CPUs without VNNI): vpmaddubsw would saturate its
//               16-bit pair sums (255*127*2 > 32767), so this path never uses it: B is
//               widened to int16 at pack time (K in pairs) and A bytes to int16 on the
//               fly, and vpmaddwd sums int16 pairs into int32 exactly. Full 8-bit weights,
//               same results as VNNI, half its throughput.
//   portable    plain C++ on the same 4-byte-group layout as VNNI (panels of 8 columns).
//   neondot     ARM64 with the dot product (ARMv8.2+): sdot by element on the portable
//               layout; A bytes shifted to int8 (a - 128), 128 * colsum added back.
//   neoni8mm    ARM64 with FEAT_I8MM: the same kernel with sudot (int8 x uint8), no shift.
//   neon        ARMv8.0 NEON (Cortex-A53/A72: no dot product): smull of the shifted bytes
//               into int16 (exact), sadalp pair sums into int32; same layout.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/cpu_features.hpp"
#include "kernels/int8/qadd_u8.hpp"

namespace edgecnn {

class ThreadPool;

enum class QGemmKernel { Portable, Avx2, Avx512Vnni, Neon, NeonDot, NeonI8mm };
std::string qgemm_kernel_name(QGemmKernel k);
// The micro-kernel used for packings made at ISA level `isa` on this CPU.
QGemmKernel qgemm_kernel_for(Isa isa);

class PackedQGemmB {
public:
    int64_t k() const { return k_; }
    int64_t n() const { return n_; }
    int64_t k_padded() const { return kp_; }  // K rounded up to a multiple of 4
    int64_t panel_width() const { return nr_; }
    QGemmKernel kernel() const { return kernel_; }
    size_t bytes() const { return bytes_; }
    bool empty() const { return n_ == 0; }
    const int8_t* data() const { return data_.get(); }
    // Column sums of B, padded with zeros to a whole number of panels.
    const int32_t* col_sums() const { return col_sums_.get(); }

private:
    friend PackedQGemmB pack_qgemm_b_s8(const int8_t*, int64_t, int64_t, int64_t, bool, Isa);
    struct Free {
        void operator()(void* p) const;
    };
    std::unique_ptr<int8_t[], Free> data_;
    std::unique_ptr<int32_t[], Free> col_sums_;
    int64_t k_ = 0, n_ = 0, kp_ = 0, nr_ = 0;
    size_t bytes_ = 0;
    QGemmKernel kernel_ = QGemmKernel::Portable;
};

// Packs B ([K,N] row-major with row stride ldb, or with `b_is_nk` [N,K] — conv weights
// [Cout, Cin*kh*kw]) for the micro-kernel of `isa`.
PackedQGemmB pack_qgemm_b_s8(const int8_t* B, int64_t K, int64_t N, int64_t ldb, bool b_is_nk,
                             Isa isa = active_isa());

struct QGemmEpilogue {
    int32_t a_zero = 0;
    const int32_t* bias = nullptr;  // [N] or null
    const float* mult = nullptr;    // [N]: a_scale * b_scale[n] / c_scale
    int32_t c_zero = 0;
    int32_t lo = 0, hi = 255;
    // Fused residual add (an int8 Add of this output and R: qadd_u8 of requant.hpp on the
    // requantized uint8 value, a = this output with a_zero = c_zero, b = R), so the sum
    // costs no extra pass over memory. R has C's layout (element (m, n) at residual[m * ldc
    // + n]). Null: none.
    const uint8_t* residual = nullptr;
    QAddParams add;
    // Float output instead (a last layer whose result leaves int8): C is not written;
    // c_f32[m * ldc + n] = float(acc) * mult[n] (mult = a_scale * b_scale[n]), no clamp.
    float* c_f32 = nullptr;
};

// C (row stride ldc) = requant(A (row stride lda) . B - a_zero * colsum + bias). A may be
// read up to K bytes per row only. C may be null when ep.c_f32 is set. Splits into tasks on `pool` (nullptr: the caller only).
void qgemm_u8s8(int64_t M, const uint8_t* A, int64_t lda, const PackedQGemmB& B, uint8_t* C, int64_t ldc,
                const QGemmEpilogue& ep, ThreadPool* pool);

// The same with an indirect A, for convolutions without an im2col copy: row m of A is the
// concatenation of `taps` pieces of K / taps bytes, piece t read at ind[m * taps + t] (an
// input pixel's channels, or a row of zero points for padding). K / taps must be a multiple
// of 4, and B packed for the AVX-512 VNNI kernel (qgemm_indirect_supported).
bool qgemm_indirect_supported(const PackedQGemmB& B, int64_t taps);
void qgemm_u8s8_indirect(int64_t M, const uint8_t* const* ind, int64_t taps, const PackedQGemmB& B, uint8_t* C, int64_t ldc,
                         const QGemmEpilogue& ep, ThreadPool* pool);

}  // namespace edgecnn
