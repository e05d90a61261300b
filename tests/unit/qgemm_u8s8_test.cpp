// The int8 GEMM micro-kernels (VNNI, AVX2, portable; ARM64 sdot, sudot, smull) against the scalar reference, bit
// for bit: zero points other than 0, K and N not multiples of any vector width, strided
// A and C, fused clamps, every ISA level this CPU has.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "base/thread_pool.hpp"
#include "isa_test_util.hpp"
#include "kernels/int8/qgemm_u8s8.hpp"
#include "kernels/int8/requant.hpp"
#include "kernels/reference/qconv_ref.hpp"

using namespace edgecnn;

namespace {

struct Case {
    int64_t M, N, K;
};

// residual: with a fused residual add in the epilogue, checked against the reference
// GEMM followed by the scalar int8 Add (qadd_u8 of requant.hpp).
void run_case(const Case& cs, std::mt19937& rng, ThreadPool* pool, Isa isa, bool residual = false) {
    const int64_t lda = cs.K + 3, ldc = cs.N + 5;
    std::uniform_int_distribution<int> u8(0, 255), s8(-127, 127), zp(0, 255), bias(-20000, 20000);
    std::vector<uint8_t> A(size_t(cs.M * lda));
    for (auto& v : A) v = uint8_t(u8(rng));
    std::vector<int8_t> B(size_t(cs.K * cs.N));
    for (auto& v : B) v = int8_t(s8(rng));
    std::vector<int32_t> b(size_t(cs.N));
    for (auto& v : b) v = bias(rng);
    std::vector<float> mult(size_t(cs.N));
    std::uniform_real_distribution<float> mu(0.2f, 2.0f);
    // Multipliers that keep outputs mostly inside 0..255 for this K, so that the clamp
    // does not hide differences.
    for (auto& v : mult) v = mu(rng) / (float(cs.K) * 128.f * 8.f + 1.f) * 64.f;
    QRequant rq;
    rq.mult = mult.data();
    rq.zero = zp(rng);
    rq.lo = std::uniform_int_distribution<int>(0, 30)(rng);
    rq.hi = std::uniform_int_distribution<int>(200, 255)(rng);
    const int32_t a_zero = zp(rng);
    std::vector<uint8_t> want(size_t(cs.M * ldc), 7), got(size_t(cs.M * ldc), 7);
    qgemm_u8s8_ref(cs.M, cs.N, cs.K, A.data(), lda, a_zero, B.data(), cs.N, b.data(), rq, want.data(), ldc);
    PackedQGemmB packed = pack_qgemm_b_s8(B.data(), cs.K, cs.N, cs.N, false, isa);
    QGemmEpilogue ep;
    ep.a_zero = a_zero, ep.bias = b.data(), ep.mult = mult.data(), ep.c_zero = rq.zero, ep.lo = rq.lo, ep.hi = rq.hi;
    std::vector<uint8_t> R(size_t(cs.M * ldc));
    if (residual) {
        for (auto& v : R) v = uint8_t(u8(rng));
        std::uniform_real_distribution<float> am(0.3f, 1.5f);
        ep.residual = R.data();
        ep.add.a_mult = am(rng), ep.add.b_mult = am(rng);
        ep.add.a_zero = zp(rng), ep.add.b_zero = zp(rng), ep.add.y_zero = zp(rng);
        ep.add.lo = std::uniform_int_distribution<int>(0, 30)(rng);
        ep.add.hi = std::uniform_int_distribution<int>(200, 255)(rng);
        const QAddParams& q = ep.add;
        for (int64_t m = 0; m < cs.M; ++m)
            for (int64_t n = 0; n < cs.N; ++n) {
                uint8_t& w = want[size_t(m * ldc + n)];
                w = qadd_u8(w, q.a_mult, q.a_zero, R[size_t(m * ldc + n)], q.b_mult, q.b_zero, q.y_zero, q.lo, q.hi);
            }
    }
    qgemm_u8s8(cs.M, A.data(), lda, packed, got.data(), ldc, ep, pool);
    int distinct = 0;
    for (int64_t i = 0; i < cs.M * ldc; ++i) distinct += want[size_t(i)] != want[0];
    ASSERT_EQ(want, got) << "M=" << cs.M << " N=" << cs.N << " K=" << cs.K << " kernel "
                         << qgemm_kernel_name(packed.kernel());
    // The outputs must not all be clamped to one value (else the test proves little).
    EXPECT_GT(distinct, 0);
}

}  // namespace

