#include "base/cpu_features.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace edgecnn {

namespace {

CpuFeatures detect() {
    CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    bool osxsave = c & (1u << 27);
    bool fma = c & (1u << 12);
    bool f16c = c & (1u << 29);
    unsigned long long xcr0 = 0;
    if (osxsave) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = (unsigned long long)hi << 32 | lo;
    }
    bool os_avx = (xcr0 & 0x6) == 0x6;
    bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
    f.avx2 = os_avx && (b & (1u << 5));
    f.fma = os_avx && fma;
    f.f16c = os_avx && f16c;
    f.avx512f = os_avx512 && (b & (1u << 16));
    f.avx512dq = os_avx512 && (b & (1u << 17));
    f.avx512bw = os_avx512 && (b & (1u << 30));
    f.avx512vl = os_avx512 && (b & (1u << 31));
    f.avx512_vnni = os_avx512 && (c & (1u << 11));
    unsigned a1, b1, c1, d1;
    if (__get_cpuid_count(7, 1, &a1, &b1, &c1, &d1)) {
        f.avx_vnni = os_avx && (a1 & (1u << 4));
        f.avx512_bf16 = os_avx512 && (a1 & (1u << 5));
    }
#elif defined(__aarch64__)
    unsigned long hw = getauxval(AT_HWCAP);
    unsigned long hw2 = getauxval(AT_HWCAP2);
    f.neon = true;
    f.dotprod = hw & HWCAP_ASIMDDP;
    f.fp16 = hw & HWCAP_ASIMDHP;
#ifdef HWCAP2_I8MM
    f.i8mm = hw2 & HWCAP2_I8MM;
#else
    (void)hw2;
#endif
#endif
    return f;
}

Isa best_isa(const CpuFeatures& f) {
#if defined(__aarch64__)
    return f.dotprod ? Isa::NeonDot : Isa::Neon;
#else
    if (f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl && f.fma) return Isa::Avx512;
    if (f.avx2 && f.fma) return Isa::Avx2;
    return Isa::Scalar;
#endif
}

std::atomic<int> g_override{-1};

std::optional<Isa> env_override() {
    const char* e = std::getenv("EDGECNN_ISA");
    if (!e) return std::nullopt;
    if (!std::strcmp(e, "scalar")) return Isa::Scalar;
    if (!std::strcmp(e, "avx2")) return Isa::Avx2;
    if (!std::strcmp(e, "avx512")) return Isa::Avx512;
    if (!std::strcmp(e, "neon")) return Isa::Neon;
    if (!std::strcmp(e, "neondot")) return Isa::NeonDot;
    return std::nullopt;
}

}  // namespace

const CpuFeatures& cpu_features() {
    static const CpuFeatures f = detect();
    return f;
}

std::string isa_name(Isa isa) {
    switch (isa) {
        case Isa::Scalar: return "scalar";
        case Isa::Avx2: return "avx2";
        case Isa::Avx512: return "avx512";
        case Isa::Neon: return "neon";
        case Isa::NeonDot: return "neon-dot";
    }
    return "?";
}

Isa active_isa() {
    static const Isa best = best_isa(cpu_features());
    static const std::optional<Isa> env = env_override();
    int o = g_override.load();
    Isa want = o >= 0 ? Isa(o) : env.value_or(best);
    // Clamp within the same family: never above what the CPU has.
    if (int(want) > int(best)) return best;
    if ((int(want) >= 10) != (int(best) >= 10)) return int(best) >= 10 ? Isa::Neon : Isa::Scalar;
    return want;
}

std::vector<Isa> supported_isas() {
    std::vector<Isa> levels;
#if defined(__aarch64__)
    levels.push_back(Isa::Neon);
    if (cpu_features().dotprod) levels.push_back(Isa::NeonDot);
#else
    levels.push_back(Isa::Scalar);
    Isa best = best_isa(cpu_features());
    if (int(best) >= int(Isa::Avx2)) levels.push_back(Isa::Avx2);
    if (best == Isa::Avx512) levels.push_back(Isa::Avx512);
#endif
    return levels;
}

void set_isa_override(std::optional<Isa> isa) { g_override.store(isa ? int(*isa) : -1); }

}  // namespace edgecnn
