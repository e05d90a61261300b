// What the running CPU can do, detected once, and the ISA level kernels dispatch on.
// Tests force a lower level (set_isa_override or EDGECNN_ISA=scalar|avx2|avx512) to
// exercise every path on one machine.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace edgecnn {

struct CpuFeatures {
    // x86
    bool avx2 = false, fma = false, f16c = false;
    bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
    bool avx512_vnni = false, avx512_bf16 = false, avx_vnni = false;
    // ARM64
    bool neon = false, dotprod = false, i8mm = false, fp16 = false;
};

const CpuFeatures& cpu_features();

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 10, NeonDot = 11 };
std::string isa_name(Isa isa);

// Best ISA the CPU supports (capped by the override / EDGECNN_ISA if set).
Isa active_isa();
// Every ISA level this CPU can run, lowest first (what tests and benchmarks loop over).
std::vector<Isa> supported_isas();
// Forces a level for tests; nullopt restores detection. Asking for more than the CPU has
// is clamped to what it has.
void set_isa_override(std::optional<Isa> isa);

}  // namespace edgecnn
