// Running a test body on every ISA level the CPU has.
#pragma once
#include <optional>
#include <vector>

#include "base/cpu_features.hpp"

namespace edgecnn {

inline std::vector<Isa> isas() { return supported_isas(); }

// Forces an ISA level for the guard's lifetime.
struct IsaGuard {
    explicit IsaGuard(Isa i) { set_isa_override(i); }
    ~IsaGuard() { set_isa_override(std::nullopt); }
    IsaGuard(const IsaGuard&) = delete;
    IsaGuard& operator=(const IsaGuard&) = delete;
};

}  // namespace edgecnn
