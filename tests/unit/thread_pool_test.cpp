#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "base/cpu_features.hpp"
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

TEST(CpuFeatures, OverrideClampsToWhatTheCpuHas) {
    Isa best = active_isa();
    set_isa_override(Isa::Scalar);
    EXPECT_EQ(active_isa(), Isa::Scalar);
    set_isa_override(Isa::Avx512);
    EXPECT_LE(int(active_isa()), int(best) >= 10 ? int(best) : int(Isa::Avx512));
    set_isa_override(std::nullopt);
    EXPECT_EQ(active_isa(), best);
}
