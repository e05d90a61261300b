// edgecnn stream: frames through decode → preprocess → infer → post-process, one thread
// per stage with a bounded queue between stages, released at the target frame rate like a
// camera.
//
//   edgecnn stream MODEL --frames DIR [--fps 30] [--threads N] [--task T] [--out DIR]
//                  [--max-frames N] [--queue 2] [preprocessing flags]
//
// Timing model (what a camera pipeline sees):
//  - frame i is released at t0 + i/fps; the decode stage starts on it then, or as soon as
//    it is free. A frame the decoder reaches more than one period after its release, or
//    that finds the next queue full, is dropped (a camera overwrites its buffer).
//  - end-to-end latency: from the moment its decode starts to the moment its post-processed
//    result (the overlay picture, when the task draws one) is ready in memory.
//  - drop policy, latest frame wins: the decoder drops a frame it reaches more than one
//    period late or that finds the preprocess queue full; the inference stage takes its
//    frames from a one-slot mailbox, so when inference is slower than the frame period a
//    newer preprocessed frame replaces the waiting one (dropped) instead of queueing behind
//    it: latency stays bounded by about two inference times instead of growing without end.
//  - a deadline miss: end-to-end latency over 1/fps, or a dropped frame.
//  - per-stage CPU time: each stage thread's own CPU clock (CLOCK_THREAD_CPUTIME_ID), which
//    on a loaded machine says what a stage costs when wall-clock latencies do not; the
//    inference row counts the calling thread only (pool workers are not included).
//  - writing annotated frames (--out) happens after the timed run, off the clock.
//  - --trace FILE: one CSV row per frame with its timeline (ms from the first release):
//    when it was released and each stage started and ended, so the queue waits between
//    stages show, plus each stage's CPU time and how many times the inference pool had
//    fallen back to running on the caller alone (base/thread_pool.hpp: workers that did
//    not pay off under contention); a frame that missed is easy to explain (a stage that
//    ran long on the CPU, one that waited for the CPU, or inference on one thread).
// --threads counts the inference threads (the session's pool, caller included); the three
// other stages have one thread each.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include <time.h>

#include "base/error.hpp"
#include "base/thread_pool.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "image_inputs.hpp"
#include "tasks.hpp"

