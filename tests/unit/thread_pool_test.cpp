#include <gtest/gtest.h>
#include <sys/resource.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/cpu_features.hpp"
#include "base/cpu_topology.hpp"
#include "base/thread_pool.hpp"

using namespace edgecnn;

TEST(ThreadPool, RunsEveryTaskExactlyOnce) {
    for (int threads : {1, 2, 4}) {
        ThreadPool pool(threads);
        for (int64_t n : {1, 2, 3, 17, 1000}) {
            std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
            for (int rep = 0; rep < 50; ++rep) pool.parallel_for(n, [&](int64_t t) { hits[size_t(t)]++; });
            for (int64_t t = 0; t < n; ++t) ASSERT_EQ(hits[size_t(t)].load(), 50) << threads << " threads, n " << n;
        }
    }
}

// Back-to-back jobs whose task counts grow: a worker still leaving job G while the caller
// publishes job G+1 once compared G's counter with G+1's larger count, claimed one task too
// many and ran it with G+1's function (that task then ran twice). Every task of every job
// must run exactly once, and the caller must not return before its own job's tasks finish.
TEST(ThreadPool, GrowingJobsBackToBackRunEachTaskOnce) {
    for (int threads : {2, 4}) {
        ThreadPool pool(threads, ThreadPool::Tuning{.adaptive = false});
        std::vector<std::atomic<int>> hits(16);
        for (int rep = 0; rep < 20000; ++rep) {
            const int64_t n = (rep % 2) ? 16 : 2;
            for (int64_t t = 0; t < n; ++t) hits[size_t(t)].store(0, std::memory_order_relaxed);
            pool.parallel_for(n, [&](int64_t t) { hits[size_t(t)].fetch_add(1, std::memory_order_relaxed); });
            for (int64_t t = 0; t < n; ++t)
                ASSERT_EQ(hits[size_t(t)].load(), 1) << threads << " threads, job " << rep << ", task " << t;
        }
    }
}

TEST(ThreadPool, SharedByConcurrentCallers) {
    ThreadPool pool(2);
    std::atomic<int64_t> total{0};
    std::vector<std::thread> callers;
    for (int c = 0; c < 3; ++c)
        callers.emplace_back([&] {
            for (int rep = 0; rep < 200; ++rep) pool.parallel_for(64, [&](int64_t t) { total += t; });
        });
    for (auto& t : callers) t.join();
    EXPECT_EQ(total.load(), 3 * 200 * (63 * 64 / 2));
}

// An idle pool must not burn CPU: after work, under 5% of one core over one second.
TEST(ThreadPool, IdlePoolUsesAlmostNoCpu) {
    ThreadPool pool(2);
    std::atomic<int64_t> sink{0};
    for (int rep = 0; rep < 100; ++rep) pool.parallel_for(8, [&](int64_t t) { sink += t; });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the spin phase end
    rusage before{}, after{};
    getrusage(RUSAGE_SELF, &before);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    getrusage(RUSAGE_SELF, &after);
    auto us = [](const timeval& t) { return double(t.tv_sec) * 1e6 + double(t.tv_usec); };
    double cpu_us = us(after.ru_utime) - us(before.ru_utime) + us(after.ru_stime) - us(before.ru_stime);
    EXPECT_LT(cpu_us, 0.05e6) << "idle pool used " << cpu_us / 1e4 << "% of a core";
}

namespace {
// Busy-waits for `us` microseconds (a task with a known cost).
void spin_for_us(int us) {
    auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
    while (std::chrono::steady_clock::now() < end) {
    }
}
}  // namespace

