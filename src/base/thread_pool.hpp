// A small thread pool for splitting kernels into tiles. Tasks are claimed one at a time
// from a shared counter, so when another process occupies a core the caller simply does
// more of the tiles itself instead of waiting at a barrier for a descheduled worker.
// Idle workers spin briefly (consecutive layers follow within microseconds) and then
// sleep on a condition variable, so an idle session burns no CPU.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace edgecnn {

class ThreadPool {
public:
    // `num_threads` counts the caller: 1 runs everything inline.
    explicit ThreadPool(int num_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

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

private:
    using TaskFn = void (*)(void*, int64_t);
    void run(int64_t n, TaskFn fn, void* ctx);
    void worker_loop();
    void wake_sleepers();
    // Claims and runs tasks of the current job until none are left.
    void work_on_job(uint32_t gen);

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
    std::atomic<int64_t> n_{0};
};

}  // namespace edgecnn
