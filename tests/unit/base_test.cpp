#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/cpu_features.hpp"
#include "base/dtype.hpp"
#include "base/error.hpp"
#include "base/tensor.hpp"

using namespace edgecnn;

TEST(DType, HalfRoundTripsAllFiniteHalves) {
    for (uint32_t h = 0; h < 0x10000; ++h) {
        if ((h & 0x7c00) == 0x7c00) continue;  // inf/nan
        float f = half_to_float(uint16_t(h));
        ASSERT_EQ(float_to_half(f), uint16_t(h)) << "half bits " << h;
    }
}

TEST(DType, HalfRoundsToNearestEven) {
    EXPECT_EQ(half_to_float(float_to_half(1.0f + 1.0f / 2048)), 1.0f);             // tie → even
    EXPECT_EQ(half_to_float(float_to_half(1.0f + 3.0f / 2048)), 1.0f + 2.0f / 1024);  // tie → even (up)
    EXPECT_TRUE(std::isinf(half_to_float(float_to_half(70000.f))));
    EXPECT_EQ(half_to_float(float_to_half(-2.5f)), -2.5f);
}

TEST(DType, Bf16) {
    EXPECT_EQ(bf16_to_float(float_to_bf16(1.5f)), 1.5f);
    EXPECT_EQ(bf16_to_float(float_to_bf16(3.14159f)), 3.140625f);
}

TEST(Tensor, AllocatesAlignedZeroed) {
    Tensor t(DType::F32, {2, 3, 5});
    EXPECT_EQ(t.numel(), 30);
    EXPECT_EQ(t.nbytes(), 120u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % 64, 0u);
    for (int i = 0; i < 30; ++i) EXPECT_EQ(t.data<float>()[i], 0.f);
}

TEST(Tensor, ShallowCopyDeepClone) {
    Tensor a = Tensor::from_vector<float>({1, 2, 3}, {3});
    Tensor b = a;
    Tensor c = a.clone();
    a.data<float>()[0] = 9;
    EXPECT_EQ(b.data<float>()[0], 9);
    EXPECT_EQ(c.data<float>()[0], 1);
}

TEST(Tensor, WrongTypeAccessThrows) {
    Tensor a(DType::I64, {2});
    EXPECT_THROW(a.data<float>(), Error);
}

TEST(Tensor, RefusesHugeAndNegativeShapes) {
    EXPECT_THROW(Tensor(DType::F32, {1000000, 1000000}), Error);
    EXPECT_THROW(Tensor(DType::F32, {-1, 3}), Error);
    EXPECT_THROW(Tensor(DType::F32, {INT64_MAX, 4}), Error);
}

TEST(Tensor, ConvertsToF64AndI64) {
    Tensor a = Tensor::from_vector<int32_t>({-3, 4}, {2});
    EXPECT_EQ(a.to_f64(), (std::vector<double>{-3, 4}));
    Tensor b = Tensor::from_vector<float>({2.7f, -1.2f}, {2});
    EXPECT_EQ(b.to_i64(), (std::vector<int64_t>{2, -1}));
}

// The dispatch levels tests loop over: the portable level first, then ascending, each one
// selectable; the ARM64 levels follow the detected features.
TEST(CpuFeatures, SupportedLevelsAreSelectableAndOrdered) {
    const std::vector<Isa> levels = supported_isas();
    ASSERT_FALSE(levels.empty());
    EXPECT_EQ(levels.front(), Isa::Scalar);
    for (size_t i = 1; i < levels.size(); ++i) EXPECT_LT(int(levels[i - 1]), int(levels[i]));
    for (Isa isa : levels) {
        set_isa_override(isa);
        EXPECT_EQ(active_isa(), isa) << isa_name(isa);
    }
    set_isa_override(std::nullopt);
    if (!std::getenv("EDGECNN_ISA")) {
        EXPECT_EQ(active_isa(), levels.back());
    }
    const CpuFeatures& f = cpu_features();
#if defined(__aarch64__)
    EXPECT_TRUE(f.neon);
    EXPECT_EQ(levels.size(), size_t(2 + int(f.dotprod) + int(f.dotprod && f.i8mm)));
    // An x86 level on ARM runs the portable code.
    set_isa_override(Isa::Avx2);
    EXPECT_EQ(active_isa(), Isa::Scalar);
    set_isa_override(std::nullopt);
#else
    EXPECT_FALSE(f.neon || f.dotprod || f.i8mm);
    set_isa_override(Isa::NeonDot);
    EXPECT_EQ(active_isa(), Isa::Scalar);
    set_isa_override(std::nullopt);
#endif
}
