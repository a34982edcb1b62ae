// A persistent pool of worker threads for the cpu backend. The calling thread
// works too: a pool of size N starts N - 1 threads. Workers spin briefly
// after a job (decode calls come in quick succession), then sleep.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace dsv4::cpu {

class ThreadPool {
public:
    // Most task numbers a share can hold (32 bits each, packed in one word).
    static constexpr int64_t kMaxTasksPerRun = int64_t(0xFFFFFFFFu);

    // n_threads <= 0: one per online core. A run of more than
    // max_tasks_per_run tasks goes in several parts (tests lower it).
    explicit ThreadPool(int n_threads, int64_t max_tasks_per_run = kMaxTasksPerRun);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return n_; }

    // Calls fn(ctx, task, thread) for every task in [0, n_tasks); `thread`
    // < size() identifies the thread (for scratch). Each thread starts on its
    // own contiguous share of the tasks, in order, and a thread that runs out
    // takes the upper half of what another has left: a thread's tasks follow
    // each other in memory wherever tasks are consecutive rows, so the
    // kernels' prefetches run on into the thread's next task (see
    // thread_pool.cpp). Returns when all are done. A call made while the pool is busy
    // (another session on another thread, or from inside a task) runs its
    // tasks on the calling thread alone. The first exception thrown by a
    // task is rethrown here after the others finish.
    using TaskFn = void (*)(void* ctx, int64_t task, int thread);
    void run(int64_t n_tasks, TaskFn fn, void* ctx);

    template <class F>
    void for_each(int64_t n_tasks, const F& f) {
        run(
            n_tasks, [](void* c, int64_t t, int th) { (*static_cast<const F*>(c))(t, th); },
            const_cast<void*>(static_cast<const void*>(&f)));
    }

    static int hardware_threads();

private:
    struct Job;
    // Tasks [front, back) a thread has left, packed front << 32 | back; one
    // cache line each.
    struct alignas(64) Share {
        std::atomic<uint64_t> range{0};
    };
    void worker(int id);
    void participate(Job& job, int thread);
    int64_t take(int thread);

    int n_;
    int64_t max_tasks_;
    std::unique_ptr<Share[]> shares_;
    std::vector<std::thread> threads_;
    std::mutex submit_;  // one job at a time

    std::mutex m_;
    std::condition_variable cv_;
    std::atomic<uint64_t> generation_{0};
    std::atomic<bool> stop_{false};
    // The open job (NULL between jobs) and the workers that may be looking at
    // it: a job completes when its tasks are done, without waiting for
    // workers that have not woken up yet (on a busy machine that can take
    // milliseconds); it is only freed once no worker is inside.
    std::atomic<Job*> job_{nullptr};
    std::atomic<int> inside_{0};
};

}  // namespace dsv4::cpu
