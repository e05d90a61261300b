// Concurrency (docs/THREADING.md): several Sessions of one Graph running in parallel threads,
// Sessions sharing one ThreadPool, and one Session used from several threads in turn all give
// results bit-identical to a single-threaded Session. Also built into
// edgecnn_threading_tests, which CI runs under ThreadSanitizer.
#include <gtest/gtest.h>

#include <cstring>
#include <mutex>
#include <random>
#include <thread>

#include "base/thread_pool.hpp"
#include "cli_test_util.hpp"
#include "onnx/importer.hpp"
#include "runtime/session.hpp"
#include "synthetic_models.hpp"

using namespace edgecnn;

namespace {

struct Case {
    std::string name;
    std::shared_ptr<const Graph> graph;
    std::vector<Shape> shapes;  // input shapes to cycle through (one input per model)
};

std::vector<Case> cases() {
    std::vector<Case> out;
    out.push_back({"fashion_mnist", import_onnx_file(test::source_path("models/fashion_mnist/fashion_mnist_cnn.onnx")),
                   {{1, 1, 28, 28}, {2, 1, 28, 28}}});
    out.push_back({"synthetic0", test::import_model(test::synthetic_conv_net(0), "synthetic0"),
                   {{1, 3, 16, 16}, {1, 3, 12, 20}, {2, 3, 8, 8}}});
    out.push_back({"synthetic1", test::import_model(test::synthetic_conv_net(1), "synthetic1"),
                   {{1, 3, 17, 15}, {1, 3, 24, 24}}});
    return out;
}

Tensor random_input(const Shape& shape, uint32_t seed) {
    Tensor t(DType::F32, shape);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
    return t;
}

struct Job {
    NamedTensors inputs;
    std::vector<Tensor> expected;
};

// Inputs for every shape of a case (two seeds each) with their single-threaded outputs.
std::vector<Job> jobs_for(const Case& c) {
    std::vector<Job> jobs;
    Session ref(c.graph);
    const std::string& in_name = c.graph->value(c.graph->inputs[0]).name;
    uint32_t seed = 1;
    for (const Shape& s : c.shapes)
        for (int k = 0; k < 2; ++k) {
            Job j;
            j.inputs = {{in_name, random_input(s, seed++)}};
            for (auto& [name, t] : ref.run(j.inputs)) j.expected.push_back(t.clone());
            jobs.push_back(std::move(j));
        }
    return jobs;
}

// Bitwise equality; returns "" or a description of the first difference.
std::string diff(const std::vector<Tensor>& expected, const NamedTensors& got) {
    if (expected.size() != got.size()) return "output count differs";
    for (size_t o = 0; o < got.size(); ++o) {
        const Tensor& a = expected[o];
        const Tensor& b = got[o].second;
        if (a.shape() != b.shape() || a.dtype() != b.dtype()) return "output " + got[o].first + " shape differs";
        if (std::memcmp(a.raw(), b.raw(), a.nbytes()) != 0) return "output " + got[o].first + " values differ";
    }
    return "";
}

}  // namespace

TEST(Concurrency, ParallelSessionsOfOneGraphGiveIdenticalResults) {
    constexpr int kThreads = 4;
    for (const Case& c : cases()) {
        std::vector<Job> jobs = jobs_for(c);
        std::vector<std::string> errors(kThreads);
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&, t] {
                try {
                    SessionOptions o;
                    o.num_threads = 1 + t % 2;  // half of them with their own 2-thread pool
                    Session s(c.graph, o);
                    for (int rep = 0; rep < 3; ++rep)
                        for (size_t k = 0; k < jobs.size(); ++k) {
                            const Job& j = jobs[(k + size_t(t)) % jobs.size()];
                            std::string d = diff(j.expected, s.run(j.inputs));
                            if (!d.empty() && errors[size_t(t)].empty()) errors[size_t(t)] = d;
                        }
                } catch (const std::exception& e) {
                    errors[size_t(t)] = e.what();
                }
            });
        for (auto& th : threads) th.join();
        for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[size_t(t)], "") << c.name << ", thread " << t;
    }
}

TEST(Concurrency, SessionsSharingOneThreadPoolInParallel) {
    constexpr int kThreads = 3;
    auto pool = std::make_shared<ThreadPool>(2);
    for (const Case& c : cases()) {
        std::vector<Job> jobs = jobs_for(c);
        std::vector<std::string> errors(kThreads);
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&, t] {
                try {
                    SessionOptions o;
                    o.thread_pool = pool;
                    Session s(c.graph, o);
                    for (int rep = 0; rep < 3; ++rep)
                        for (size_t k = 0; k < jobs.size(); ++k) {
                            const Job& j = jobs[(k * 7 + size_t(t)) % jobs.size()];
                            std::string d = diff(j.expected, s.run(j.inputs));
                            if (!d.empty() && errors[size_t(t)].empty()) errors[size_t(t)] = d;
                        }
                } catch (const std::exception& e) {
                    errors[size_t(t)] = e.what();
                }
            });
        for (auto& th : threads) th.join();
        for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[size_t(t)], "") << c.name << ", thread " << t;
    }
}

// A Session is not reentrant (it keeps the compiled plan and its arena), but it is not tied to
// a thread: used from several threads one call at a time, with the input shape changing from
// call to call (so plans are recompiled on different threads), it gives the same results.
TEST(Concurrency, OneSessionUsedFromSeveralThreadsInTurn) {
    constexpr int kThreads = 4;
    for (const Case& c : cases()) {
        std::vector<Job> jobs = jobs_for(c);
        SessionOptions o;
        o.num_threads = 2;
        Session s(c.graph, o);
        std::mutex m;
        std::vector<std::string> errors(kThreads);
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&, t] {
                for (int rep = 0; rep < 2; ++rep)
                    for (size_t k = 0; k < jobs.size(); ++k) {
                        const Job& j = jobs[(k + size_t(t) * 3) % jobs.size()];
                        std::lock_guard<std::mutex> lock(m);
                        try {
                            std::string d = diff(j.expected, s.run(j.inputs));
                            if (!d.empty() && errors[size_t(t)].empty()) errors[size_t(t)] = d;
                        } catch (const std::exception& e) {
                            errors[size_t(t)] = e.what();
                        }
                    }
            });
        for (auto& th : threads) th.join();
        for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[size_t(t)], "") << c.name << ", thread " << t;
    }
}
