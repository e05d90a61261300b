// The packed FP32 GEMM against a naive double-precision triple loop, on every ISA level
// this machine has, with awkward shapes, strided views, both B layouts, every fused
// epilogue and 1-3 threads. Padding of strided A/residual holds NaN (a read past K or N
// would poison the result) and padding of C holds a sentinel that must survive.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <vector>

#include "base/cpu_features.hpp"
#include "gemm_test_util.hpp"
#include "isa_test_util.hpp"
#include "base/thread_pool.hpp"
#include "kernels/gemm/gemm_f32.hpp"
#include "kernels/reference/gemm_ref.hpp"

using namespace edgecnn;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kSentinel = -12345.f;

struct Case {
    int64_t M = 1, N = 1, K = 1;
    int64_t lda_pad = 0, ldc_pad = 0, ldr_pad = 0, ldb_pad = 0;
    bool b_is_nk = false, bias = false, residual = false, residual_in_place = false;
    ActivationParams act;
    int threads = 0;  // 0: pool = nullptr
    float scale = 1.f;
};

std::string describe(const Case& c, Isa isa) {
    return isa_name(isa) + " M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) + " K=" + std::to_string(c.K) +
           " pads(a,c,r,b)=" + std::to_string(c.lda_pad) + "," + std::to_string(c.ldc_pad) + "," +
           std::to_string(c.ldr_pad) + "," + std::to_string(c.ldb_pad) + (c.b_is_nk ? " B[N,K]" : " B[K,N]") +
           (c.bias ? " bias" : "") + (c.residual ? (c.residual_in_place ? " residual(in place)" : " residual") : "") +
           " act=" + activation_name(c.act.kind) + " threads=" + std::to_string(c.threads);
}

void run_case(const Case& c, Isa isa, std::mt19937& rng) {
    SCOPED_TRACE(describe(c, isa));
    std::uniform_real_distribution<float> dist(-c.scale, c.scale);
    const int64_t M = c.M, N = c.N, K = c.K;
    const int64_t lda = K + c.lda_pad, ldc = N + c.ldc_pad, ldb = (c.b_is_nk ? K : N) + c.ldb_pad;
    const int64_t ldr = c.residual_in_place ? ldc : N + c.ldr_pad;
    std::vector<float> A(static_cast<size_t>(M * lda), kNaN);
    for (int64_t i = 0; i < M; ++i)
        for (int64_t k = 0; k < K; ++k) A[size_t(i * lda + k)] = dist(rng);
    const int64_t b_rows = c.b_is_nk ? N : K;
    std::vector<float> B(static_cast<size_t>(std::max<int64_t>(b_rows * ldb, 1)), kNaN);
    for (int64_t r = 0; r < b_rows; ++r)
        for (int64_t q = 0; q < ldb - c.ldb_pad; ++q) B[size_t(r * ldb + q)] = dist(rng);
    std::vector<float> bias(static_cast<size_t>(N));
    for (float& v : bias) v = dist(rng);
    std::vector<float> C(static_cast<size_t>(M * ldc), kSentinel);
    std::vector<float> R;
    if (c.residual && !c.residual_in_place) {
        R.assign(static_cast<size_t>(M * ldr), kNaN);
        for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) R[size_t(i * ldr + j)] = dist(rng);
    }
    if (c.residual_in_place)
        for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) C[size_t(i * ldc + j)] = dist(rng);
    const std::vector<float> residual = c.residual_in_place ? C : R;

    // Expected: op(B) via the reference GEMM into a dense [M, N], in float, plus a
    // double-precision check of the magnitude for the tolerance.
    std::vector<float> ref(static_cast<size_t>(M * N), 0.f);
    gemm_f32_ref(false, c.b_is_nk, M, N, K, 1.f, A.data(), lda, B.data(), ldb, 0.f, ref.data(), N);

    PackedGemmB packed = pack_gemm_b_f32(B.data(), K, N, ldb, c.b_is_nk, active_isa());
    ASSERT_EQ(packed.k(), K);
    ASSERT_EQ(packed.n(), N);
    ASSERT_EQ(packed.isa(), fp32_kernel_isa(isa));
    GemmEpilogue ep;
    ep.bias = c.bias ? bias.data() : nullptr;
    if (c.residual) {
        ep.residual = c.residual_in_place ? C.data() : R.data();
        ep.ld_residual = ldr;
    }
    ep.act = c.act;
    std::optional<ThreadPool> pool;
    if (c.threads > 0) pool.emplace(c.threads);
    gemm_f32(M, A.data(), lda, packed, C.data(), ldc, ep, pool ? &*pool : nullptr);

    const float tol_k = 1e-5f * c.scale * c.scale * std::sqrt(float(K) + 1.f);
    int bad = 0;
    for (int64_t i = 0; i < M && bad < 5; ++i) {
        for (int64_t j = 0; j < ldc; ++j) {
            const float got = C[size_t(i * ldc + j)];
            if (j >= N) {
                if (got != kSentinel) {
                    ADD_FAILURE() << "C padding overwritten at row " << i << " col " << j;
                    ++bad;
                }
                continue;
            }
            float pre = ref[size_t(i * N + j)];
            if (c.bias) pre += bias[size_t(j)];
            if (c.residual) pre += residual[size_t(i * ldr + j)];
            const float want = apply_activation(pre, c.act);
            const float tol = tol_k + 1e-5f * std::fabs(want) + 1e-6f;
            if (!(std::fabs(got - want) <= tol)) {
                ADD_FAILURE() << "C[" << i << "," << j << "] = " << got << ", want " << want << " (pre-activation "
                              << pre << ", tol " << tol << ")";
                if (++bad >= 5) break;
            }
        }
    }
}

