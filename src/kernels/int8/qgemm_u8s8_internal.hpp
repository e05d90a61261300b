// Internal to the int8 GEMM family: the job the driver hands to the per-ISA block
// functions and their tile sizes. Not for use outside kernels/int8/.
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/int8/qgemm_u8s8.hpp"

namespace edgecnn::qgemm_detail {

inline constexpr int kMrVnni = 12, kNrVnni = 32;   // 24 zmm accumulators
inline constexpr int kMrAvx2 = 6, kNrAvx2 = 16;    // 12 ymm accumulators
inline constexpr int kMrPortable = 4, kNrPortable = 8;
// ARM64 sdot / sudot (and smull, 4 rows): 16 accumulators; panels of 8 = the portable layout.
inline constexpr int kMrNeon = 8, kNrNeon = 8;
inline constexpr int kMrNeonSmull = 4;  // plain NEON: 4 pair accumulators per row

struct QGemmJob {
    int64_t M = 0, N = 0, K = 0, kp = 0;
    const uint8_t* A = nullptr;
    int64_t lda = 0;
    const int8_t* B = nullptr;        // packed panels
    const int32_t* col_sums = nullptr;
    uint8_t* C = nullptr;
    int64_t ldc = 0;
    QGemmEpilogue ep;
    // Indirect A (qgemm_u8s8_indirect; VNNI kernel only): row m's K bytes are `taps`
    // pieces of K / taps bytes (a multiple of 4), piece t at ind[m * taps + t]. Null: A.
    const uint8_t* const* ind = nullptr;
    int64_t taps = 0;
};

// Rows [m0, m1) x columns [n0, n1), n0 a multiple of the panel width.
using QGemmBlockFn = void (*)(const QGemmJob& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1);

void qgemm_block_portable(const QGemmJob& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
#if defined(__x86_64__) || defined(_M_X64)
void qgemm_block_avx2(const QGemmJob& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
void qgemm_block_avx512vnni(const QGemmJob& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
#endif
#if defined(__aarch64__)
void qgemm_block_neon(const QGemmJob& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
void qgemm_block_neondot(const QGemmJob& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
void qgemm_block_neoni8mm(const QGemmJob& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
#endif

// Bytes k..k+n of an A row (n <= 4) as one little-endian int32, zero-filled: the K tail
// reads no byte past the row. Byte by byte: a memcpy of a run-time length is a library
// call, once per row of every tile (the stem's K = 27 spent more there than in the tile).
inline int32_t load_a4(const uint8_t* p, int n) {
    if (n >= 4) {
        int32_t v;
        std::memcpy(&v, p, 4);
        return v;
    }
    uint32_t v = n > 0 ? uint32_t(p[0]) : 0u;
    if (n > 1) v |= uint32_t(p[1]) << 8;
    if (n > 2) v |= uint32_t(p[2]) << 16;
    return int32_t(v);
}

}  // namespace edgecnn::qgemm_detail
