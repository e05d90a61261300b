// FP32 GEMM driver: B packing, ISA dispatch, the portable (scalar) instantiation, and the
// split of C into tasks for the thread pool.
#include "kernels/gemm/gemm_f32.hpp"

#include <algorithm>
#include <cstring>
#include <new>

#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "kernels/gemm/gemm_f32_kernel.inl"

namespace edgecnn {
namespace gemm_detail {
namespace {

// The portable instantiation (Isa::Scalar on every architecture):
// 4-float vectors from the GCC/Clang vector extension, which lower to SSE2 on x86-64 and
// to NEON on arm64 without intrinsics. (Plain floats would let the compiler vectorize the
// tile's k loop as a reduction instead, three times slower.) Lane loops below are turned
// into single instructions by the compiler.
struct VecPortable {
    typedef float V __attribute__((vector_size(16)));
    typedef int32_t VI __attribute__((vector_size(16)));
    using Mask = int;  // number of leading lanes
    static constexpr int W = 4;
    static V zero() { return V{0.f, 0.f, 0.f, 0.f}; }
    static V set1(float x) { return V{x, x, x, x}; }
    static V load(const float* p) {
        V v;
        std::memcpy(&v, p, sizeof(v));
        return v;
    }
    static void store(float* p, V v) { std::memcpy(p, &v, sizeof(v)); }
    static Mask mask(int n) { return n; }
    static V load(const float* p, Mask n) {
        V v = zero();
        for (int l = 0; l < n; ++l) v[l] = p[l];
        return v;
    }
    static void store(float* p, V v, Mask n) {
        for (int l = 0; l < n; ++l) p[l] = v[l];
    }
    static V fma(V a, V b, V c) { return a * b + c; }
    static V add(V a, V b) { return a + b; }
    static V sub(V a, V b) { return a - b; }
    static V mul(V a, V b) { return a * b; }
    static V div(V a, V b) { return a / b; }
    static V min(V a, V b) {
        V r;
        for (int l = 0; l < W; ++l) r[l] = a[l] < b[l] ? a[l] : b[l];
        return r;
    }
    static V max(V a, V b) {
        V r;
        for (int l = 0; l < W; ++l) r[l] = a[l] > b[l] ? a[l] : b[l];
        return r;
    }
    static V abs(V a) {
        V r;
        for (int l = 0; l < W; ++l) r[l] = std::fabs(a[l]);
        return r;
    }
    static V copysign(V mag, V sign) {
        V r;
        for (int l = 0; l < W; ++l) r[l] = std::copysign(mag[l], sign[l]);
        return r;
    }
    // Round to nearest (ties to even) for |a| < 2^22, all vexp needs.
    static V round(V a) {
        const V magic = set1(12582912.f);  // 1.5 * 2^23
        return (a + magic) - magic;
    }
    static V pow2i(V n) {
        VI e = __builtin_convertvector(n, VI) + 127;
        e = e << 23;
        V r;
        std::memcpy(&r, &e, sizeof(r));
        return r;
    }
};

}  // namespace

void gemm_block_f32_scalar(const GemmJob& job, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    gemm_block<VecPortable, kMrScalar, kNrScalar / VecPortable::W>(job, m0, m1, n0, n1);
}

namespace {

struct IsaKernel {
    Isa isa;
    int mr, nr;
    GemmBlockFn block;
};

// The best kernel the CPU runs at or below `want` (the packing's layout follows it).
IsaKernel kernel_for(Isa want) {
#if defined(__x86_64__) || defined(_M_X64)
    const CpuFeatures& f = cpu_features();
    if (want == Isa::Avx512 && f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl)
        return {Isa::Avx512, kMrAvx512, kNrAvx512, &gemm_block_f32_avx512};
    if ((want == Isa::Avx512 || want == Isa::Avx2) && f.avx2 && f.fma)
        return {Isa::Avx2, kMrAvx2, kNrAvx2, &gemm_block_f32_avx2};
#elif defined(__aarch64__)
    if (is_neon(want) && cpu_features().neon) return {Isa::Neon, kMrNeon, kNrNeon, &gemm_block_f32_neon};
#else
    (void)want;
#endif
    return {Isa::Scalar, kMrScalar, kNrScalar, &gemm_block_f32_scalar};
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Bytes of the B block one task streams per K block (kept in L2 with the C tile).
constexpr int64_t kL2BudgetB = 512 * 1024;
constexpr int64_t kL2BudgetC = 256 * 1024;
// Scheduling overhead of one task, in multiply-accumulates (~0.1-0.2 us), and of handing
// a job to the pool at all (publishing it, a worker noticing, the final wait: ~1 us), so
// that GEMMs of a microsecond or less stay on the caller.
constexpr int64_t kTaskOverheadMacs = 25000;
constexpr int64_t kJobOverheadMacs = 150000;

}  // namespace

// Chooses the task grid. Single-threaded: as few tasks as the cache budget allows. With
// T threads: minimizes the estimated makespan (rounds x largest task + per-task overhead)
// plus half a task, the tail a thread left alone pays when another process steals its
// partner's core, which keeps tasks fine enough for the claim-one-at-a-time pool to balance.
Split choose_split(int64_t M, int64_t N, int64_t K, int64_t kc, int mr, int nr, int threads) {
    const int64_t mt = ceil_div(M, mr), np = ceil_div(N, nr);
    Split s;
    s.pn = std::clamp<int64_t>(ceil_div(np * nr * std::max<int64_t>(kc, 1) * 4, kL2BudgetB), 1, np);
    auto pm_min_for = [&](int64_t pn) -> int64_t {
        if (K <= kc) return 1;
        const int64_t cols = ceil_div(np, pn) * nr;
        const int64_t rows = std::max<int64_t>(mr, kL2BudgetC / (cols * 4));
        return std::clamp<int64_t>(ceil_div(M, rows), 1, mt);
    };
    s.pm = pm_min_for(s.pn);
    if (threads <= 1) return s;

    const int64_t k_eff = std::max<int64_t>(K, 1);
    double best = 0;
    Split best_s = s;
    const int64_t pn_lo = s.pn, pn_hi = std::min(np, std::max<int64_t>(pn_lo * 4, 4 * threads));
    for (int64_t pn = pn_lo; pn <= pn_hi; ++pn) {
        const int64_t cols = std::min(N, ceil_div(np, pn) * nr);
        const int64_t pm_lo = pm_min_for(pn), pm_hi = std::min(mt, std::max(pm_lo, int64_t(16) * threads));
        for (int64_t pm = pm_lo; pm <= pm_hi; ++pm) {
            const int64_t rows = std::min(M, ceil_div(mt, pm) * mr);
            const int64_t tasks = pm * pn;
            const double task = double(rows) * double(cols) * double(k_eff) + double(rows) * double(k_eff);
            const double score = double(ceil_div(tasks, threads)) * task + 0.5 * task +
                                 double(tasks) * double(kTaskOverheadMacs) / threads +
                                 (tasks > 1 ? double(kJobOverheadMacs) : 0.0);
            if (best == 0 || score < best) {
                best = score;
                best_s = {pm, pn};
            }
        }
    }
    return best_s;
}

}  // namespace gemm_detail

void PackedGemmB::Free::operator()(float* p) const { ::operator delete(p, std::align_val_t(64)); }

PackedGemmB PackedGemmB::adopt(std::shared_ptr<const float> data, size_t floats, int64_t K, int64_t N, Isa isa) {
    using namespace gemm_detail;
    const IsaKernel kern = kernel_for(isa);
    if (kern.isa != isa) fail("packed weights for " + isa_name(isa) + " cannot run at ISA level " + isa_name(kern.isa));
    const int64_t nr = kern.nr;
    const int64_t cols = packed_columns(N, nr);
    if (K < 0 || N < 0 || floats != size_t(cols) * size_t(K) || (floats && !data) ||
        reinterpret_cast<uintptr_t>(data.get()) % 64 != 0)
        fail("packed weights do not match a " + std::to_string(K) + "x" + std::to_string(N) + " " + isa_name(isa) +
             " packing (" + std::to_string(floats) + " floats)");
    PackedGemmB p;
    p.k_ = K;
    p.n_ = N;
    p.nr_ = nr;
    p.isa_ = isa;
    p.bytes_ = floats * sizeof(float);
    if (floats) p.data_ = std::move(data);
    return p;
}

PackedGemmB pack_gemm_b_f32(const float* B, int64_t K, int64_t N, int64_t ldb, bool b_is_nk, Isa isa) {
    using namespace gemm_detail;
    ECNN_CHECK(K >= 0 && N >= 0, "pack_gemm_b_f32: negative K or N");
    ECNN_CHECK(ldb >= (b_is_nk ? K : N), "pack_gemm_b_f32: ldb smaller than a row of B");
    const IsaKernel kern = kernel_for(isa);
    const int64_t nr = kern.nr;
    const int64_t cols = packed_columns(N, nr);

    PackedGemmB p;
    p.k_ = K;
    p.n_ = N;
    p.nr_ = nr;
    p.isa_ = kern.isa;
    const size_t floats = size_t(cols) * size_t(K);
    if (floats == 0) return p;
    p.bytes_ = floats * sizeof(float);
    float* buf = static_cast<float*>(::operator new(p.bytes_, std::align_val_t(64)));
    p.data_ = std::shared_ptr<const float>(buf, PackedGemmB::Free());
    for (int64_t n0 = 0; n0 < N; n0 += nr) {
        const int64_t pw = is_narrow_panel(n0, N, int(nr)) ? nr / 2 : nr;
        float* dst = buf + n0 * K;
        for (int64_t j = 0; j < pw; ++j) {
            const int64_t col = n0 + j;
            for (int64_t k = 0; k < K; ++k)
                dst[k * pw + j] = col >= N ? 0.f : (b_is_nk ? B[col * ldb + k] : B[k * ldb + col]);
        }
    }
    return p;
}

void gemm_f32(int64_t M, const float* A, int64_t lda, const PackedGemmB& B, float* C, int64_t ldc,
              const GemmEpilogue& ep, ThreadPool* pool) {
    using namespace gemm_detail;
    const int64_t N = B.n(), K = B.k();
    if (M <= 0 || N <= 0) return;
    ECNN_CHECK(lda >= K && ldc >= N, "gemm_f32: lda < K or ldc < N");
    ECNN_CHECK(!ep.residual || ep.ld_residual >= N, "gemm_f32: ld_residual < N");
    const IsaKernel kern = kernel_for(B.isa());
    ECNN_CHECK(kern.isa == B.isa(), "gemm_f32: B was packed for an ISA this CPU lacks");

    GemmJob job;
    job.M = M;
    job.N = N;
    job.K = K;
    job.A = A;
    job.lda = lda;
    job.B = B.data();
    job.C = C;
    job.ldc = ldc;
    job.ep = ep;
    job.kc = K <= kMaxKc ? K : ceil_div(K, ceil_div(K, kMaxKc));

    run_gemm_tasks(M, N, K, job.kc, kern.mr, kern.nr, pool,
                   [&](int64_t m0, int64_t m1, int64_t n0, int64_t n1) { kern.block(job, m0, m1, n0, n1); });
}

}  // namespace edgecnn
