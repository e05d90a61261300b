// The AVX512-BF16 GEMM against its scalar twin (gemm_bf16_reference: the same bf16
// roundings, products summed in double), over awkward shapes (odd K, K blocks, column
// tails, a narrow last panel), strided views, both B layouts, every epilogue and 1-3
// threads. Padding of A holds NaN (a read past K would poison the result: the odd K tail
// must pair with zero) and padding of C a sentinel that must survive. Skipped where the
// CPU has no AVX512-BF16; there the packing must refuse.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <vector>

#include "base/dtype.hpp"
#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "gemm_test_util.hpp"
#include "isa_test_util.hpp"
#include "kernels/gemm/gemm_bf16.hpp"

using namespace edgecnn;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kSentinel = -12345.f;

struct Case {
    int64_t M = 1, N = 1, K = 1;
    int64_t lda_pad = 0, ldc_pad = 0, ldb_pad = 0;
    bool b_is_nk = false, bias = false, residual = false, residual_in_place = false;
    ActivationParams act;
    int threads = 0;  // 0: pool = nullptr
};

void run_case(const Case& c, std::mt19937& rng) {
    SCOPED_TRACE("M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) + " K=" + std::to_string(c.K) +
                 (c.b_is_nk ? " B[N,K]" : " B[K,N]") + " lda+" + std::to_string(c.lda_pad) + " ldc+" +
                 std::to_string(c.ldc_pad) + (c.bias ? " bias" : "") +
                 (c.residual ? (c.residual_in_place ? " residual(in place)" : " residual") : "") +
                 " act=" + activation_name(c.act.kind) + " threads=" + std::to_string(c.threads));
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    const int64_t M = c.M, N = c.N, K = c.K;
    const int64_t lda = K + c.lda_pad, ldc = N + c.ldc_pad, ldb = (c.b_is_nk ? K : N) + c.ldb_pad;
    std::vector<float> A(size_t(M * lda) + 16, kNaN);  // + 16: NaN right after the last row too
    for (int64_t i = 0; i < M; ++i)
        for (int64_t k = 0; k < K; ++k) A[size_t(i * lda + k)] = dist(rng);
    const int64_t b_rows = c.b_is_nk ? N : K;
    std::vector<float> B(size_t(std::max<int64_t>(b_rows * ldb, 1)), kNaN);
    for (int64_t r = 0; r < b_rows; ++r)
        for (int64_t q = 0; q < ldb - c.ldb_pad; ++q) B[size_t(r * ldb + q)] = dist(rng);
    std::vector<float> bias(static_cast<size_t>(N));
    for (float& v : bias) v = dist(rng);
    std::vector<float> C(size_t(M * ldc), kSentinel), R;
    const int64_t ldr = c.residual_in_place ? ldc : N;
    if (c.residual && !c.residual_in_place) {
        R.resize(size_t(M * N));
        for (float& v : R) v = dist(rng);
    }
    if (c.residual_in_place)
        for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) C[size_t(i * ldc + j)] = dist(rng);

    GemmEpilogue ep;
    ep.bias = c.bias ? bias.data() : nullptr;
    ep.act = c.act;
    std::vector<float> want = C;
    if (c.residual) {
        ep.residual = c.residual_in_place ? want.data() : R.data();
        ep.ld_residual = ldr;
    }
    gemm_bf16_reference(M, N, K, A.data(), lda, B.data(), ldb, c.b_is_nk, want.data(), ldc, ep);
    // |a|·|b| summed, for the bound on FP32 accumulation error (at most K roundings).
    std::vector<double> mag(size_t(M * N), 0.0);
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j)
            for (int64_t k = 0; k < K; ++k)
                mag[size_t(i * N + j)] +=
                    std::fabs(double(A[size_t(i * lda + k)]) * (c.b_is_nk ? B[size_t(j * ldb + k)] : B[size_t(k * ldb + j)]));

    const PackedGemmBBf16 packed = pack_gemm_b_bf16(B.data(), K, N, ldb, c.b_is_nk);
    ASSERT_EQ(packed.k(), K);
    ASSERT_EQ(packed.n(), N);
    if (c.residual) ep.residual = c.residual_in_place ? C.data() : R.data();
    std::optional<ThreadPool> pool;
    if (c.threads > 0) pool.emplace(c.threads);
    gemm_bf16(M, A.data(), lda, packed, C.data(), ldc, ep, pool ? &*pool : nullptr);

    int bad = 0;
    for (int64_t i = 0; i < M && bad < 5; ++i)
        for (int64_t j = 0; j < ldc && bad < 5; ++j) {
            const float got = C[size_t(i * ldc + j)];
            if (j >= N) {
                if (got != kSentinel) ADD_FAILURE() << "C padding overwritten at row " << i << " col " << j, ++bad;
                continue;
            }
            const float w = want[size_t(i * ldc + j)];
            // FP32 accumulation of K exact products (each rounding <= 2^-24 of the running
            // |sum| <= mag), then the epilogue's few roundings and the vector activations'
            // polynomial error (~1e-6 relative; hardswish/sigmoid slopes are <= 1.5).
            const double tol = 1.5 * (double(K) * 6e-8 * mag[size_t(i * N + j)] + 1e-6 * (std::fabs(w) + 1.0));
            if (!(std::fabs(double(got) - double(w)) <= tol))
                ADD_FAILURE() << "C[" << i << "," << j << "] = " << got << ", want " << w << " (tol " << tol << ")", ++bad;
        }
}

