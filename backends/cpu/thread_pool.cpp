#include "cpu/thread_pool.h"

#include <chrono>
#include <exception>

#include <unistd.h>

namespace dsv4::cpu {

namespace {
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}
// A worker spins this long after a job before it sleeps. Decode runs a few
// hundred jobs per token with serial work between them (norms, routing,
// attention bookkeeping): a worker that fell asleep in those gaps costs a
// futex wake-up per job. Flash-shape decode at 2 threads, back to back:
// 15 us of spinning 7.26-7.81 tok/s, 300 us 8.46-8.72, 2 ms 7.77-8.37
// (interleaved on a busier host: 15 us 6.3-8.2, 300 us 7.1-8.2).
constexpr auto kSpinTime = std::chrono::microseconds(300);
// The submitter's wait for tasks other threads took: pauses (about 15 ns
// each here) before it yields.
constexpr int kSpinIters = 1000;
}  // namespace

int ThreadPool::hardware_threads() {
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? int(n) : 1;
}

ThreadPool::ThreadPool(int n_threads) : n_(n_threads > 0 ? n_threads : hardware_threads()) {
    for (int i = 1; i < n_; ++i) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lk(m_);
        stop_ = true;
        generation_.fetch_add(1);
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
}

struct ThreadPool::Job {
    TaskFn fn;
    void* ctx;
    int64_t n_tasks;
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> done{0};
    std::atomic<bool> failed{false};
    std::mutex error_m;
    std::exception_ptr error;
};

void ThreadPool::participate(Job& job, int thread) {
    for (;;) {
        const int64_t t = job.next.fetch_add(1, std::memory_order_relaxed);
        if (t >= job.n_tasks) return;
        if (!job.failed.load(std::memory_order_relaxed)) {
            try {
                job.fn(job.ctx, t, thread);
            } catch (...) {
                std::lock_guard<std::mutex> lk(job.error_m);
                if (!job.error) job.error = std::current_exception();
                job.failed = true;
            }
        }
        job.done.fetch_add(1, std::memory_order_acq_rel);
    }
}

void ThreadPool::worker(int id) {
    uint64_t seen = 0;
    for (;;) {
        uint64_t g = generation_.load(std::memory_order_acquire);
        const auto spin_end = std::chrono::steady_clock::now() + kSpinTime;
        for (int i = 1; g == seen; ++i) {
            cpu_relax();
            g = generation_.load(std::memory_order_acquire);
            if (i % 64 == 0 && std::chrono::steady_clock::now() > spin_end) break;
        }
        if (g == seen) {
            std::unique_lock<std::mutex> lk(m_);
            cv_.wait(lk, [&] { return generation_.load(std::memory_order_acquire) != seen; });
            g = generation_.load(std::memory_order_acquire);
        }
        seen = g;
        if (stop_) return;
        // Announce first, then look: the submitter closes the job before it
        // waits for inside_ to drop to zero, so a job seen here stays alive.
        inside_.fetch_add(1, std::memory_order_seq_cst);
        if (Job* job = job_.load(std::memory_order_seq_cst)) participate(*job, id);
        inside_.fetch_sub(1, std::memory_order_seq_cst);
    }
}

void ThreadPool::run(int64_t n_tasks, TaskFn fn, void* ctx) {
    if (n_tasks <= 0) return;
    std::unique_lock<std::mutex> lock(submit_, std::try_to_lock);
    if (n_ == 1 || n_tasks == 1 || !lock.owns_lock()) {
        for (int64_t t = 0; t < n_tasks; ++t) fn(ctx, t, 0);
        return;
    }
    Job job;
    job.fn = fn;
    job.ctx = ctx;
    job.n_tasks = n_tasks;
    job_.store(&job, std::memory_order_seq_cst);
    {
        std::lock_guard<std::mutex> lk(m_);
        generation_.fetch_add(1, std::memory_order_acq_rel);
    }
    cv_.notify_all();
    participate(job, 0);
    // Tasks other threads took may still run.
    for (int i = 0; job.done.load(std::memory_order_acquire) < n_tasks; ++i) {
        if (i < kSpinIters)
            cpu_relax();
        else
            std::this_thread::yield();
    }
    job_.store(nullptr, std::memory_order_seq_cst);
    for (int i = 0; inside_.load(std::memory_order_seq_cst) != 0; ++i) {
        if (i < kSpinIters)
            cpu_relax();
        else
            std::this_thread::yield();
    }
    if (job.error) std::rethrow_exception(job.error);
}

}  // namespace dsv4::cpu
