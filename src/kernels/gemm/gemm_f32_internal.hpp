// Internal to the GEMM family: the job description the driver (gemm_f32.cpp) hands to the
// per-ISA block functions, and their register-tile sizes. Not for use outside gemm/.
#pragma once
#include <algorithm>
#include <cstdint>

#include "base/thread_pool.hpp"
#include "kernels/gemm/gemm_f32.hpp"

namespace edgecnn::gemm_detail {

// Register tiles (rows x columns). AVX-512: 14 x 32 = 28 zmm accumulators, enough to
// cover two FMA pipes x 4-cycle latency with room for the two B vectors. AVX2: 6 x 16 =
// 12 ymm accumulators of 16. Portable: 6 x 8 in 4-float vectors (16 SSE2 registers).
inline constexpr int kMrAvx512 = 14, kNrAvx512 = 32;
inline constexpr int kMrAvx2 = 6, kNrAvx2 = 16;
inline constexpr int kMrScalar = 6, kNrScalar = 8;
// NEON: 6 x 16 = 24 q-register accumulators of 32 (see gemm_f32_neon.cpp).
inline constexpr int kMrNeon = 6, kNrNeon = 16;
// Largest K block: the A rows of a tile (MR x KC) and a B micro-panel (KC x NR) stay
// in L1, the B block of one task in L2.
inline constexpr int64_t kMaxKc = 512;
// A task whose A block (rows x K block) is at most this size walks B's column panels
// outermost (gemm_block in gemm_f32_kernel.inl).
// 448 KB: ResNet-50's 7x7 stage (M = 49) and 14x14 stage (M = 196, K block 512) qualify; at
// 28x28 (M = 784) rows-outermost measured faster.
inline constexpr int64_t kPanelsOuterMaxABytes = 448 * 1024;

struct GemmJob {
    int64_t M = 0, N = 0, K = 0;
    const float* A = nullptr;
    int64_t lda = 0;
    const float* B = nullptr;  // packed panels (PackedGemmB::data)
    float* C = nullptr;
    int64_t ldc = 0;
    GemmEpilogue ep;
    int64_t kc = 0;  // K block size (> 0 unless K == 0)
};

// Computes C rows [m0, m1) x columns [n0, n1) over all of K; n0 is a multiple of the
// ISA's panel width, n1 is a multiple of it or N.
using GemmBlockFn = void (*)(const GemmJob& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1);

void gemm_block_f32_scalar(const GemmJob& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
#if defined(__x86_64__) || defined(_M_X64)
void gemm_block_f32_avx2(const GemmJob& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
void gemm_block_f32_avx512(const GemmJob& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
#endif
#if defined(__aarch64__)
void gemm_block_f32_neon(const GemmJob& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
#endif

// The task grid of one GEMM call: M's row tiles and N's column panels split into pm x pn
// balanced parts (gemm_f32.cpp explains the choice). Also used by the BF16 GEMM, whose
// register tiles and cache footprint per column match the FP32 AVX-512 kernel's.
struct Split {
    int64_t pm = 1, pn = 1;
};
Split choose_split(int64_t M, int64_t N, int64_t K, int64_t kc, int mr, int nr, int threads);

// Runs a GEMM call's tasks: the grid choose_split picks for the pool's thread count, each
// task's C block [m0, m1) x [n0, n1) (multiples of mr / nr, clipped to M / N) handed to
// `block`, on `pool` (or the caller). Tasks are N-chunk major: consecutive tasks share a B
// block (hot in L2 / L3).
template <class Block>
void run_gemm_tasks(int64_t M, int64_t N, int64_t K, int64_t kc, int mr, int nr, ThreadPool* pool, Block&& block) {
    const Split s = choose_split(M, N, K, kc, mr, nr, pool ? pool->size() : 1);
    const int64_t mt = (M + mr - 1) / mr, np = (N + nr - 1) / nr;
    auto task = [&](int64_t t) {
        const int64_t bn = t / s.pm, bm = t % s.pm;
        const int64_t m0 = (mt * bm / s.pm) * mr, m1 = std::min(M, (mt * (bm + 1) / s.pm) * mr);
        const int64_t n0 = (np * bn / s.pn) * nr, n1 = std::min(N, (np * (bn + 1) / s.pn) * nr);
        if (m0 < m1 && n0 < n1) block(m0, m1, n0, n1);
    };
    const int64_t tasks = s.pm * s.pn;
    if (pool && tasks > 1) pool->parallel_for(tasks, task);
    else
        for (int64_t t = 0; t < tasks; ++t) task(t);
}

// Columns a packing of N columns in panels of nr holds: N rounded up to the panel width, or
// to half of it when the remainder fits a narrow last panel (is_narrow_panel).
inline int64_t packed_columns(int64_t N, int64_t nr) {
    const int64_t rem = N % nr;
    return rem == 0 ? N : (rem <= nr / 2 ? N - rem + nr / 2 : N - rem + nr);
}

// Whether the panel holding column n0 is a narrow (half-width) last panel.
inline bool is_narrow_panel(int64_t n0, int64_t N, int nr) { return N - n0 <= nr / 2 && N % nr != 0; }

}  // namespace edgecnn::gemm_detail
