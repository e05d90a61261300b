// FP32 FMA peak of this CPU: the ceiling that bench/run_vs_ort.py's "% peak" compares with.
//
//   bench/fma_peak.sh [--threads N] [--reps N] [--ms N]
//   (or: g++ -O2 -pthread bench/fma_peak.cpp -o build/fma_peak && build/fma_peak)
//
// Each thread (pinned to CPU k) runs chains of independent fused multiply-adds, many
// accumulators in registers (more than FMA latency x FMA ports), so that nothing but the
// FMA units limits it. Reports GFLOP/s (an FMA counts as 2 FLOPs) per ISA: AVX-512 (zmm,
// 16 floats) and AVX2+FMA (ymm, 8 floats), best of --reps repetitions (the machine is
// shared: the best repetition is the one least disturbed). Rates are computed from each
// thread's CPU time, so other processes' time slices do not lower them; the wall-time rate
// is printed too. The ISA-specific functions carry
// target attributes and run only where __builtin_cpu_supports says so, so the file builds
// with plain -O2 and runs on any x86-64.
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <ctime>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// 16 zmm accumulators: Zen 4/5 and Intel cores have 2 FMA ports with 4-cycle latency, so
// 8 independent chains saturate them; 16 leaves margin (AVX-512 has 32 vector registers).
__attribute__((target("avx512f"))) float fma_avx512(long iters) {
    const __m512 b = _mm512_set1_ps(0.9999999f), c = _mm512_set1_ps(1e-7f);
    __m512 a0 = _mm512_set1_ps(0.f), a1 = _mm512_set1_ps(1.f), a2 = _mm512_set1_ps(2.f), a3 = _mm512_set1_ps(3.f);
    __m512 a4 = _mm512_set1_ps(4.f), a5 = _mm512_set1_ps(5.f), a6 = _mm512_set1_ps(6.f), a7 = _mm512_set1_ps(7.f);
    __m512 a8 = _mm512_set1_ps(8.f), a9 = _mm512_set1_ps(9.f), a10 = _mm512_set1_ps(10.f), a11 = _mm512_set1_ps(11.f);
    __m512 a12 = _mm512_set1_ps(12.f), a13 = _mm512_set1_ps(13.f), a14 = _mm512_set1_ps(14.f), a15 = _mm512_set1_ps(15.f);
    for (long i = 0; i < iters; ++i) {
        a0 = _mm512_fmadd_ps(a0, b, c); a1 = _mm512_fmadd_ps(a1, b, c); a2 = _mm512_fmadd_ps(a2, b, c);
        a3 = _mm512_fmadd_ps(a3, b, c); a4 = _mm512_fmadd_ps(a4, b, c); a5 = _mm512_fmadd_ps(a5, b, c);
        a6 = _mm512_fmadd_ps(a6, b, c); a7 = _mm512_fmadd_ps(a7, b, c); a8 = _mm512_fmadd_ps(a8, b, c);
        a9 = _mm512_fmadd_ps(a9, b, c); a10 = _mm512_fmadd_ps(a10, b, c); a11 = _mm512_fmadd_ps(a11, b, c);
        a12 = _mm512_fmadd_ps(a12, b, c); a13 = _mm512_fmadd_ps(a13, b, c); a14 = _mm512_fmadd_ps(a14, b, c);
        a15 = _mm512_fmadd_ps(a15, b, c);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)),
                                       _mm512_add_ps(_mm512_add_ps(a12, a13), _mm512_add_ps(a14, a15))));
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, s);
    float sum = 0.f;
    for (float x : lanes) sum += x;
    return sum;
}
constexpr int kAvx512FlopsPerIter = 16 /*accumulators*/ * 16 /*lanes*/ * 2;

// 12 ymm accumulators (+2 constants) fit AVX2's 16 registers.
__attribute__((target("avx2,fma"))) float fma_avx2(long iters) {
    const __m256 b = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-7f);
    __m256 a0 = _mm256_set1_ps(0.f), a1 = _mm256_set1_ps(1.f), a2 = _mm256_set1_ps(2.f), a3 = _mm256_set1_ps(3.f);
    __m256 a4 = _mm256_set1_ps(4.f), a5 = _mm256_set1_ps(5.f), a6 = _mm256_set1_ps(6.f), a7 = _mm256_set1_ps(7.f);
    __m256 a8 = _mm256_set1_ps(8.f), a9 = _mm256_set1_ps(9.f), a10 = _mm256_set1_ps(10.f), a11 = _mm256_set1_ps(11.f);
    for (long i = 0; i < iters; ++i) {
        a0 = _mm256_fmadd_ps(a0, b, c); a1 = _mm256_fmadd_ps(a1, b, c); a2 = _mm256_fmadd_ps(a2, b, c);
        a3 = _mm256_fmadd_ps(a3, b, c); a4 = _mm256_fmadd_ps(a4, b, c); a5 = _mm256_fmadd_ps(a5, b, c);
        a6 = _mm256_fmadd_ps(a6, b, c); a7 = _mm256_fmadd_ps(a7, b, c); a8 = _mm256_fmadd_ps(a8, b, c);
        a9 = _mm256_fmadd_ps(a9, b, c); a10 = _mm256_fmadd_ps(a10, b, c); a11 = _mm256_fmadd_ps(a11, b, c);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_shuffle_ps(q, q, 1));
    return _mm_cvtss_f32(q);
}
constexpr int kAvx2FlopsPerIter = 12 * 8 * 2;

