// A small thread pool for splitting kernels into tiles. Tasks are claimed one at a time
// from a shared counter, so when another process occupies a core the caller simply does
// more of the tiles itself instead of waiting at a barrier for a descheduled worker.
// Idle workers spin briefly (consecutive layers follow within microseconds) and then
// sleep on a condition variable, so an idle session burns no CPU.
//
// Contention: a worker preempted while it holds a task makes the caller wait for it at the
// end of the job, for up to a scheduler slice (milliseconds), dozens of times per
// inference. So the pool watches whether parallelism pays: per window of a few ms of
// jobs it compares the wall time with what the caller alone would have needed (its own
// per-task time x number of tasks). When the workers do not buy a speed-up, the pool
// runs jobs inline on the caller for a back-off period (workers go to sleep), then
// probes again. Under contention a session thus degrades to 1-thread speed instead of
// collapsing. Which task computes what never changes (tasks are the same, only the
// thread running them differs), so results do not depend on this.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace edgecnn {

class ThreadPool {
public:
    // Knobs of the contention fallback; the defaults are what bench/contention.sh was
    // tuned with (docs/PERFORMANCE.md, "Threads under contention").
    struct Tuning {
        bool adaptive = true;
        // Wall time of parallel jobs judged together.
        int64_t window_ns = 4'000'000;
        // The window counts as "not paying" when wall > ratio x estimated 1-thread time.
        double max_wall_ratio = 0.85;
        // Inline period after a window that did not pay; doubles while probes keep
        // failing (up to max), back to min after a probe that pays.
        int64_t min_backoff_ns = 50'000'000;
        int64_t max_backoff_ns = 400'000'000;
        // Consecutive windows that must not pay before the first fallback, so that a
        // moment of outside noise does not cost tens of milliseconds of one-thread
        // running; once falling back, a failing probe window re-triggers at once.
        int bad_windows_to_fall_back = 2;
    };

    // `num_threads` counts the caller: 1 runs everything inline. Non-empty `worker_cpus`
    // restricts the workers to those CPUs (e.g. big_cores() from base/cpu_topology.hpp); the
    // caller's thread belongs to the application and keeps its own affinity.
    explicit ThreadPool(int num_threads) : ThreadPool(num_threads, Tuning{}) {}
    ThreadPool(int num_threads, const Tuning& tuning, std::vector<int> worker_cpus = {});
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    // The number of threads kernels should split for. Constant for the pool's life (it
    // does not drop while the pool runs inline), so task splits and results are stable.
    int size() const { return int(workers_.size()) + 1; }

    // Calls fn(task) for every task in [0, num_tasks) on the caller and the workers and
    // returns when all are done. Safe to call from several threads: a call that finds the
    // pool busy runs its tasks inline.
    template <typename F>
    void parallel_for(int64_t num_tasks, F&& fn) {
        if (num_tasks <= 0) return;
        if (num_tasks == 1 || workers_.empty()) {
            for (int64_t t = 0; t < num_tasks; ++t) fn(t);
            return;
        }
        auto call = [](void* ctx, int64_t t) { (*static_cast<std::remove_reference_t<F>*>(ctx))(t); };
        run(num_tasks, call, &fn);
    }

    // Diagnostics (tests, profiling): whether the pool currently runs jobs inline because
    // the workers did not pay off, and how often it switched to that mode.
    bool running_inline() const;
    int64_t fallback_count() const { return fallbacks_.load(std::memory_order_relaxed); }

private:
    using TaskFn = void (*)(void*, int64_t);
    void run(int64_t n, TaskFn fn, void* ctx);
    // `seen`: the generation when the pool was made, so a worker that starts late (after
    // setting its affinity, or on a busy machine) still joins the jobs published meanwhile.
    void worker_loop(uint32_t seen);
    void wake_sleepers();
    // Claims and runs tasks of the current job until none are left; returns how many.
    int64_t work_on_job(uint32_t gen);
    // Contention bookkeeping after a parallel job (caller holds submit_).
    void account(int64_t t0, int64_t t1, int64_t t2, int64_t n, int64_t caller_tasks);

    Tuning tuning_;
    std::vector<std::thread> workers_;
    std::mutex submit_;
    // High 32 bits: job generation; low 32 bits: next task index.
    std::atomic<uint64_t> next_{0};
    std::atomic<uint32_t> generation_{0};
    // Sleeping workers wait on cv_; submitters notify only when someone sleeps.
    std::mutex sleep_mu_;
    std::condition_variable cv_;
    std::atomic<int> sleepers_{0};
    std::atomic<int64_t> done_{0};
    std::atomic<bool> stop_{false};
    // Current job; written before next_ is published for its generation.
    TaskFn fn_ = nullptr;
    void* ctx_ = nullptr;
    // High 32 bits: the job's generation; low 32 bits: its number of tasks.
    std::atomic<uint64_t> n_{0};

    // Contention state. Written by the submitter holding submit_; inline_until_ns_ is
    // also read without it (running_inline()).
    std::atomic<int64_t> inline_until_ns_{0};
    std::atomic<int64_t> fallbacks_{0};
    int64_t backoff_ns_ = 0;
    int64_t win_wall_ns_ = 0;
    double win_serial_ns_ = 0;
    int bad_windows_ = 0;   // consecutive windows in which the workers did not pay
    bool probing_ = false;  // the last window ended a fallback: a bad one re-triggers at once
};

}  // namespace edgecnn