using test::gemm_test_act;
constexpr const auto& kAllActs = test::kGemmTestActs;

}  // namespace

TEST(GemmF32, SmallShapesEveryIsa) {
    const int64_t sizes[] = {1, 3, 7, 16, 17, 33, 64};
    std::mt19937 rng(1);
    for (Isa isa : isas()) {
        IsaGuard g(isa);
        int n_case = 0;
        for (int64_t M : sizes)
            for (int64_t N : sizes)
                for (int64_t K : sizes) {
                    Case c;
                    c.M = M, c.N = N, c.K = K;
                    c.b_is_nk = (n_case & 1) != 0;
                    c.lda_pad = (n_case % 3 == 0) ? 5 : 0;
                    c.ldc_pad = (n_case % 5 == 0) ? 3 : 0;
                    c.ldr_pad = (n_case % 7 == 0) ? 2 : 0;
                    c.ldb_pad = (n_case % 4 == 1) ? 9 : 0;
                    c.bias = (n_case % 3) != 1;
                    c.residual = (n_case % 4) == 2;
                    c.act = gemm_test_act(kAllActs[n_case % 9]);
                    c.threads = (n_case % 11 == 0) ? 2 : 0;
                    run_case(c, isa, rng);
                    ++n_case;
                    if (HasFailure()) return;
                }
    }
}

// Large and K-blocked shapes (K > 512 takes several K blocks, with partial sums in C).
TEST(GemmF32, LargeShapesEveryIsa) {
    struct Shape {
        int64_t M, N, K;
    };
    const Shape shapes[] = {{1030, 33, 100}, {257, 257, 257}, {100, 100, 1030}, {49, 512, 2048},
                            {33, 1000, 17},  {1, 1000, 1000}, {1000, 1, 600},   {3, 70, 1537}};
    std::mt19937 rng(2);
    for (Isa isa : isas()) {
        IsaGuard g(isa);
        int n_case = 0;
        for (const Shape& s : shapes) {
            Case c;
            c.M = s.M, c.N = s.N, c.K = s.K;
            c.b_is_nk = (n_case & 1) == 0;
            c.lda_pad = n_case % 3 == 0 ? 16 : 0;
            c.ldc_pad = n_case % 2 == 0 ? 7 : 0;
            c.bias = true;
            c.residual = n_case % 2 == 1;
            c.residual_in_place = n_case % 4 == 3;
            c.act = gemm_test_act(kAllActs[(n_case * 4) % 9]);
            c.threads = n_case % 3 + 1 == 1 ? 0 : n_case % 3 + 1;
            run_case(c, isa, rng);
            ++n_case;
            if (HasFailure()) return;
        }
    }
}