namespace edgecnn::cli {

namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

// This thread's CPU time in ms (what the stage cost, whatever else the machine runs).
double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

// A blocking FIFO of bounded size; close() wakes every waiter and makes pop() drain then end.
template <typename T>
class BoundedQueue {
public:
    explicit BoundedQueue(size_t capacity) : cap_(std::max<size_t>(1, capacity)) {}
    bool try_push(T&& v) {
        std::lock_guard<std::mutex> l(m_);
        if (q_.size() >= cap_) return false;
        q_.push_back(std::move(v));
        cv_.notify_all();
        return true;
    }
    void push(T&& v) {
        std::unique_lock<std::mutex> l(m_);
        cv_.wait(l, [&] { return q_.size() < cap_ || closed_; });
        q_.push_back(std::move(v));
        cv_.notify_all();
    }
    std::optional<T> pop() {
        std::unique_lock<std::mutex> l(m_);
        cv_.wait(l, [&] { return !q_.empty() || closed_; });
        if (q_.empty()) return std::nullopt;
        T v = std::move(q_.front());
        q_.pop_front();
        cv_.notify_all();
        return v;
    }
    // Latest wins: when full, the oldest waiting item is taken out (returned) to make room.
    std::optional<T> push_latest(T&& v) {
        std::lock_guard<std::mutex> l(m_);
        std::optional<T> evicted;
        if (q_.size() >= cap_) {
            evicted = std::move(q_.front());
            q_.pop_front();
        }
        q_.push_back(std::move(v));
        cv_.notify_all();
        return evicted;
    }
    void close() {
        std::lock_guard<std::mutex> l(m_);
        closed_ = true;
        cv_.notify_all();
    }

private:
    size_t cap_;
    std::deque<T> q_;
    bool closed_ = false;
    std::mutex m_;
    std::condition_variable cv_;
};

struct Frame {
    size_t index = 0;
    vision::Image image;
    vision::TensorImage tensor;
    NamedTensors outputs;
    TaskResult result;
    Clock::time_point release, decode_start, decode_end, pre_start, pre_end, infer_start, infer_end, post_start, post_end;
    double decode_cpu = 0, pre_cpu = 0, infer_cpu = 0, post_cpu = 0;
    int64_t pool_fallbacks = 0;  // the pool's contention fallbacks so far, after this inference
};

struct Record {
    bool dropped = false, done = false;
    double decode = 0, preprocess = 0, infer = 0, post = 0, e2e = 0;
    double decode_cpu = 0, pre_cpu = 0, infer_cpu = 0, post_cpu = 0;
    int64_t pool_fallbacks = 0;
    Clock::time_point finish;
    // The frame's timeline (for --trace): release, then start and end of every stage.
    std::array<Clock::time_point, 9> at{};
};

struct Pct {
    double p50 = 0, p90 = 0, p99 = 0, max = 0;
};
Pct percentiles(std::vector<double> v) {
    Pct p;
    if (v.empty()) return p;
    std::sort(v.begin(), v.end());
    auto at = [&](double q) {
        size_t rank = size_t(std::ceil(q / 100.0 * double(v.size())));
        return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
    };
    p.p50 = at(50);
    p.p90 = at(90);
    p.p99 = at(99);
    p.max = v.back();
    return p;
}

std::vector<std::string> list_frames(const std::string& dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) throw Error(ErrorKind::Io, dir + ": not a folder of frames");
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        std::string ext = e.path().extension().string();
        for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
        if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) throw Error(ErrorKind::Io, dir + ": no .jpg, .jpeg or .png frames");
    return files;
}

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Error(ErrorKind::Io, path + ": cannot open");
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

}  // namespace