TEST(QGemmU8S8, BitExactWithReferenceOnEveryIsa) {
    const Case cases[] = {{1, 1, 1},   {3, 5, 7},    {13, 33, 9},  {12, 32, 4},  {25, 17, 130},
                          {7, 64, 576}, {50, 100, 3}, {37, 48, 31}, {2, 130, 1153}};
    ThreadPool pool(2);
    for (Isa isa : isas()) {
        IsaGuard guard(isa);
        std::mt19937 rng(42);
        for (const Case& c : cases) {
            run_case(c, rng, nullptr, isa);
            run_case(c, rng, &pool, isa);
        }
    }
}

TEST(QGemmU8S8, FusedResidualAddBitExactOnEveryIsa) {
    const Case cases[] = {{1, 1, 1}, {3, 5, 7}, {13, 33, 9}, {12, 32, 4}, {25, 17, 130}, {7, 64, 576}, {37, 48, 31}};
    ThreadPool pool(2);
    for (Isa isa : isas()) {
        IsaGuard guard(isa);
        std::mt19937 rng(7);
        for (const Case& c : cases) {
            run_case(c, rng, nullptr, isa, true);
            run_case(c, rng, &pool, isa, true);
        }
    }
}

// The float epilogue (c_f32): float(exact int32 sum) * mult, bit for bit on every ISA.
TEST(QGemmU8S8, FloatOutputBitExactOnEveryIsa) {
    const Case cases[] = {{1, 1000, 1280}, {1, 1, 1}, {3, 5, 7}, {13, 33, 9}, {25, 17, 130}, {12, 64, 4}};
    for (Isa isa : isas()) {
        IsaGuard guard(isa);
        std::mt19937 rng(9);
        for (const Case& cs : cases) {
            const int64_t lda = cs.K + 1, ldc = cs.N + 3;
            std::uniform_int_distribution<int> u8(0, 255), s8(-127, 127), bias(-20000, 20000);
            std::vector<uint8_t> A(size_t(cs.M * lda));
            for (auto& v : A) v = uint8_t(u8(rng));
            std::vector<int8_t> B(size_t(cs.K * cs.N));
            for (auto& v : B) v = int8_t(s8(rng));
            std::vector<int32_t> b(size_t(cs.N));
            for (auto& v : b) v = bias(rng);
            std::vector<float> mult(size_t(cs.N));
            std::uniform_real_distribution<float> mu(1e-4f, 1e-2f);
            for (auto& v : mult) v = mu(rng);
            const int32_t a_zero = u8(rng);
            std::vector<float> want(size_t(cs.M * ldc), -1.f), got(size_t(cs.M * ldc), -1.f);
            for (int64_t m = 0; m < cs.M; ++m)
                for (int64_t n = 0; n < cs.N; ++n) {
                    int32_t acc = b[size_t(n)];
                    for (int64_t k = 0; k < cs.K; ++k)
                        acc += (int32_t(A[size_t(m * lda + k)]) - a_zero) * B[size_t(k * cs.N + n)];
                    want[size_t(m * ldc + n)] = float(acc) * mult[size_t(n)];
                }
            PackedQGemmB packed = pack_qgemm_b_s8(B.data(), cs.K, cs.N, cs.N, false, isa);
            QGemmEpilogue ep;
            ep.a_zero = a_zero, ep.bias = b.data(), ep.mult = mult.data(), ep.c_f32 = got.data();
            qgemm_u8s8(cs.M, A.data(), lda, packed, nullptr, ldc, ep, nullptr);
            ASSERT_EQ(want, got) << "M=" << cs.M << " N=" << cs.N << " K=" << cs.K << " kernel "
                                 << qgemm_kernel_name(packed.kernel());
        }
    }
}

