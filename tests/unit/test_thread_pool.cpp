// The thread pool: every task once on a valid thread, exceptions, nesting,
// concurrent submitters, and its task shares: each thread works through a
// contiguous run of tasks (what keeps the kernels' prefetching going from one
// task into the next), threads that run out take half of what another has
// left, and runs longer than a share can number go in parts.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "cpu/thread_pool.h"

namespace {

// Runs `tasks` tasks on a pool of n threads: each exactly once, each on a
// thread numbered below n.
void check_every_task_once(dsv4::cpu::ThreadPool& pool, int n, int64_t tasks) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(tasks));
    std::atomic<int> bad_thread{0};
    pool.for_each(tasks, [&](int64_t t, int th) {
        hits[size_t(t)]++;
        if (th < 0 || th >= n) bad_thread++;
    });
    for (auto& h : hits) REQUIRE(h.load() == 1);
    CHECK(bad_thread.load() == 0);
}

// Runs of consecutive task numbers in the order one thread ran them.
int ascending_runs(const std::vector<int64_t>& tasks) {
    int runs = 0;
    for (size_t i = 0; i < tasks.size(); ++i)
        if (i == 0 || tasks[i] != tasks[i - 1] + 1) ++runs;
    return runs;
}

}  // namespace

TEST_CASE("thread pool runs every task once, rethrows, and nests serially", "[cpu][threads]") {
    for (int n : {1, 2, 3, 8}) {
        dsv4::cpu::ThreadPool pool(n);
        CHECK(pool.size() == n);
        for (int64_t tasks : {0, 1, 2, 7, 1000}) check_every_task_once(pool, n, tasks);
        // A task that calls the pool again runs the inner tasks on its own thread.
        std::atomic<int> inner{0};
        pool.for_each(4, [&](int64_t, int) { pool.for_each(5, [&](int64_t, int) { inner++; }); });
        CHECK(inner.load() == 20);
        CHECK_THROWS_AS(pool.for_each(50,
                                      [&](int64_t t, int) {
                                          if (t == 17) throw std::runtime_error("task failed");
                                      }),
                        std::runtime_error);
        std::atomic<int> after{0};
        pool.for_each(10, [&](int64_t, int) { after++; });
        CHECK(after.load() == 10);
    }
}

TEST_CASE("thread pool serves concurrent submitters (sessions on different threads)", "[cpu][threads]") {
    dsv4::cpu::ThreadPool pool(2);
    std::atomic<int64_t> sum{0};
    auto submit = [&] {
        for (int round = 0; round < 200; ++round) pool.for_each(37, [&](int64_t t, int) { sum += t + 1; });
    };
    std::thread a(submit), b(submit);
    a.join();
    b.join();
    CHECK(sum.load() == 2 * 200 * (37 * 38 / 2));
}

TEST_CASE("thread pool hands each thread a contiguous share of the tasks", "[cpu][threads]") {
    // Slow tasks, so both threads are at work for most of the run: handed out
    // in turn from one counter, each thread's tasks would alternate (about 64
    // runs in all); from shares, each thread runs its half in order, plus a
    // few stolen halves at the end.
    constexpr int64_t kTasks = 64;
    dsv4::cpu::ThreadPool pool(2);
    std::mutex m;
    std::vector<std::vector<int64_t>> order(2);
    std::vector<std::atomic<int>> hits(kTasks);
    pool.for_each(kTasks, [&](int64_t t, int th) {
        std::this_thread::sleep_for(std::chrono::microseconds(300));
        hits[size_t(t)]++;
        std::lock_guard<std::mutex> lk(m);
        order[size_t(th)].push_back(t);
    });
    for (auto& h : hits) REQUIRE(h.load() == 1);
    REQUIRE(!order[0].empty());
    CHECK(order[0].front() == 0);  // the caller starts at the front of its share
    const int runs = ascending_runs(order[0]) + ascending_runs(order[1]);
    INFO("thread 0 ran " << order[0].size() << " tasks, thread 1 " << order[1].size() << "; runs " << runs);
    CHECK(runs <= 16);
}

TEST_CASE("thread pool splits runs longer than a share holds", "[cpu][threads]") {
    for (int n : {1, 2, 3}) {
        dsv4::cpu::ThreadPool pool(n, 5);
        for (int64_t tasks : {0, 4, 5, 6, 23, 100}) check_every_task_once(pool, n, tasks);
    }
}

TEST_CASE("thread pool: a thread that runs out takes over another's remaining tasks", "[cpu][threads]") {
    // The caller's tasks are slow, the worker's instant: the worker finishes
    // its share and then takes upper halves of the caller's, so it runs more
    // than its own half.
    constexpr int64_t kTasks = 40;
    dsv4::cpu::ThreadPool pool(2);
    std::atomic<int> by_worker{0};
    std::vector<std::atomic<int>> hits(kTasks);
    pool.for_each(kTasks, [&](int64_t t, int th) {
        hits[size_t(t)]++;
        if (th == 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        else
            by_worker++;
    });
    for (auto& h : hits) REQUIRE(h.load() == 1);
    CHECK(by_worker.load() > kTasks / 2);
}