int cmd_stream(const StreamArgs& a) {
    if (!(a.fps > 0 && a.fps <= 10000)) fail("--fps must be in (0, 10000]");
    if (a.threads < 1) fail("--threads must be at least 1");
    if (a.queue < 1) fail("--queue must be at least 1");
    if (a.image.given()) fail("stream takes its frames from --frames, not --image/--nv12");
    std::vector<std::string> files = list_frames(a.frames_dir);
    if (a.max_frames > 0 && size_t(a.max_frames) < files.size()) files.resize(size_t(a.max_frames));
    const size_t n = files.size();

    auto graph = load_model(a.model);
    const std::string task_name = resolve_task_name(*graph, a.model, a.image, a.task.task);
    ImagePipeline pipe = make_image_pipeline(*graph, a.model, a.image, task_name);
    std::unique_ptr<Task> task;
    if (!task_name.empty()) task = make_task(make_task_options(a.task, task_name, pipe, 1));
    if (task) {
        // The first frame's tensor shape (every frame is preprocessed to the same size).
        vision::TensorImage first = preprocess_image(pipe, vision::load_image(files[0]));
        task->adapt_graph(*graph, pipe.input_name, first.tensor.shape());
    }
    // One pool for the session and the preprocessing: at 30 fps the stages of one frame
    // run one after the other, so the inference threads are free while a frame is
    // resized and normalized (a call that finds the pool busy runs inline).
    auto pool = std::make_shared<ThreadPool>(a.threads);
    SessionOptions opts;
    opts.thread_pool = pool;
    opts.fpmath = parse_fpmath(a.fpmath);
    Session session(graph, opts);

    // Warm-up, untimed: the first frame through every stage (compiles the plan, fills caches).
    {
        vision::Image img = vision::load_image(files[0]);
        vision::TensorImage t = preprocess_image(pipe, img, pool.get());
        NamedTensors out = session.run({{pipe.input_name, t.tensor}});
        out = session.run({{pipe.input_name, t.tensor}});
        if (task) {
            TaskFrame tf{img, t.geometry, pipe.preprocess, pipe.layout.layout, *graph, out, files[0]};
            (void)task->process(tf);
        }
        const double bytes = double(img.width) * img.height * 3 * double(n);
        if (!a.out_dir.empty() && bytes > 3e9)
            throw Error(ErrorKind::Limit, "--out would hold " + std::to_string(int64_t(bytes / 1e6)) +
                                              " MB of frames in memory until the run ends; use --max-frames");
        std::printf("stream: %zu frames from %s, %dx%d -> input '%s' %s, %s, %.1f fps target, %d inference thread%s%s%s\n", n,
                    a.frames_dir.c_str(), img.width, img.height, pipe.input_name.c_str(),
                    shape_str(t.tensor.shape()).c_str(), vision::describe(pipe.preprocess).c_str(), a.fps, a.threads,
                    a.threads == 1 ? "" : "s", task ? ", task " : "", task_name.c_str());
        std::fflush(stdout);
    }

    using FramePtr = std::unique_ptr<Frame>;
    // q_infer is the inference stage's one-slot mailbox (latest frame wins, see above).
    BoundedQueue<FramePtr> q_pre(size_t(a.queue)), q_infer(1), q_post(size_t(a.queue));
    std::vector<Record> rec(n);
    std::vector<FramePtr> kept(a.out_dir.empty() ? 0 : n);  // annotated frames, written after the run
    std::mutex rec_m;
    std::atomic<size_t> finished{0}, dropped{0}, misses{0};
    std::atomic<bool> failed{false};
    std::string error;
    const double period_ms = 1000.0 / a.fps;
    auto fail_run = [&](const std::string& what) {
        std::lock_guard<std::mutex> l(rec_m);
        if (!failed.exchange(true)) error = what;
    };
    auto drop = [&](size_t i) {
        std::lock_guard<std::mutex> l(rec_m);
        rec[i].dropped = true;
        ++dropped;
        ++misses;
        ++finished;
    };

    const Clock::time_point t0 = Clock::now() + std::chrono::milliseconds(20);
    std::thread decoder([&] {
        for (size_t i = 0; i < n && !failed; ++i) {
            const auto release = t0 + std::chrono::nanoseconds(int64_t(double(i) * period_ms * 1e6));
            std::this_thread::sleep_until(release);
            auto f = std::make_unique<Frame>();
            f->index = i;
            f->release = release;
            f->decode_start = Clock::now();
            const double cpu0 = thread_cpu_ms();
            if (ms_between(release, f->decode_start) > period_ms) {  // the camera has overwritten it
                drop(i);
                continue;
            }
            try {
                std::vector<uint8_t> bytes = read_file(files[i]);
                f->image = vision::decode_image(bytes.data(), bytes.size(), files[i]);
            } catch (const std::exception& e) {
                fail_run(e.what());
                break;
            }
            f->decode_end = Clock::now();
            f->decode_cpu = thread_cpu_ms() - cpu0;
            if (!q_pre.try_push(std::move(f))) drop(i);
        }
        q_pre.close();
    });
    std::thread preprocessor([&] {
        while (auto f = q_pre.pop()) {
            (*f)->pre_start = Clock::now();
            const double cpu0 = thread_cpu_ms();
            try {
                (*f)->tensor = preprocess_image(pipe, (*f)->image, pool.get());
            } catch (const std::exception& e) {
                fail_run(e.what());
                break;
            }
            (*f)->pre_end = Clock::now();
            (*f)->pre_cpu = thread_cpu_ms() - cpu0;
            if (auto old = q_infer.push_latest(std::move(*f))) drop((*old)->index);
        }
        q_infer.close();
        while (q_pre.pop()) {
        }  // after a failure: let the decoder finish
    });
    std::thread inferer([&] {
        while (auto f = q_infer.pop()) {
            (*f)->infer_start = Clock::now();
            const double cpu0 = thread_cpu_ms();
            try {
                (*f)->outputs = session.run({{pipe.input_name, (*f)->tensor.tensor}});
            } catch (const std::exception& e) {
                fail_run(e.what());
                break;
            }
            (*f)->infer_end = Clock::now();
            (*f)->infer_cpu = thread_cpu_ms() - cpu0;
            (*f)->pool_fallbacks = pool->fallback_count();
            q_post.push(std::move(*f));
        }
        q_post.close();
        while (q_infer.pop()) {
        }
    });
    std::thread poster([&] {
        while (auto fp = q_post.pop()) {
            Frame& f = **fp;
            f.post_start = Clock::now();
            const double cpu0 = thread_cpu_ms();
            if (task) {
                try {
                    TaskFrame tf{f.image, f.tensor.geometry, pipe.preprocess, pipe.layout.layout, *graph, f.outputs, files[f.index]};
                    f.result = task->process(tf);
                } catch (const std::exception& e) {
                    fail_run(e.what());
                    break;
                }
            }
            f.post_end = Clock::now();
            f.post_cpu = thread_cpu_ms() - cpu0;
            Record r;
            r.decode_cpu = f.decode_cpu;
            r.pre_cpu = f.pre_cpu;
            r.infer_cpu = f.infer_cpu;
            r.post_cpu = f.post_cpu;
            r.pool_fallbacks = f.pool_fallbacks;
            r.done = true;
            r.decode = ms_between(f.decode_start, f.decode_end);
            r.preprocess = ms_between(f.pre_start, f.pre_end);
            r.infer = ms_between(f.infer_start, f.infer_end);
            r.post = ms_between(f.post_start, f.post_end);
            r.e2e = ms_between(f.decode_start, f.post_end);
            r.finish = f.post_end;
            r.at = {f.release, f.decode_start, f.decode_end, f.pre_start, f.pre_end, f.infer_start, f.infer_end, f.post_start, f.post_end};
            {
                std::lock_guard<std::mutex> l(rec_m);
                rec[f.index] = r;
                if (r.e2e > period_ms) ++misses;
                ++finished;
            }
            f.tensor = {};
            f.outputs.clear();
            if (!kept.empty()) kept[f.index] = std::move(*fp);
        }
        while (q_post.pop()) {
        }
    });

    // Progress line while the stages run.
    while (finished < n && !failed) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        if (a.quiet) continue;
        double elapsed = ms_between(t0, Clock::now());
        std::fprintf(stderr, "\rframe %zu/%zu  %.1f s  %.1f fps  misses %zu  dropped %zu   ", size_t(finished), n,
                     elapsed / 1000, elapsed > 0 ? 1000.0 * double(finished) / elapsed : 0.0, size_t(misses), size_t(dropped));
    }
    decoder.join();
    preprocessor.join();
    inferer.join();
    poster.join();
    if (!a.quiet) std::fprintf(stderr, "\n");
    if (failed) fail("stream stopped: " + error);

    std::vector<double> dec, pre, inf, post, e2e, cdec, cpre, cinf, cpost;
    Clock::time_point last = t0;
    size_t done = 0;
    for (const Record& r : rec) {
        if (!r.done) continue;
        ++done;
        dec.push_back(r.decode);
        pre.push_back(r.preprocess);
        inf.push_back(r.infer);
        post.push_back(r.post);
        e2e.push_back(r.e2e);
        cdec.push_back(r.decode_cpu);
        cpre.push_back(r.pre_cpu);
        cinf.push_back(r.infer_cpu);
        cpost.push_back(r.post_cpu);
        last = std::max(last, r.finish);
    }
    const double span_ms = ms_between(t0, last);
    const double fps = span_ms > 0 ? 1000.0 * double(done) / span_ms : 0.0;
    std::printf("frames: %zu  completed: %zu  dropped: %zu  deadline misses: %zu (deadline %.2f ms)\n", n, done,
                size_t(dropped), size_t(misses), period_ms);
    std::printf("sustained: %.2f fps (completed frames / time from the first release to the last result)\n", fps);
    if (pool->fallback_count() > 0)
        std::printf("inference pool: %lld fallbacks to the calling thread alone (its workers did not pay off: contention)\n",
                    static_cast<long long>(pool->fallback_count()));
    std::printf("%-22s %9s %9s %9s %9s\n", "latency ms", "p50", "p90", "p99", "max");
    auto row = [](const char* name, const std::vector<double>& v) {
        Pct p = percentiles(v);
        std::printf("%-22s %9.2f %9.2f %9.2f %9.2f\n", name, p.p50, p.p90, p.p99, p.max);
    };
    row("decode", dec);
    row("preprocess", pre);
    row("inference", inf);
    row(task ? "post-process" : "post-process (none)", post);
    row("end-to-end", e2e);
    std::printf("%-22s %9s %9s %9s %9s\n", "stage CPU time ms", "p50", "p90", "p99", "max");
    row("decode cpu", cdec);
    row("preprocess cpu", cpre);
    row("inference cpu (caller)", cinf);
    row("post-process cpu", cpost);
    Pct pe = percentiles(e2e);
    std::printf("result: %s (goal: 0 deadline misses and p99 end-to-end <= %.2f ms; got %zu misses, p99 %.2f ms)\n",
                misses == 0 && pe.p99 <= period_ms ? "REAL-TIME" : "NOT REAL-TIME", period_ms, size_t(misses), pe.p99);

    if (!a.trace.empty()) {
        std::ofstream csv(a.trace);
        if (!csv) fail("--trace: cannot write " + a.trace);
        csv << "frame,status,released_ms,decode_start_ms,decode_end_ms,pre_start_ms,pre_end_ms,infer_start_ms,infer_end_ms,"
               "post_start_ms,post_end_ms,end_to_end_ms,miss,decode_cpu_ms,pre_cpu_ms,infer_cpu_ms,post_cpu_ms,pool_fallbacks\n";
        char buf[512];
        for (size_t i = 0; i < n; ++i) {
            const Record& r = rec[i];
            const double released = double(i) * period_ms;
            if (!r.done) {
                std::snprintf(buf, sizeof buf, "%zu,%s,%.3f,,,,,,,,,,1,,,,,\n", i, r.dropped ? "dropped" : "not run", released);
            } else {
                int len = std::snprintf(buf, sizeof buf, "%zu,done,%.3f", i, released);
                for (size_t k = 1; k < r.at.size(); ++k)
                    len += std::snprintf(buf + len, sizeof buf - size_t(len), ",%.3f", ms_between(t0, r.at[k]));
                std::snprintf(buf + len, sizeof buf - size_t(len), ",%.3f,%d,%.3f,%.3f,%.3f,%.3f,%lld\n", r.e2e,
                              r.e2e > period_ms ? 1 : 0, r.decode_cpu, r.pre_cpu, r.infer_cpu, r.post_cpu,
                              static_cast<long long>(r.pool_fallbacks));
            }
            csv << buf;
        }
        if (!csv) fail("--trace: cannot write " + a.trace);
        std::printf("trace: %zu frames written to %s\n", n, a.trace.c_str());
    }

    if (!a.out_dir.empty()) {
        std::filesystem::create_directories(a.out_dir);
        size_t written = 0;
        for (const FramePtr& f : kept) {
            if (!f) continue;
            const vision::Image& pic = f->result.overlay.empty() ? f->image : f->result.overlay;
            std::string stem = std::filesystem::path(files[f->index]).stem().string();
            vision::write_jpeg((std::filesystem::path(a.out_dir) / (stem + ".jpg")).string(), pic, 90);
            ++written;
        }
        std::printf("annotated frames: %zu written to %s (after timing)\n", written, a.out_dir.c_str());
    }
    return 0;
}

}  // namespace edgecnn::cli
