// Running a test body on every ISA level the CPU has.
#pragma once
#include <optional>
#include <vector>

#include "base/cpu_features.hpp"

namespace edgecnn {

inline std::vector<Isa> isas() { return supported_isas(); }

// The FP32 kernels' level for a dispatch level: every NEON level (dot product, i8mm) runs
// the one NEON FP32 kernel; those extensions only matter to integer kernels.
inline Isa fp32_kernel_isa(Isa isa) { return is_neon(isa) ? Isa::Neon : isa; }

// Forces an ISA level for the guard's lifetime.
struct IsaGuard {
    explicit IsaGuard(Isa i) { set_isa_override(i); }
    ~IsaGuard() { set_isa_override(std::nullopt); }
    IsaGuard(const IsaGuard&) = delete;
    IsaGuard& operator=(const IsaGuard&) = delete;
};

}  // namespace edgecnn
