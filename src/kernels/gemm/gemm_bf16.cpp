// BF16 GEMM driver: availability, B packing, the split into pool tasks (the FP32 driver's
// run_gemm_tasks), and the scalar reference twin. The kernel itself is gemm_bf16_avx512bf16.cpp.
#include "kernels/gemm/gemm_bf16.hpp"

#include <algorithm>
#include <new>
#include <string>

#include "base/dtype.hpp"
#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "kernels/activation.hpp"
#include "kernels/gemm/gemm_bf16_internal.hpp"
#include "kernels/gemm/gemm_f32_internal.hpp"

namespace edgecnn {

namespace {

[[maybe_unused]] int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

bool bf16_gemm_available() {
#if defined(__x86_64__) || defined(_M_X64)
    const CpuFeatures& f = cpu_features();
    return active_isa() == Isa::Avx512 && f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl && f.avx512_bf16;
#else
    return false;
#endif
}

void PackedGemmBBf16::Free::operator()(uint16_t* p) const { ::operator delete(p, std::align_val_t(64)); }

PackedGemmBBf16 pack_gemm_b_bf16(const float* B, int64_t K, int64_t N, int64_t ldb, bool b_is_nk) {
    using gemm_detail::kNrBf16;
    ECNN_CHECK(K >= 0 && N >= 0, "pack_gemm_b_bf16: negative K or N");
    ECNN_CHECK(ldb >= (b_is_nk ? K : N), "pack_gemm_b_bf16: ldb smaller than a row of B");
    if (!bf16_gemm_available()) fail("pack_gemm_b_bf16: this CPU has no AVX512-BF16 at the active ISA level");
    PackedGemmBBf16 p;
    p.k_ = K;
    p.n_ = N;
    const int64_t kp = K + (K & 1);
    const size_t elems = size_t(gemm_detail::packed_columns(N, kNrBf16)) * size_t(kp);
    if (elems == 0) return p;
    p.bytes_ = elems * sizeof(uint16_t);
    uint16_t* buf = static_cast<uint16_t*>(::operator new(p.bytes_, std::align_val_t(64)));
    p.data_ = std::shared_ptr<const uint16_t>(buf, PackedGemmBBf16::Free());
    for (int64_t n0 = 0; n0 < N; n0 += kNrBf16) {
        const int64_t pw = gemm_detail::is_narrow_panel(n0, N, kNrBf16) ? kNrBf16 / 2 : kNrBf16;
        uint16_t* dst = buf + n0 * kp;
        for (int64_t k = 0; k < kp; ++k)
            for (int64_t j = 0; j < pw; ++j) {
                const int64_t col = n0 + j;
                const float v = col >= N || k >= K ? 0.f : (b_is_nk ? B[col * ldb + k] : B[k * ldb + col]);
                dst[(k / 2) * pw * 2 + j * 2 + (k & 1)] = float_to_bf16(v);
            }
    }
    return p;
}

void gemm_bf16(int64_t M, const float* A, int64_t lda, const PackedGemmBBf16& B, float* C, int64_t ldc,
               const GemmEpilogue& ep, ThreadPool* pool) {
    using namespace gemm_detail;
    const int64_t N = B.n(), K = B.k();
    if (M <= 0 || N <= 0) return;
    ECNN_CHECK(lda >= K && ldc >= N, "gemm_bf16: lda < K or ldc < N");
    ECNN_CHECK(!ep.residual || ep.ld_residual >= N, "gemm_bf16: ld_residual < N");
    if (K == 0) {  // no products: act(bias + residual)
        for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) {
                float x = (ep.bias ? ep.bias[j] : 0.f) + (ep.residual ? ep.residual[i * ep.ld_residual + j] : 0.f);
                C[i * ldc + j] = apply_activation(x, ep.act);
            }
        return;
    }
#if defined(__x86_64__) || defined(_M_X64)
    ECNN_CHECK(bf16_gemm_available(), "gemm_bf16: this CPU has no AVX512-BF16 at the active ISA level");
    Bf16Job job;
    job.M = M;
    job.N = N;
    job.K = K;
    job.kp = K + (K & 1);
    job.A = A;
    job.lda = lda;
    job.B = B.data();
    job.C = C;
    job.ldc = ldc;
    job.ep = ep;
    // K blocks of at most kMaxKc, even so that each block starts on a packed row pair.
    job.kc = K <= kMaxKc ? K : std::min(K, (ceil_div(K, ceil_div(K, kMaxKc)) + 1) / 2 * 2);

    run_gemm_tasks(M, N, K, job.kc, kMrBf16, kNrBf16, pool,
                   [&](int64_t m0, int64_t m1, int64_t n0, int64_t n1) { gemm_block_bf16_avx512(job, m0, m1, n0, n1); });
#else
    (void)A, (void)C, (void)ep, (void)pool;
    fail("gemm_bf16: no BF16 kernel on this architecture");
#endif
}

void gemm_bf16_reference(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
                         bool b_is_nk, float* C, int64_t ldc, const GemmEpilogue& ep) {
    auto r = [](float v) { return bf16_to_float(float_to_bf16(v)); };
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
            double acc = 0;
            for (int64_t k = 0; k < K; ++k)
                acc += double(r(A[i * lda + k])) * double(r(b_is_nk ? B[j * ldb + k] : B[k * ldb + j]));
            float x = float(acc);
            if (ep.bias) x += ep.bias[j];
            if (ep.residual) x += ep.residual[i * ep.ld_residual + j];
            C[i * ldc + j] = apply_activation(x, ep.act);
        }
}

}  // namespace edgecnn