TEST(QGemmU8S8, KernelChoiceFollowsCpu) {
    // VNNI only where the CPU has it; AVX2 never saturates so it serves AVX-512 CPUs without.
    EXPECT_EQ(qgemm_kernel_for(Isa::Scalar), QGemmKernel::Portable);
    if (cpu_features().avx512_vnni && active_isa() == Isa::Avx512) {
        EXPECT_EQ(qgemm_kernel_for(Isa::Avx512), QGemmKernel::Avx512Vnni);
    }
#if defined(__aarch64__)
    // ARMv8.0 NEON has no dot product: smull + sadalp; sdot / sudot where the core has them
    // (a level above the core falls back to what it has).
    const CpuFeatures& f = cpu_features();
    EXPECT_EQ(qgemm_kernel_for(Isa::Neon), QGemmKernel::Neon);
    EXPECT_EQ(qgemm_kernel_for(Isa::NeonDot), f.dotprod ? QGemmKernel::NeonDot : QGemmKernel::Neon);
    EXPECT_EQ(qgemm_kernel_for(Isa::NeonI8mm), f.i8mm      ? QGemmKernel::NeonI8mm
                                               : f.dotprod ? QGemmKernel::NeonDot
                                                           : QGemmKernel::Neon);
#endif
}

TEST(QGemmU8S8, SaturatingPairSumsWouldDiffer) {
    // All-255 activations and all-127 weights: pair sums of 64770 that a 16-bit
    // saturating instruction would cut to 32767. Every kernel must still match.
    const int64_t M = 3, N = 20, K = 64;
    std::vector<uint8_t> A(size_t(M * K), 255);
    std::vector<int8_t> B(size_t(K * N), 127);
    std::vector<float> mult(size_t(N), 1.f / 16384.f);
    QRequant rq;
    rq.mult = mult.data();
    std::vector<uint8_t> want(size_t(M * N)), got(size_t(M * N));
    qgemm_u8s8_ref(M, N, K, A.data(), K, 0, B.data(), N, nullptr, rq, want.data(), N);
    EXPECT_EQ(want[0], uint8_t(std::nearbyint(255.f * 127.f * 64.f / 16384.f)));
    for (Isa isa : isas()) {
        PackedQGemmB packed = pack_qgemm_b_s8(B.data(), K, N, N, false, isa);
        QGemmEpilogue ep;
        ep.mult = mult.data();
        qgemm_u8s8(M, A.data(), K, packed, got.data(), N, ep, nullptr);
        EXPECT_EQ(want, got) << qgemm_kernel_name(packed.kernel());
    }
}

TEST(Requantize, RoundsHalfToEvenAndClamps) {
    EXPECT_EQ(requantize_u8(5, 0.5f, 0, 0, 255), 2);    // 2.5 → 2
    EXPECT_EQ(requantize_u8(7, 0.5f, 0, 0, 255), 4);    // 3.5 → 4
    EXPECT_EQ(requantize_u8(-3, 0.5f, 10, 0, 255), 8);  // -1.5 → -2, + 10
    EXPECT_EQ(requantize_u8(1 << 30, 1.f, 0, 0, 255), 255);
    EXPECT_EQ(requantize_u8(-(1 << 30), 1.f, 128, 0, 255), 0);
    EXPECT_EQ(requantize_u8(100, 1.f, 0, 20, 90), 90);
    EXPECT_EQ(quantize_u8(0.25f, 0.1f, 3), 5);  // 2.5 → 2, + 3
}
