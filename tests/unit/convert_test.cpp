// convert_value: float → integer conversions saturate instead of being undefined behaviour.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "base/convert.hpp"

using namespace edgecnn;

TEST(ConvertValue, FloatToIntegerSaturatesAndMapsNanToZero) {
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_EQ(convert_value<int64_t>(inf), std::numeric_limits<int64_t>::max());
    EXPECT_EQ(convert_value<int64_t>(-inf), std::numeric_limits<int64_t>::min());
    EXPECT_EQ(convert_value<int64_t>(std::nan("")), 0);
    EXPECT_EQ(convert_value<int32_t>(1e30f), std::numeric_limits<int32_t>::max());
    EXPECT_EQ(convert_value<int32_t>(-1e30f), std::numeric_limits<int32_t>::min());
    EXPECT_EQ(convert_value<uint8_t>(-5.0f), 0);
    EXPECT_EQ(convert_value<uint8_t>(300.0f), 255);
    EXPECT_EQ(convert_value<int8_t>(-3.7f), -3);  // in range: truncation, like static_cast
    EXPECT_EQ(convert_value<int64_t>(9.2e18), int64_t(9.2e18));
    EXPECT_EQ(convert_value<int64_t>(9.3e18), std::numeric_limits<int64_t>::max());
    EXPECT_EQ(convert_value<float>(int64_t(3)), 3.f);
    EXPECT_EQ(convert_value<bool>(0.5f), true);
}