volatile float g_sink;

// Seconds this thread has spent on a CPU: on a shared machine, time-slicing with other
// processes does not count against the FMA units.
double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

void pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);  // best effort
}

// Runs `fn(iters)` on `threads` threads at once (thread k pinned to CPU k); returns the
// aggregate GFLOP/s of the best of `reps` repetitions, by thread CPU time (the peak of the
// units) and by wall time (what a benchmark sees on this machine now).
struct Result {
    double total = 0;       // by thread CPU time
    double total_wall = 0;  // by wall-clock time
};

Result measure(float (*fn)(long), int flops_per_iter, int threads, int reps, int ms) {
    // Calibrate the iteration count to about `ms` milliseconds on one thread.
    long iters = 1 << 16;
    for (;;) {
        auto t0 = Clock::now();
        g_sink = fn(iters);
        double s = std::chrono::duration<double>(Clock::now() - t0).count();
        if (s > 0.02) {
            iters = static_cast<long>(double(iters) * (ms / 1000.0) / s) + 1;
            break;
        }
        iters *= 4;
    }
    Result best;
    for (int r = 0; r < reps; ++r) {
        std::vector<double> secs(static_cast<size_t>(threads)), wall(static_cast<size_t>(threads));
        std::atomic<int> ready{0};
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&, t] {
                pin_to_cpu(t);
                ready.fetch_add(1);
                while (ready.load() < threads) {
                }
                auto t0 = Clock::now();
                double c0 = thread_cpu_seconds();
                g_sink = fn(iters);
                secs[static_cast<size_t>(t)] = thread_cpu_seconds() - c0;
                wall[static_cast<size_t>(t)] = std::chrono::duration<double>(Clock::now() - t0).count();
            });
        }
        for (auto& th : pool) th.join();
        double flops = double(iters) * flops_per_iter;
        double total = 0, total_wall = 0;
        for (size_t t = 0; t < secs.size(); ++t) {
            total += flops / secs[t] / 1e9;
            total_wall += flops / wall[t] / 1e9;
        }
        best.total = std::max(best.total, total);
        best.total_wall = std::max(best.total_wall, total_wall);
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 1, reps = 5, ms = 200;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> int {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "error: %s needs a value\n", a.c_str());
                std::exit(1);
            }
            return std::atoi(argv[++i]);
        };
        if (a == "--threads" || a == "-t") threads = next();
        else if (a == "--reps") reps = next();
        else if (a == "--ms") ms = next();
        else {
            std::fprintf(stderr, "usage: fma_peak [--threads N] [--reps N] [--ms N]\n");
            return a == "--help" || a == "-h" ? 0 : 1;
        }
    }
    if (threads < 1 || reps < 1 || ms < 1) {
        std::fprintf(stderr, "error: --threads, --reps and --ms must be positive\n");
        return 1;
    }
    __builtin_cpu_init();
    std::printf("FP32 FMA peak, %d thread%s (pinned to CPU 0..%d), best of %d x ~%d ms:\n", threads,
                threads == 1 ? "" : "s", threads - 1, reps, ms);
    if (__builtin_cpu_supports("avx512f")) {
        Result r = measure(fma_avx512, kAvx512FlopsPerIter, threads, reps, ms);
        std::printf("  avx512: %7.1f GFLOP/s per core (CPU time), %7.1f in all; by wall time %7.1f in all\n",
                    r.total / threads, r.total, r.total_wall);
    } else {
        std::printf("  avx512: not supported\n");
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        Result r = measure(fma_avx2, kAvx2FlopsPerIter, threads, reps, ms);
        std::printf("  avx2:   %7.1f GFLOP/s per core (CPU time), %7.1f in all; by wall time %7.1f in all\n",
                    r.total / threads, r.total, r.total_wall);
    } else {
        std::printf("  avx2:   not supported\n");
    }
    return 0;
}
