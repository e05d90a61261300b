// What the running CPU can do, detected once, and the ISA level kernels dispatch on.
// Tests force a lower level (set_isa_override or EDGECNN_ISA=scalar|avx2|avx512 on x86,
// EDGECNN_ISA=scalar|neon|neon-dot|neon-i8mm on ARM64) to exercise every path on one machine.
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
    // ARM64 (getauxval: HWCAP_ASIMD, HWCAP_ASIMDDP, HWCAP2_I8MM, HWCAP_FPHP + HWCAP_ASIMDHP)
    bool neon = false, dotprod = false, i8mm = false, fp16 = false;
};

const CpuFeatures& cpu_features();

// Levels, each a superset of the one below it within its family. Scalar is the portable
// code (GCC vector extensions, which still lower to SSE2 / NEON) and runs everywhere.
// ARM64: Neon = ARMv8.0 Advanced SIMD (every ARMv8 core; the FP32 kernels), NeonDot = plus
// sdot/udot (ARMv8.2 dot product), NeonI8mm = plus smmla/ummla (ARMv8.6 int8 matrix multiply).
enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 10, NeonDot = 11, NeonI8mm = 12 };
std::string isa_name(Isa isa);
// Whether `isa` is one of the ARM64 NEON levels (the FP32 NEON kernels serve all of them).
inline bool is_neon(Isa isa) { return int(isa) >= int(Isa::Neon); }

// Best ISA the CPU supports (capped by the override / EDGECNN_ISA if set).
Isa active_isa();
// Every ISA level this CPU can run, lowest first (what tests and benchmarks loop over).
std::vector<Isa> supported_isas();
// Forces a level for tests; nullopt restores detection. Asking for more than the CPU has
// is clamped to what it has; a level of the other architecture runs the portable code.
void set_isa_override(std::optional<Isa> isa);

}  // namespace edgecnn
