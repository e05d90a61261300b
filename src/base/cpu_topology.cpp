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
