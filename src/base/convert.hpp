// Value conversion between element types that is defined for every input.
#pragma once
#include <limits>
#include <type_traits>

namespace edgecnn {

// Float → integer: NaN gives 0 and values outside the target's range saturate to its limits
// (a plain static_cast is undefined behaviour there: Cast of inf, Pow overflowing an integer,
// ReduceLogSum of 0 into an integer — found by the ONNX fuzz target under UBSan).
// Everything else is a static_cast.
template <class To, class From>
constexpr To convert_value(From v) {
    if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To> && !std::is_same_v<To, bool>) {
        if (v != v) return To(0);
        if (v <= From(std::numeric_limits<To>::min())) return std::numeric_limits<To>::min();
        if (v >= From(std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
        return static_cast<To>(v);
    } else {
        return static_cast<To>(v);
    }
}

}  // namespace edgecnn
