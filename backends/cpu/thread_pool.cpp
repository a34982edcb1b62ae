#include "cpu/thread_pool.h"

#include <algorithm>
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

ThreadPool::ThreadPool(int n_threads, int64_t max_tasks_per_run)
    : n_(n_threads > 0 ? n_threads : hardware_threads()),
      max_tasks_(std::clamp<int64_t>(max_tasks_per_run, 1, kMaxTasksPerRun)),
      shares_(std::make_unique<Share[]>(size_t(n_))) {
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
    std::atomic<int64_t> done{0};
    std::atomic<bool> failed{false};
    std::mutex error_m;
    std::exception_ptr error;
};

// Why shares and not one counter: with tasks handed out in turn, a thread's
// next task is not the rows after its last one but after the other thread's,
// so every task starts cold (the kernels prefetch the rows after the tile in
// hand, and at the end of a task those belong to another thread). Decode's
// products are small (4 MB experts in 16 tasks), so that cost a lot: FP4
// expert products of flash-shape's shapes from memory, 2 threads, 7 rounds
// each: 18.2 GB/s with one counter against 23.8 with shares, at 64 tasks per
// product (20.3 against 21.4 at 8); FP8 products of 4 MB +6-19%.
int64_t ThreadPool::take(int thread) {
    std::atomic<uint64_t>& own = shares_[size_t(thread)].range;
    uint64_t v = own.load(std::memory_order_acquire);
    while ((v >> 32) < (v & 0xFFFFFFFFu))
        if (own.compare_exchange_weak(v, v + (uint64_t(1) << 32), std::memory_order_acq_rel)) return int64_t(v >> 32);
    // Out of tasks: take the upper half of another thread's remainder (all
    // of it when one task is left), which then becomes this thread's share.
    for (int k = 1; k < n_; ++k) {
        std::atomic<uint64_t>& other = shares_[size_t((thread + k) % n_)].range;
        uint64_t w = other.load(std::memory_order_acquire);
        for (;;) {
            const uint64_t front = w >> 32, back = w & 0xFFFFFFFFu;
            if (front >= back) break;
            const uint64_t mid = front + (back - front) / 2;
            if (other.compare_exchange_weak(w, front << 32 | mid, std::memory_order_acq_rel)) {
                own.store((mid + 1) << 32 | back, std::memory_order_release);
                return int64_t(mid);
            }
        }
    }
    return -1;
}

void ThreadPool::participate(Job& job, int thread) {
    // Counted here and added once: a shared counter bumped by every task
    // moves its cache line between the cores at every task.
    int64_t ran = 0;
    for (;; ++ran) {
        const int64_t t = take(thread);
        if (t < 0) break;
        if (!job.failed.load(std::memory_order_relaxed)) {
            try {
                job.fn(job.ctx, t, thread);
            } catch (...) {
                std::lock_guard<std::mutex> lk(job.error_m);
                if (!job.error) job.error = std::current_exception();
                job.failed = true;
            }
        }
    }
    if (ran) job.done.fetch_add(ran, std::memory_order_acq_rel);
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
    if (n_tasks > max_tasks_) {
        lock.unlock();
        for (int64_t t0 = 0; t0 < n_tasks; t0 += max_tasks_) {
            struct Part {
                TaskFn fn;
                void* ctx;
                int64_t t0;
            } part{fn, ctx, t0};
            run(
                std::min(max_tasks_, n_tasks - t0),
                [](void* c, int64_t t, int th) {
                    const Part& p = *static_cast<const Part*>(c);
                    p.fn(p.ctx, p.t0 + t, th);
                },
                &part);
        }
        return;
    }
    for (int i = 0; i < n_; ++i) {
        const uint64_t front = uint64_t(n_tasks * i / n_), back = uint64_t(n_tasks * (i + 1) / n_);
        shares_[size_t(i)].range.store(front << 32 | back, std::memory_order_relaxed);
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