// Every activation, with inputs large enough to reach the saturated ranges, with and
// without the column tail, on 1, 2 and 3 threads.
TEST(GemmF32, EveryActivationAndThreadCount) {
    std::mt19937 rng(3);
    for (Isa isa : isas()) {
        IsaGuard g(isa);
        for (Activation kind : kAllActs)
            for (int threads : {0, 2, 3})
                for (int64_t N : {48, 37}) {
                    Case c;
                    c.M = 45, c.N = N, c.K = 24;
                    c.scale = 2.f;
                    c.bias = true;
                    c.residual = true;
                    c.act = gemm_test_act(kind);
                    c.threads = threads;
                    run_case(c, isa, rng);
                    if (HasFailure()) return;
                }
    }
}

// Typical CNN 1x1 conv shapes (pixels x Cin x Cout) across thread counts.
TEST(GemmF32, CnnShapesThreaded) {
    struct Shape {
        int64_t M, N, K;
    };
    const Shape shapes[] = {{3136, 256, 64}, {784, 128, 512}, {196, 64, 384}, {12544, 16, 32}, {3136, 24, 144},
                            {49, 1280, 320}};
    std::mt19937 rng(4);
    for (Isa isa : isas()) {
        IsaGuard g(isa);
        for (const Shape& s : shapes)
            for (int threads : {0, 2, 3}) {
                Case c;
                c.M = s.M, c.N = s.N, c.K = s.K;
                c.b_is_nk = true;
                c.bias = true;
                c.act = gemm_test_act(Activation::Relu);
                c.threads = threads;
                run_case(c, isa, rng);
                if (HasFailure()) return;
            }
    }
}

// In-place residual (C holds the residual), K blocked and not, with a strided C.
TEST(GemmF32, ResidualInPlace) {
    std::mt19937 rng(5);
    for (Isa isa : isas()) {
        IsaGuard g(isa);
        for (int64_t K : {5, 64, 700, 1300}) {
            Case c;
            c.M = 37, c.N = 70, c.K = K;
            c.ldc_pad = 10;
            c.bias = true;
            c.residual = true;
            c.residual_in_place = true;
            c.act = gemm_test_act(Activation::Relu);
            run_case(c, isa, rng);
            if (HasFailure()) return;
        }
    }
}

// K == 0: C = act(bias + residual); M or N == 0: nothing happens.
TEST(GemmF32, DegenerateSizes) {
    std::mt19937 rng(6);
    for (Isa isa : isas()) {
        IsaGuard g(isa);
        Case c;
        c.M = 5, c.N = 19, c.K = 0;
        c.bias = true;
        c.residual = true;
        c.act = gemm_test_act(Activation::Silu);
        run_case(c, isa, rng);

        const float a = 1.f, b = 2.f;
        PackedGemmB p0 = pack_gemm_b_f32(&b, 1, 0, 1, false);
        float out = kSentinel;
        gemm_f32(1, &a, 1, p0, &out, 1, {}, nullptr);
        EXPECT_EQ(out, kSentinel);
        PackedGemmB p1 = pack_gemm_b_f32(&b, 1, 1, 1, false);
        gemm_f32(0, &a, 1, p1, &out, 1, {}, nullptr);
        EXPECT_EQ(out, kSentinel);
        gemm_f32(1, &a, 1, p1, &out, 1, {}, nullptr);
        EXPECT_EQ(out, 2.f);
    }
}

TEST(GemmF32, PackedLayoutFacts) {
    std::vector<float> B(64 * 40, 1.f);
    for (Isa isa : isas()) {
        IsaGuard g(isa);
        PackedGemmB p = pack_gemm_b_f32(B.data(), 64, 40, 40, false);
        EXPECT_EQ(p.isa(), fp32_kernel_isa(isa));
        const int64_t nr = p.panel_width();
        const int64_t rem = 40 % nr;
        const int64_t cols = rem == 0 ? 40 : (rem <= nr / 2 ? 40 - rem + nr / 2 : 40 - rem + nr);
        EXPECT_EQ(p.bytes(), size_t(cols * 64) * sizeof(float));
        EXPECT_EQ(reinterpret_cast<uintptr_t>(p.data()) % 64, 0u);
    }
}