// A worker that stalls while holding a task (as when the OS preempts it for a busy process
// on its core) makes parallel jobs slower than the caller alone: the pool must notice,
// run jobs inline on the caller for the back-off period, and probe the workers again after.
TEST(ThreadPool, FallsBackToInlineWhenWorkersStallAndProbesAgain) {
    ThreadPool::Tuning tuning;
    tuning.window_ns = 1'000'000;
    tuning.min_backoff_ns = 30'000'000;
    tuning.max_backoff_ns = 30'000'000;
    ThreadPool pool(2, tuning);
    const auto caller = std::this_thread::get_id();
    std::atomic<bool> stall{true};
    std::atomic<int64_t> worker_tasks{0};
    auto job = [&](int64_t) {
        if (std::this_thread::get_id() != caller) {
            worker_tasks++;
            if (stall.load()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        spin_for_us(10);
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!pool.running_inline() && std::chrono::steady_clock::now() < deadline) pool.parallel_for(8, job);
    ASSERT_TRUE(pool.running_inline()) << "no fallback although the worker stalled every job";
    EXPECT_GE(pool.fallback_count(), 1);

    // Inline: the worker gets nothing (and results still cover every task exactly once).
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // let a claim in flight finish
    worker_tasks = 0;
    std::vector<std::atomic<int>> hits(64);
    int reps = 0;
    for (; reps < 10 && pool.running_inline(); ++reps) {
        pool.parallel_for(64, [&](int64_t t) {
            if (std::this_thread::get_id() != caller) worker_tasks++;
            hits[size_t(t)]++;
        });
    }
    EXPECT_EQ(worker_tasks.load(), 0);
    for (auto& h : hits) EXPECT_EQ(h.load(), reps);

    // After the back-off the worker is used again.
    stall = false;
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    EXPECT_FALSE(pool.running_inline());
    worker_tasks = 0;
    const auto deadline2 = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (worker_tasks.load() == 0 && std::chrono::steady_clock::now() < deadline2) pool.parallel_for(8, job);
    EXPECT_GT(worker_tasks.load(), 0) << "the pool never went back to using its worker";
}

// With the fallback off (EDGECNN_POOL_ADAPTIVE=0 does the same) a stalling worker only
// slows jobs down; the pool never runs them inline.
TEST(ThreadPool, NonAdaptivePoolNeverFallsBack) {
    ThreadPool::Tuning tuning;
    tuning.adaptive = false;
    tuning.window_ns = 100'000;
    ThreadPool pool(2, tuning);
    const auto caller = std::this_thread::get_id();
    for (int rep = 0; rep < 20; ++rep)
        pool.parallel_for(4, [&](int64_t) {
            if (std::this_thread::get_id() != caller) std::this_thread::sleep_for(std::chrono::microseconds(500));
        });
    EXPECT_FALSE(pool.running_inline());
    EXPECT_EQ(pool.fallback_count(), 0);
}

// Concurrent callers while the pool flips between parallel and inline: every task once.
TEST(ThreadPool, ConcurrentCallersDuringFallback) {
    ThreadPool::Tuning tuning;
    tuning.window_ns = 200'000;
    tuning.min_backoff_ns = 1'000'000;
    tuning.max_backoff_ns = 2'000'000;
    ThreadPool pool(3, tuning);
    std::atomic<int64_t> total{0};
    std::vector<std::thread> callers;
    for (int c = 0; c < 3; ++c)
        callers.emplace_back([&, c] {
            for (int rep = 0; rep < 300; ++rep)
                pool.parallel_for(16, [&](int64_t t) {
                    if ((t + rep + c) % 7 == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
                    total += t;
                });
        });
    for (auto& t : callers) t.join();
    EXPECT_EQ(total.load(), 3 * 300 * (15 * 16 / 2));
}

TEST(CpuFeatures, OverrideClampsToWhatTheCpuHas) {
    Isa best = active_isa();
    set_isa_override(Isa::Scalar);
    EXPECT_EQ(active_isa(), Isa::Scalar);
    set_isa_override(Isa::Avx512);
    EXPECT_LE(int(active_isa()), int(best) >= 10 ? int(best) : int(Isa::Avx512));
    set_isa_override(std::nullopt);
    EXPECT_EQ(active_isa(), best);
}

namespace {
// A fake /sys/devices/system/cpu: cpuN/cpufreq/cpuinfo_max_freq for each (cpu, kHz).
std::string fake_sysfs(const std::string& name, const std::vector<std::pair<int, long long>>& cpus) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("edgecnn_sysfs_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "cpufreq");  // the policy folder sysfs also has: not a CPU
    fs::create_directories(dir / "cpuidle");
    for (const auto& [cpu, khz] : cpus) {
        const fs::path f = dir / ("cpu" + std::to_string(cpu)) / "cpufreq";
        fs::create_directories(f);
        if (khz > 0) std::ofstream(f / "cpuinfo_max_freq") << khz << "\n";
    }
    return dir.string();
}
}  // namespace

// cpuN/cache/index*/{level,type,size} as Linux writes them: L1d + L1i, a unified L2, an L3.
TEST(CpuTopology, CacheSizesFromSysfs) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("edgecnn_sysfs_cache_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    auto index = [&](int cpu, int i, int level, const char* type, const char* size) {
        const fs::path p = dir / ("cpu" + std::to_string(cpu)) / "cache" / ("index" + std::to_string(i));
        fs::create_directories(p);
        std::ofstream(p / "level") << level << "\n";
        std::ofstream(p / "type") << type << "\n";
        std::ofstream(p / "size") << size << "\n";
    };
    index(0, 0, 1, "Data", "32K");
    index(0, 1, 1, "Instruction", "64K");
    index(0, 2, 2, "Unified", "512K");
    index(0, 3, 3, "Unified", "4M");
    index(1, 0, 1, "Instruction", "32K");  // only an instruction cache at level 1
    EXPECT_EQ(cache_bytes(0, 1, dir.string()), 32 << 10);
    EXPECT_EQ(cache_bytes(0, 2, dir.string()), 512 << 10);
    EXPECT_EQ(cache_bytes(0, 3, dir.string()), int64_t(4) << 20);
    EXPECT_EQ(cache_bytes(1, 1, dir.string()), 0);
    EXPECT_EQ(cache_bytes(2, 2, dir.string()), 0);  // no such CPU
    fs::remove_all(dir);
    // This machine: whatever sysfs says, a plausible L2 (the 1 MiB fallback included).
    EXPECT_GE(l2_cache_bytes(), 64 << 10);
    EXPECT_LE(l2_cache_bytes(), int64_t(64) << 20);
}

// RK3588-like: 4 x A55 at 1.8 GHz (cpu0-3), 2 + 2 x A76 at 2.256 / 2.4 GHz (cpu4-7).
TEST(CpuTopology, BigCoresAreTheFastestCluster) {
    const std::string dir = fake_sysfs(
        "rk", {{0, 1800000}, {1, 1800000}, {2, 1800000}, {3, 1800000}, {4, 2256000}, {5, 2256000}, {6, 2400000}, {7, 2400000}});
    EXPECT_EQ(fastest_cpus(dir), (std::vector<int>{6, 7}));
    const std::string same = fake_sysfs("pi", {{0, 2400000}, {1, 2400000}, {2, 2400000}, {3, 2400000}, {10, 2400000}});
    EXPECT_EQ(fastest_cpus(same), (std::vector<int>{0, 1, 2, 3, 10}));
    // No readable frequency (no cpufreq driver): unknown, callers fall back to every core.
    const std::string none = fake_sysfs("none", {{0, 0}, {1, 0}});
    EXPECT_TRUE(fastest_cpus(none).empty());
    EXPECT_TRUE(fastest_cpus(none + "/missing").empty());
    for (const auto& d : {dir, same, none}) std::filesystem::remove_all(d);
    // On this machine: a non-empty subset of the CPUs the process may use.
    const std::vector<int> allowed = allowed_cpus(), big = big_cores();
    ASSERT_FALSE(allowed.empty());
    ASSERT_FALSE(big.empty());
    for (int c : big) EXPECT_TRUE(std::find(allowed.begin(), allowed.end(), c) != allowed.end()) << c;
}

// Workers given a CPU set run only there (checked from inside their tasks).
TEST(CpuTopology, PoolWorkersRunOnTheirCpus) {
    const std::vector<int> allowed = allowed_cpus();
    ASSERT_FALSE(allowed.empty());
    const std::vector<int> one{allowed.back()};
    ThreadPool::Tuning t;
    t.adaptive = false;
    ThreadPool pool(3, t, one);
    const auto caller = std::this_thread::get_id();
    std::mutex mu;
    std::vector<std::vector<int>> seen;  // affinity of each worker task
    std::atomic<bool> worker_ran{false};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    pool.parallel_for(64, [&](int64_t) {
        if (std::this_thread::get_id() == caller) {
            // Hold the caller until a worker has taken a task (a loaded machine may be slow
            // to schedule them), so the check below is never vacuous.
            while (!worker_ran.load() && std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            return;
        }
        std::lock_guard<std::mutex> lock(mu);
        seen.push_back(allowed_cpus());
        worker_ran.store(true);
    });
    ASSERT_FALSE(seen.empty()) << "no worker ran a task";
    for (const auto& s : seen) EXPECT_EQ(s, one);
    EXPECT_EQ(allowed_cpus(), allowed);  // the caller's affinity is untouched
}
