// Which cores are the fast ones on big.LITTLE / DynamIQ ARM SoCs (RK3588: 4 x A76 + 4 x A55;
// phones: 1+3+4), and pinning threads to them. A kernel split evenly across a big and a
// LITTLE core finishes at the LITTLE core's pace, so on such chips running on the big
// cores only is usually faster than running on all of them.
//
// The big cores are those with the highest cpufreq maximum in sysfs
// (/sys/devices/system/cpu/cpuN/cpufreq/cpuinfo_max_freq): the one signal every ARM Linux
// kernel exposes (cpu_capacity and cluster ids are missing on many vendor kernels). On a
// machine where every core reports the same maximum (x86 desktops, Raspberry Pi 4/5), or
// where sysfs has no cpufreq, every core counts as big.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace edgecnn {

// CPUs (ascending) with the highest cpuinfo_max_freq under `sysfs_cpu_dir`; empty when no
// cpuN/cpufreq/cpuinfo_max_freq is readable there.
std::vector<int> fastest_cpus(const std::string& sysfs_cpu_dir = "/sys/devices/system/cpu");

// The CPUs this process may run on (sched_getaffinity), ascending.
std::vector<int> allowed_cpus();

// The big cores this process may use: fastest_cpus() within allowed_cpus(), or every
// allowed CPU when sysfs does not tell or none of the fastest is allowed.
std::vector<int> big_cores();

// Bytes of the level-`level` data or unified cache of CPU `cpu`, from
// `sysfs_cpu_dir`/cpuN/cache/index*/{level,type,size} ("1024K", "2M"); 0 when sysfs does not
// say (some ARM vendor kernels, containers without /sys).
int64_t cache_bytes(int cpu, int level, const std::string& sysfs_cpu_dir = "/sys/devices/system/cpu");

// The per-core L2 that cache-blocked kernels size their working sets by: that of the first
// big core (on big.LITTLE the LITTLE cores' L2 is smaller, but the work runs on the big
// ones), else 1 MiB when sysfs does not say. Read once.
int64_t l2_cache_bytes();

// Restricts the calling thread to `cpus` (it may run on any of them). False when the
// set is empty or the system refuses it (the thread then keeps its affinity).
bool set_thread_affinity(const std::vector<int>& cpus);

}  // namespace edgecnn
