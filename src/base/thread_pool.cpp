#include "base/thread_pool.hpp"

#include "base/cpu_topology.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace edgecnn {

namespace {
inline void cpu_relax() {
#if defined(__x86_64__)
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}
// How long an idle worker keeps polling before it sleeps: long enough to bridge the gap
// between two layers, short enough that an idle session costs nothing measurable.
constexpr int kSpinIterations = 20000;

inline int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// For A/B measurements: EDGECNN_POOL_ADAPTIVE=0 turns the contention fallback off;
// EDGECNN_POOL_BAD_WINDOWS sets how many windows in a row must not pay before the first
// fallback; EDGECNN_POOL_MIN_BACKOFF_MS sets the first inline period after that.
ThreadPool::Tuning tuning_from_env(ThreadPool::Tuning t) {
    if (const char* v = std::getenv("EDGECNN_POOL_ADAPTIVE"); v && std::strcmp(v, "0") == 0) t.adaptive = false;
    if (const char* v = std::getenv("EDGECNN_POOL_BAD_WINDOWS"); v && std::atoi(v) > 0) t.bad_windows_to_fall_back = std::atoi(v);
    if (const char* v = std::getenv("EDGECNN_POOL_MIN_BACKOFF_MS"); v && std::atof(v) > 0) {
        t.min_backoff_ns = int64_t(std::atof(v) * 1e6);
        t.max_backoff_ns = std::max(t.max_backoff_ns, t.min_backoff_ns);
    }
    return t;
}
}  // namespace

ThreadPool::ThreadPool(int num_threads, const Tuning& tuning, std::vector<int> worker_cpus)
    : tuning_(tuning_from_env(tuning)), backoff_ns_(tuning_.min_backoff_ns) {
    const uint32_t gen0 = generation_.load();
    for (int i = 1; i < num_threads; ++i)
        workers_.emplace_back([this, worker_cpus, gen0] {
            // Best effort: a refused set (e.g. CPUs outside a container's cpuset) leaves the
            // worker where the system puts it.
            if (!worker_cpus.empty()) set_thread_affinity(worker_cpus);
            worker_loop(gen0);
        });
}

ThreadPool::~ThreadPool() {
    stop_.store(true);
    generation_.fetch_add(1);
    wake_sleepers();
    for (auto& w : workers_) w.join();
}

bool ThreadPool::running_inline() const {
    return tuning_.adaptive && now_ns() < inline_until_ns_.load(std::memory_order_relaxed);
}

void ThreadPool::wake_sleepers() {
    std::lock_guard<std::mutex> lock(sleep_mu_);
    cv_.notify_all();
}

int64_t ThreadPool::work_on_job(uint32_t gen) {
    int64_t ran = 0;
    for (;;) {
        uint64_t v = next_.load(std::memory_order_acquire);
        if (uint32_t(v >> 32) != gen) return ran;
        // The task count carries its generation: a worker whose counter value `v` is from job
        // `gen` while the caller is already publishing the next job (between its stores of
        // the count and of next_) must not compare gen's index with the next job's count.
        // Doing so let it claim a task past gen's end and run it with the next job's fn_
        // (a data race ThreadSanitizer found) and count it into the next job's done_.
        const uint64_t tagged_n = n_.load(std::memory_order_acquire);
        if (uint32_t(tagged_n >> 32) != gen) return ran;
        if ((v & 0xffffffffu) >= (tagged_n & 0xffffffffu)) return ran;
        if (!next_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel)) continue;
        // Task v < n of job `gen` was unclaimed, so job `gen` is not done and the caller
        // cannot have started writing another job: fn_ and ctx_ belong to `gen`.
        fn_(ctx_, int64_t(v & 0xffffffffu));
        ++ran;
        done_.fetch_add(1, std::memory_order_acq_rel);
    }
}

void ThreadPool::account(int64_t t0, int64_t t1, int64_t t2, int64_t n, int64_t caller_tasks) {
    // Workers took every task: they clearly helped (and there is no caller timing).
    if (caller_tasks <= 0) return;
    win_wall_ns_ += t2 - t0;
    // What the caller alone would have needed, at its own pace per task.
    win_serial_ns_ += double(t1 - t0) * double(n) / double(caller_tasks);
    if (win_wall_ns_ < tuning_.window_ns) return;
    if (double(win_wall_ns_) > tuning_.max_wall_ratio * win_serial_ns_) {
        ++bad_windows_;
        if (probing_ || bad_windows_ >= tuning_.bad_windows_to_fall_back) {
            inline_until_ns_.store(t2 + backoff_ns_, std::memory_order_relaxed);
            fallbacks_.fetch_add(1, std::memory_order_relaxed);
            backoff_ns_ = std::min(backoff_ns_ * 2, tuning_.max_backoff_ns);
            bad_windows_ = 0;
            probing_ = true;
        }
    } else {
        backoff_ns_ = tuning_.min_backoff_ns;
        bad_windows_ = 0;
        probing_ = false;
    }
    win_wall_ns_ = 0;
    win_serial_ns_ = 0;
}

void ThreadPool::run(int64_t n, TaskFn fn, void* ctx) {
    std::unique_lock<std::mutex> lock(submit_, std::try_to_lock);
    if (!lock.owns_lock()) {  // another session is using the pool: do our own work inline
        for (int64_t t = 0; t < n; ++t) fn(ctx, t);
        return;
    }
    if (uint64_t(n) > 0xffffffffu) {  // the counters hold 32-bit task indices; never seen in practice
        for (int64_t t = 0; t < n; ++t) fn(ctx, t);
        return;
    }
    const bool adaptive = tuning_.adaptive;
    const int64_t t0 = adaptive ? now_ns() : 0;
    if (adaptive && t0 < inline_until_ns_.load(std::memory_order_relaxed)) {
        // Contended: the workers did not pay off lately; leave them asleep.
        for (int64_t t = 0; t < n; ++t) fn(ctx, t);
        return;
    }
    uint32_t gen = generation_.load() + 1;
    fn_ = fn;
    ctx_ = ctx;
    n_.store((uint64_t(gen) << 32) | uint64_t(n), std::memory_order_release);
    done_.store(0, std::memory_order_relaxed);
    next_.store(uint64_t(gen) << 32, std::memory_order_release);
    generation_.store(gen);
    if (sleepers_.load() > 0) wake_sleepers();
    const int64_t mine = work_on_job(gen);
    const int64_t t1 = adaptive ? now_ns() : 0;
    while (done_.load(std::memory_order_acquire) < n) cpu_relax();
    if (adaptive) account(t0, t1, now_ns(), n, mine);
}

void ThreadPool::worker_loop(uint32_t seen) {
    for (;;) {
        // A worker that starts after the destructor began must still see the stop.
        if (stop_.load()) return;
        uint32_t gen = generation_.load(std::memory_order_acquire);
        for (int spin = 0; gen == seen && spin < kSpinIterations; ++spin) {
            cpu_relax();
            gen = generation_.load(std::memory_order_acquire);
        }
        if (gen == seen) {
            std::unique_lock<std::mutex> lock(sleep_mu_);
            sleepers_.fetch_add(1);
            cv_.wait(lock, [&] { return stop_.load() || generation_.load() != seen; });
            sleepers_.fetch_sub(1);
            continue;
        }
        if (stop_.load()) return;
        seen = gen;
        work_on_job(gen);
    }
}

}  // namespace edgecnn
