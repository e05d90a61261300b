// INT8 GEMM driver: B packing for each micro-kernel, the portable micro-kernel, kernel
// choice and the split of C into tasks for the thread pool.
#include "kernels/int8/qgemm_u8s8.hpp"

#include <algorithm>
#include <cstdlib>
#include <new>

#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "kernels/int8/qgemm_u8s8_internal.hpp"
#include "kernels/int8/requant.hpp"

namespace edgecnn {

namespace qgemm_detail {

// Portable micro-kernel: int32 accumulators over the 4-byte-group layout; the compiler
// vectorizes the column loops.
void qgemm_block_portable(const QGemmJob& j, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    constexpr int NR = kNrPortable;
    const int64_t groups = j.kp / 4;
    for (int64_t p = n0; p < n1; p += NR) {
        const int8_t* panel = j.B + p * j.kp;
        const int ncols = int(std::min<int64_t>(NR, n1 - p));
        for (int64_t m = m0; m < m1; m += kMrPortable) {
            const int mr = int(std::min<int64_t>(kMrPortable, m1 - m));
            int32_t acc[kMrPortable][NR] = {};
            for (int64_t g = 0; g < groups; ++g) {
                const int8_t* b = panel + g * NR * 4;
                const int nk = int(std::min<int64_t>(4, j.K - g * 4));
                for (int r = 0; r < mr; ++r) {
                    const uint8_t* a = j.A + (m + r) * j.lda + g * 4;
                    int32_t a4[4] = {0, 0, 0, 0};
                    for (int t = 0; t < nk; ++t) a4[t] = a[t];
                    for (int c = 0; c < NR; ++c)
                        acc[r][c] += a4[0] * b[c * 4] + a4[1] * b[c * 4 + 1] + a4[2] * b[c * 4 + 2] + a4[3] * b[c * 4 + 3];
                }
            }
            for (int r = 0; r < mr; ++r) {
                if (float* cf = j.ep.c_f32) {
                    for (int col = 0; col < ncols; ++col) {
                        const int64_t n = p + col;
                        const int32_t v = acc[r][col] - j.ep.a_zero * j.col_sums[n] + (j.ep.bias ? j.ep.bias[n] : 0);
                        cf[(m + r) * j.ldc + n] = float(v) * j.ep.mult[n];
                    }
                    continue;
                }
                uint8_t* c = j.C + (m + r) * j.ldc + p;
                for (int col = 0; col < ncols; ++col) {
                    const int64_t n = p + col;
                    int32_t v = acc[r][col] - j.ep.a_zero * j.col_sums[n] + (j.ep.bias ? j.ep.bias[n] : 0);
                    const uint8_t q = requantize_u8(v, j.ep.mult[n], j.ep.c_zero, j.ep.lo, j.ep.hi);
                    if (!j.ep.residual) {
                        c[col] = q;
                        continue;
                    }
                    const QAddParams& ap = j.ep.add;
                    const uint8_t rb = j.ep.residual[(m + r) * j.ldc + n];
                    c[col] = qadd_u8(q, ap.a_mult, ap.a_zero, rb, ap.b_mult, ap.b_zero, ap.y_zero, ap.lo, ap.hi);
                }
            }
        }
    }
}

}  // namespace qgemm_detail

using namespace qgemm_detail;

std::string qgemm_kernel_name(QGemmKernel k) {
    switch (k) {
        case QGemmKernel::Portable: return "portable";
        case QGemmKernel::Avx2: return "avx2";
        case QGemmKernel::Avx512Vnni: return "avx512vnni";
        case QGemmKernel::Neon: return "neon";
        case QGemmKernel::NeonDot: return "neondot";
        case QGemmKernel::NeonI8mm: return "neoni8mm";
    }
    return "?";
}

QGemmKernel qgemm_kernel_for(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
    const CpuFeatures& f = cpu_features();
    // The VNNI kernel needs the CPU's VNNI on top of the AVX-512 level; an AVX-512 CPU
    // without it (Skylake-X) takes the AVX2 kernel, which is exact too.
    if (isa == Isa::Avx512 && f.avx512_vnni) return QGemmKernel::Avx512Vnni;
    if (isa == Isa::Avx512 || isa == Isa::Avx2) return QGemmKernel::Avx2;
#elif defined(__aarch64__)
    // Only what the core has (a packing asked for a level above it, as the x86 VNNI check
    // above); plain NEON (ARMv8.0) takes smull + sadalp.
    const CpuFeatures& f = cpu_features();
    if (isa == Isa::NeonI8mm && f.i8mm) return QGemmKernel::NeonI8mm;
    if ((isa == Isa::NeonI8mm || isa == Isa::NeonDot) && f.dotprod) return QGemmKernel::NeonDot;
    if (is_neon(isa) && f.neon) return QGemmKernel::Neon;
#else
    (void)isa;
#endif
    return QGemmKernel::Portable;
}

void PackedQGemmB::Free::operator()(void* p) const { ::operator delete[](p, std::align_val_t(64)); }

PackedQGemmB pack_qgemm_b_s8(const int8_t* B, int64_t K, int64_t N, int64_t ldb, bool b_is_nk, Isa isa) {
    if (K < 0 || N < 0) fail("qgemm: negative size");
    PackedQGemmB p;
    p.kernel_ = qgemm_kernel_for(isa);
    p.nr_ = p.kernel_ == QGemmKernel::Avx512Vnni ? kNrVnni
            : p.kernel_ == QGemmKernel::Avx2     ? kNrAvx2
            : p.kernel_ == QGemmKernel::Portable ? kNrPortable
                                                 : kNrNeon;
    p.k_ = K;
    p.n_ = N;
    p.kp_ = (K + 3) / 4 * 4;
    const int64_t npad = (N + p.nr_ - 1) / p.nr_ * p.nr_;
    // int16 elements for the AVX2 layout, bytes otherwise.
    const int64_t elem = p.kernel_ == QGemmKernel::Avx2 ? 2 : 1;
    const size_t bytes = size_t(std::max<int64_t>(1, npad * p.kp_ * elem));
    p.data_.reset(static_cast<int8_t*>(::operator new[](bytes, std::align_val_t(64))));
    std::fill(p.data_.get(), p.data_.get() + bytes, int8_t(0));
    p.col_sums_.reset(static_cast<int32_t*>(::operator new[](size_t(std::max<int64_t>(1, npad)) * 4, std::align_val_t(64))));
    std::fill(p.col_sums_.get(), p.col_sums_.get() + std::max<int64_t>(1, npad), 0);
    p.bytes_ = bytes + size_t(npad) * 4;
    auto at = [&](int64_t k, int64_t n) { return b_is_nk ? B[n * ldb + k] : B[k * ldb + n]; };
    const int64_t nr = p.nr_;
    for (int64_t n = 0; n < N; ++n) {
        const int64_t panel = n / nr, col = n % nr;
        int32_t sum = 0;
        for (int64_t k = 0; k < K; ++k) {
            const int8_t v = at(k, n);
            sum += v;
            if (elem == 2) {
                // [panel][k/2][col][k%2] as int16
                int16_t* base = reinterpret_cast<int16_t*>(p.data_.get()) + panel * p.kp_ * nr;
                base[(k / 2) * nr * 2 + col * 2 + (k % 2)] = v;
            } else {
                // [panel][k/4][col][k%4]
                p.data_[size_t(panel * p.kp_ * nr + (k / 4) * nr * 4 + col * 4 + (k % 4))] = v;
            }
        }
        p.col_sums_[size_t(n)] = sum;
    }
    return p;
}

namespace {
void run_job(const QGemmJob& job, const PackedQGemmB& B, ThreadPool* pool);
}  // namespace

void qgemm_u8s8(int64_t M, const uint8_t* A, int64_t lda, const PackedQGemmB& B, uint8_t* C, int64_t ldc,
                const QGemmEpilogue& ep, ThreadPool* pool) {
    if (M <= 0 || B.n() <= 0) return;
    if (!ep.mult) fail("qgemm: no requantization multipliers");
    QGemmJob job;
    job.M = M, job.N = B.n(), job.K = B.k(), job.kp = B.k_padded();
    job.A = A, job.lda = lda;
    job.B = B.data(), job.col_sums = B.col_sums();
    job.C = C, job.ldc = ldc;
    job.ep = ep;
    run_job(job, B, pool);
}

bool qgemm_indirect_supported(const PackedQGemmB& B, int64_t taps) {
    return B.kernel() == QGemmKernel::Avx512Vnni && taps > 0 && B.k() % taps == 0 && (B.k() / taps) % 4 == 0;
}

void qgemm_u8s8_indirect(int64_t M, const uint8_t* const* ind, int64_t taps, const PackedQGemmB& B, uint8_t* C, int64_t ldc,
                         const QGemmEpilogue& ep, ThreadPool* pool) {
    if (M <= 0 || B.n() <= 0) return;
    if (!ep.mult) fail("qgemm: no requantization multipliers");
    if (!qgemm_indirect_supported(B, taps)) fail("qgemm: indirect A needs the VNNI kernel and pieces of 4k bytes");
    QGemmJob job;
    job.M = M, job.N = B.n(), job.K = B.k(), job.kp = B.k_padded();
    job.ind = ind, job.taps = taps;
    job.B = B.data(), job.col_sums = B.col_sums();
    job.C = C, job.ldc = ldc;
    job.ep = ep;
    run_job(job, B, pool);
}

namespace {
void run_job(const QGemmJob& job, const PackedQGemmB& B, ThreadPool* pool) {
    const int64_t M = job.M, N = job.N;
    QGemmBlockFn fn = qgemm_block_portable;
    int mr = kMrPortable;
#if defined(__x86_64__) || defined(_M_X64)
    if (B.kernel() == QGemmKernel::Avx512Vnni) fn = qgemm_block_avx512vnni, mr = kMrVnni;
    if (B.kernel() == QGemmKernel::Avx2) fn = qgemm_block_avx2, mr = kMrAvx2;
#elif defined(__aarch64__)
    if (B.kernel() == QGemmKernel::Neon) fn = qgemm_block_neon, mr = kMrNeonSmull;
    if (B.kernel() == QGemmKernel::NeonDot) fn = qgemm_block_neondot, mr = kMrNeon;
    if (B.kernel() == QGemmKernel::NeonI8mm) fn = qgemm_block_neoni8mm, mr = kMrNeon;
#endif
    const int64_t nr = B.panel_width();
    const int64_t panels = (N + nr - 1) / nr;
    const int threads = pool ? pool->size() : 1;
    // Column blocks of up to 4 panels, row blocks sized so that there are a few tasks per
    // thread (whole register tiles, at least 4 tiles tall).
    const int64_t pb = std::min<int64_t>(panels, 4);
    const int64_t col_blocks = (panels + pb - 1) / pb;
    int64_t rows = (M + mr - 1) / mr * mr;
    if (threads > 1) {
        const int64_t want = int64_t(threads) * 4;
        const int64_t row_blocks = std::max<int64_t>(1, want / col_blocks);
        rows = std::max<int64_t>(int64_t(mr) * 4, ((M + row_blocks - 1) / row_blocks + mr - 1) / mr * mr);
    }
    const int64_t row_blocks = (M + rows - 1) / rows;
    auto task = [&](int64_t t) {
        const int64_t rb = t / col_blocks, cb = t % col_blocks;
        const int64_t m0 = rb * rows, m1 = std::min(M, m0 + rows);
        const int64_t n0 = cb * pb * nr, n1 = std::min(N, n0 + pb * nr);
        fn(job, m0, m1, n0, n1);
    };
    const int64_t tasks = row_blocks * col_blocks;
    if (pool && tasks > 1) pool->parallel_for(tasks, task);
    else
        for (int64_t t = 0; t < tasks; ++t) task(t);
}

}  // namespace

}  // namespace edgecnn
