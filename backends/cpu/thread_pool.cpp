#include "cpu/thread_pool.h"

#include <exception>

#include <unistd.h>

namespace dsv4::cpu {

namespace {
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}
constexpr int kSpinIters = 1000;  // tens of microseconds of pause before sleeping
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

void ThreadPool::work(int thread) {
    for (;;) {
        if (failed_.load(std::memory_order_relaxed)) return;
        const int64_t t = next_.fetch_add(1, std::memory_order_relaxed);
        if (t >= n_tasks_) return;
        try {
            fn_(ctx_, t, thread);
        } catch (...) {
            std::lock_guard<std::mutex> lk(error_m_);
            if (!error_) error_ = std::current_exception();
            failed_ = true;
        }
    }
}

void ThreadPool::worker(int id) {
    uint64_t seen = 0;
    for (;;) {
        uint64_t g = generation_.load(std::memory_order_acquire);
        for (int i = 0; g == seen && i < kSpinIters; ++i) {
            cpu_relax();
            g = generation_.load(std::memory_order_acquire);
        }
        if (g == seen) {
            std::unique_lock<std::mutex> lk(m_);
            cv_.wait(lk, [&] { return generation_.load(std::memory_order_acquire) != seen; });
            g = generation_.load(std::memory_order_acquire);
        }
        seen = g;
        if (stop_) return;
        work(id);
        active_.fetch_sub(1, std::memory_order_acq_rel);
    }
}

void ThreadPool::run(int64_t n_tasks, TaskFn fn, void* ctx) {
    if (n_tasks <= 0) return;
    std::unique_lock<std::mutex> job(submit_, std::try_to_lock);
    if (n_ == 1 || n_tasks == 1 || !job.owns_lock()) {
        for (int64_t t = 0; t < n_tasks; ++t) fn(ctx, t, 0);
        return;
    }
    fn_ = fn;
    ctx_ = ctx;
    n_tasks_ = n_tasks;
    next_.store(0, std::memory_order_relaxed);
    failed_ = false;
    error_ = nullptr;
    active_.store(n_ - 1, std::memory_order_relaxed);
    {
        std::lock_guard<std::mutex> lk(m_);
        generation_.fetch_add(1, std::memory_order_acq_rel);
    }
    cv_.notify_all();
    work(0);
    for (int i = 0; active_.load(std::memory_order_acquire) != 0; ++i) {
        if (i < kSpinIters) cpu_relax();
        else std::this_thread::yield();
    }
    if (error_) std::rethrow_exception(error_);
}

}  // namespace dsv4::cpu
