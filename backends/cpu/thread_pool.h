// A persistent pool of worker threads for the cpu backend. The calling thread
// works too: a pool of size N starts N - 1 threads. Workers spin briefly
// after a job (decode calls come in quick succession), then sleep.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace dsv4::cpu {

class ThreadPool {
public:
    // n_threads <= 0: one per online core.
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return n_; }

    // Calls fn(ctx, task, thread) for every task in [0, n_tasks), tasks
    // handed out dynamically; `thread` < size() identifies the thread (for
    // scratch). Returns when all are done. A call made while the pool is busy
    // (another session on another thread, or from inside a task) runs its
    // tasks on the calling thread alone. The first exception thrown by a
    // task is rethrown here after the others finish.
    using TaskFn = void (*)(void* ctx, int64_t task, int thread);
    void run(int64_t n_tasks, TaskFn fn, void* ctx);

    template <class F>
    void for_each(int64_t n_tasks, const F& f) {
        run(n_tasks, [](void* c, int64_t t, int th) { (*static_cast<const F*>(c))(t, th); },
            const_cast<void*>(static_cast<const void*>(&f)));
    }

    static int hardware_threads();

private:
    struct Job;
    void worker(int id);
    static void participate(Job& job, int thread);

    int n_;
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
