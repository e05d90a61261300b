#include "base/cpu_topology.hpp"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace edgecnn {

std::vector<int> fastest_cpus(const std::string& sysfs_cpu_dir) {
    std::vector<std::pair<int, long long>> freq;  // (cpu, max kHz)
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(sysfs_cpu_dir, ec)) {
        const std::string name = entry.path().filename().string();
        // cpu0, cpu1, ... (not cpufreq, cpuidle, ...)
        if (name.size() < 4 || name.compare(0, 3, "cpu") != 0 ||
            !std::all_of(name.begin() + 3, name.end(), [](char c) { return c >= '0' && c <= '9'; }))
            continue;
        std::ifstream f(entry.path() / "cpufreq" / "cpuinfo_max_freq");
        long long khz = 0;
        if (f >> khz && khz > 0) freq.emplace_back(std::atoi(name.c_str() + 3), khz);
    }
    std::vector<int> cpus;
    if (freq.empty()) return cpus;
    long long top = 0;
    for (const auto& [cpu, khz] : freq) top = std::max(top, khz);
    for (const auto& [cpu, khz] : freq)
        if (khz == top) cpus.push_back(cpu);
    std::sort(cpus.begin(), cpus.end());
    return cpus;
}

std::vector<int> allowed_cpus() {
    std::vector<int> cpus;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
    for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &set)) cpus.push_back(c);
    return cpus;
}

std::vector<int> big_cores() {
    const std::vector<int> allowed = allowed_cpus();
    std::vector<int> big;
    for (int c : fastest_cpus())
        if (std::binary_search(allowed.begin(), allowed.end(), c)) big.push_back(c);
    return big.empty() ? allowed : big;
}

int64_t cache_bytes(int cpu, int level, const std::string& sysfs_cpu_dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path dir = fs::path(sysfs_cpu_dir) / ("cpu" + std::to_string(cpu)) / "cache";
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().filename().string().rfind("index", 0) != 0) continue;
        int lvl = 0;
        std::string type, size;
        if (!(std::ifstream(entry.path() / "level") >> lvl) || lvl != level) continue;
        if (!(std::ifstream(entry.path() / "type") >> type) || type == "Instruction") continue;
        if (!(std::ifstream(entry.path() / "size") >> size) || size.empty()) continue;
        char* end = nullptr;
        const long long n = std::strtoll(size.c_str(), &end, 10);
        if (n <= 0) continue;
        const std::string unit = end;
        if (unit.empty()) return n;
        if (unit == "K") return n << 10;
        if (unit == "M") return n << 20;
    }
    return 0;
}

int64_t l2_cache_bytes() {
    static const int64_t bytes = [] {
        const std::vector<int> big = big_cores();
        const int64_t b = cache_bytes(big.empty() ? 0 : big.front(), 2);
        return b > 0 ? b : int64_t(1) << 20;
    }();
    return bytes;
}

bool set_thread_affinity(const std::vector<int>& cpus) {
    cpu_set_t set;
    CPU_ZERO(&set);
    int n = 0;
    for (int c : cpus)
        if (c >= 0 && c < CPU_SETSIZE) {
            CPU_SET(c, &set);
            ++n;
        }
    return n > 0 && sched_setaffinity(0, sizeof(set), &set) == 0;
}

}  // namespace edgecnn
