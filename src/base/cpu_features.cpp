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
    // The kernel reports what user space may use (HWCAP bits), so no trapping MRS reads.
    const unsigned long hw = getauxval(AT_HWCAP);
    const unsigned long hw2 = getauxval(AT_HWCAP2);
    f.neon = hw & HWCAP_ASIMD;
    f.dotprod = f.neon && (hw & HWCAP_ASIMDDP);
    // FP16 arithmetic needs both the scalar and the vector half-precision instructions.
    f.fp16 = f.neon && (hw & HWCAP_FPHP) && (hw & HWCAP_ASIMDHP);
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1UL << 13)  // older kernel headers (Linux 5.10+ reports it)
#endif
    f.i8mm = f.neon && (hw2 & HWCAP2_I8MM);
#endif
    return f;
}

Isa best_isa(const CpuFeatures& f) {
#if defined(__aarch64__)
    if (!f.neon) return Isa::Scalar;
    if (f.dotprod && f.i8mm) return Isa::NeonI8mm;
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
    if (!std::strcmp(e, "neon-dot") || !std::strcmp(e, "neondot")) return Isa::NeonDot;
    if (!std::strcmp(e, "neon-i8mm") || !std::strcmp(e, "neoni8mm")) return Isa::NeonI8mm;
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
        case Isa::NeonI8mm: return "neon-i8mm";
    }
    return "?";
}

Isa active_isa() {
    static const Isa best = best_isa(cpu_features());
    static const std::optional<Isa> env = env_override();
    int o = g_override.load();
    Isa want = o >= 0 ? Isa(o) : env.value_or(best);
    // The portable level runs everywhere; another architecture's level runs the portable
    // code; within the family, never above what the CPU has.
    if (want == Isa::Scalar || is_neon(want) != is_neon(best)) return Isa::Scalar;
    return int(want) > int(best) ? best : want;
}

std::vector<Isa> supported_isas() {
    std::vector<Isa> levels;
    levels.push_back(Isa::Scalar);
#if defined(__aarch64__)
    const Isa best = best_isa(cpu_features());
    for (Isa i : {Isa::Neon, Isa::NeonDot, Isa::NeonI8mm})
        if (int(i) <= int(best)) levels.push_back(i);
#else
    Isa best = best_isa(cpu_features());
    if (int(best) >= int(Isa::Avx2)) levels.push_back(Isa::Avx2);
    if (best == Isa::Avx512) levels.push_back(Isa::Avx512);
#endif
    return levels;
}

void set_isa_override(std::optional<Isa> isa) { g_override.store(isa ? int(*isa) : -1); }

}  // namespace edgecnn