using test::gemm_test_act;
constexpr const auto& kAllActs = test::kGemmTestActs;

}  // namespace

TEST(GemmBf16, RefusedWithoutAvx512Bf16) {
    if (bf16_gemm_available()) {
        // A lower active level turns the kernel off like every AVX-512 kernel.
        IsaGuard g(Isa::Avx2);
        EXPECT_FALSE(bf16_gemm_available());
    }
    IsaGuard g(Isa::Scalar);
    ASSERT_FALSE(bf16_gemm_available());
    const float b[4] = {1, 2, 3, 4};
    EXPECT_THROW(pack_gemm_b_bf16(b, 2, 2, 2, false), Error);
}

TEST(GemmBf16, SmallShapesAgainstScalarTwin) {
    if (!bf16_gemm_available()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
    const int64_t sizes[] = {1, 2, 3, 15, 16, 17, 31, 33, 48};
    std::mt19937 rng(11);
    int n_case = 0;
    for (int64_t M : {1, 5, 14, 15, 29})
        for (int64_t N : sizes)
            for (int64_t K : sizes) {
                Case c;
                c.M = M, c.N = N, c.K = K;
                c.b_is_nk = (n_case & 1) != 0;
                c.lda_pad = n_case % 3 == 0 ? 5 : 0;
                c.ldc_pad = n_case % 5 == 0 ? 3 : 0;
                c.ldb_pad = n_case % 4 == 1 ? 9 : 0;
                c.bias = n_case % 3 != 1;
                c.residual = n_case % 4 == 2;
                c.residual_in_place = n_case % 8 == 6;
                c.act = gemm_test_act(kAllActs[n_case % 9]);
                c.threads = n_case % 7 == 0 ? 2 : 0;
                run_case(c, rng);
                ++n_case;
                if (HasFailure()) return;
            }
}

// K over one block (512): partial sums pass through C between blocks; odd K; the pointwise
// convolutions of MobileNet-class networks (K = 960 -> N = 160, M = 33x33).
TEST(GemmBf16, LargeAndBlockedShapes) {
    if (!bf16_gemm_available()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
    struct Shape {
        int64_t M, N, K;
    };
    const Shape shapes[] = {{1089, 160, 960}, {257, 257, 257}, {100, 100, 1031}, {49, 512, 2048},
                            {33, 1000, 17},   {1, 1000, 1001}, {1000, 1, 600},   {3, 70, 1537}};
    std::mt19937 rng(12);
    int n_case = 0;
    for (const Shape& s : shapes) {
        Case c;
        c.M = s.M, c.N = s.N, c.K = s.K;
        c.b_is_nk = n_case % 2 == 0;
        c.lda_pad = n_case % 3 == 0 ? 16 : 0;
        c.ldc_pad = n_case % 2 == 0 ? 7 : 0;
        c.bias = true;
        c.residual = n_case % 2 == 1;
        c.residual_in_place = n_case % 4 == 3;
        c.act = gemm_test_act(kAllActs[(n_case * 4) % 9]);
        c.threads = n_case % 3;
        run_case(c, rng);
        ++n_case;
        if (HasFailure()) return;
    }
}

// The kernel rounds its operands to bf16 (it is not an FP32 GEMM in disguise, nor does it
// skip the rounding of A): a product of values that bf16 cannot hold comes out rounded.
TEST(GemmBf16, OperandsAreRoundedToBf16) {
    if (!bf16_gemm_available()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
    // bf16 keeps 7 fraction bits (steps of 2^-7 above 1): 1 + 2^-10 and 1 + 3·2^-10 round
    // to 1; 1 + 5·2^-8 lies halfway between 1 + 2^-6 and 1 + 3·2^-8 and rounds to the even one.
    const float a[2] = {1.f + 1.f / 1024.f, 1.f + 5.f / 256.f};
    const float b[2] = {1.f, 1.f + 3.f / 1024.f};
    const PackedGemmBBf16 p = pack_gemm_b_bf16(b, 2, 1, 1, false);
    float c = 0;
    gemm_bf16(1, a, 2, p, &c, 1, GemmEpilogue{}, nullptr);
    EXPECT_EQ(c, 1.f + (1.f + 1.f / 64.f));  // FP32 would give 2.0225
    EXPECT_EQ(bf16_to_float(float_to_bf16(a[0])), 1.f);
}
