#include "base/thread_pool.hpp"

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
}  // namespace

ThreadPool::ThreadPool(int num_threads) {
    for (int i = 1; i < num_threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
    stop_.store(true);
    generation_.fetch_add(1);
    wake_sleepers();
    for (auto& w : workers_) w.join();
}

void ThreadPool::wake_sleepers() {
    std::lock_guard<std::mutex> lock(sleep_mu_);
    cv_.notify_all();
}

void ThreadPool::work_on_job(uint32_t gen) {
    for (;;) {
        uint64_t v = next_.load(std::memory_order_acquire);
        if (uint32_t(v >> 32) != gen) return;
        int64_t n = n_.load(std::memory_order_relaxed);
        if (int64_t(v & 0xffffffffu) >= n) return;
        if (!next_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel)) continue;
        // The caller cannot start another job before this task is counted done, so the
        // job description read here belongs to `gen`.
        fn_(ctx_, int64_t(v & 0xffffffffu));
        done_.fetch_add(1, std::memory_order_acq_rel);
    }
}

void ThreadPool::run(int64_t n, TaskFn fn, void* ctx) {
    std::unique_lock<std::mutex> lock(submit_, std::try_to_lock);
    if (!lock.owns_lock()) {  // another session is using the pool: do our own work inline
        for (int64_t t = 0; t < n; ++t) fn(ctx, t);
        return;
    }
    uint32_t gen = generation_.load() + 1;
    fn_ = fn;
    ctx_ = ctx;
    n_.store(n, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    next_.store(uint64_t(gen) << 32, std::memory_order_release);
    generation_.store(gen);
    if (sleepers_.load() > 0) wake_sleepers();
    work_on_job(gen);
    while (done_.load(std::memory_order_acquire) < n) cpu_relax();
}

void ThreadPool::worker_loop() {
    uint32_t seen = generation_.load();
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
