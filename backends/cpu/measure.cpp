#include "cpu/measure.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "cpu/kernels.h"
#include "cpu/thread_pool.h"
#include "error.h"

namespace dsv4::cpu {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

uint64_t default_buffer_bytes() {
    long llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (llc <= 0) llc = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return std::max<uint64_t>(uint64_t(1) << 30, 4 * uint64_t(llc > 0 ? llc : 0));
}

// A measurement that would fill more than half of the machine's memory is refused: its
// buffers are written in full, and the kernel would kill the process, not fail an allocation.
void check_fits(uint64_t bytes, const std::string& what) {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return;
    const uint64_t half = uint64_t(pages) * uint64_t(page) / 2;
    if (bytes > half)
        fail(DSV4_STATUS_INVALID_ARGUMENT, what + " needs " + std::to_string(bytes) +
                                               " bytes, more than half of this machine's memory (" +
                                               std::to_string(half) + " bytes)");
}

}  // namespace

double measure_read_bandwidth(int n_threads, uint64_t bytes, int runs) {
    if (bytes == 0) bytes = default_buffer_bytes();
    check_fits(bytes, "the bandwidth probe's buffer_bytes " + std::to_string(bytes));
    bytes = std::max<uint64_t>(bytes & ~uint64_t(4095), 1 << 20);
    // In 2 MiB pages, as the checkpoint is mapped (lib/mapped_file.cpp): the
    // best plain read of the memory the weights live in. (Until the ninth
    // session 4 KiB pages, as the page cache then mapped the checkpoint.)
    constexpr uint64_t kHugePage = uint64_t(2) << 20;
    const uint64_t mapped = bytes + kHugePage;
    void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        fail(DSV4_STATUS_OUT_OF_MEMORY, "cannot map " + std::to_string(bytes) + " bytes for the bandwidth probe");
    std::unique_ptr<void, std::function<void(void*)>> unmap(p, [mapped](void* q) { munmap(q, mapped); });
    const uintptr_t aligned = (reinterpret_cast<uintptr_t>(p) + kHugePage - 1) & ~uintptr_t(kHugePage - 1);
#ifdef MADV_HUGEPAGE
    madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);
#endif
    float* f = reinterpret_cast<float*>(aligned);
    const int64_t n = int64_t(bytes / sizeof(float));
    ThreadPool pool(n_threads);
    // Filled in parallel (first touch), with a value that keeps sums finite.
    constexpr int64_t kChunk = int64_t(16) << 20 >> 2;  // 16 MiB of floats per task
    const int64_t tasks = (n + kChunk - 1) / kChunk;
    pool.for_each(tasks, [&](int64_t t, int) {
        const int64_t a = t * kChunk, b = std::min(n, a + kChunk);
        std::fill(f + a, f + b, 1.0f);
    });
    const Kernels& K = kernels();
    std::vector<float> sink(static_cast<size_t>(tasks));
    double best = 0.0;
    for (int r = 0; r < runs; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        pool.for_each(tasks, [&](int64_t t, int) {
            const int64_t a = t * kChunk, b = std::min(n, a + kChunk);
            sink[size_t(t)] = K.read_sum(f + a, b - a);
        });
        const double s = seconds_since(t0);
        best = std::max(best, double(bytes) / s / 1e9);
    }
    volatile float keep = sink[0];
    (void)keep;
    return best;
}

double measure_gemm_peak(int n_threads, int64_t m, int64_t n, int64_t k, int runs) {
    if (m <= 0) m = 256;
    if (n <= 0) n = 4096;
    if (k <= 0) k = 4096;
    constexpr int64_t kTaskRows = kGemmTaskRows, kKc = kGemmKc;
    const int64_t ntok = (m + 15) / 16 * 16;
    // x packed, and per thread the output block and one decoded weight block.
    const double need =
        8.0 * (double(k) * double(ntok) + double(n_threads > 0 ? n_threads : ThreadPool::hardware_threads()) *
                                              double(kTaskRows) * double(ntok + kKc));
    check_fits(need < 1.8e19 ? uint64_t(need) : ~uint64_t(0), "the GEMM probe (m " + std::to_string(m) + ", n " +
                                                                  std::to_string(n) + ", k " + std::to_string(k) + ")");
    const Kernels& K = kernels();
    std::vector<double> xt(size_t(k * ntok), 0.5);
    // The weight already decoded (the decode step left out): the
    // micro-kernel's ceiling on this shape, in the layout of matmul_gemm,
    // whose tasks decode kKc inputs of their kTaskRows rows at a time into a
    // per-thread block and run the micro-kernel on it, x packed in strips of
    // 16 tokens, [ntok / 16][k][16], as there. (Until the thirteenth
    // session this read the rows of one n x k matrix, 32 KiB apart at k =
    // 4096: the rows of a tile then share L1 sets, and the kernel ran at 0.8
    // of what it does on the decoded blocks prefill gives it.)
    ThreadPool pool(n_threads);
    double best = 0.0;
    for (int r = 0; r < runs; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        pool.for_each((n + kTaskRows - 1) / kTaskRows, [&](int64_t t, int) {
            const int64_t a = t * kTaskRows, nr = std::min(n - a, kTaskRows);
            thread_local std::vector<double> c, w;
            if (c.size() < size_t(kTaskRows * ntok)) c.resize(size_t(kTaskRows * ntok));
            if (w.size() < size_t(kTaskRows * kKc)) w.assign(size_t(kTaskRows * kKc), 0.25);
            std::fill(c.begin(), c.begin() + nr * ntok, 0.0);
            for (int64_t k0 = 0; k0 < k; k0 += kKc)
                for (int64_t i0 = 0; i0 < ntok; i0 += 16)
                    K.gemm_rows(w.data(), kKc, nr, xt.data() + (i0 / 16) * (k * 16) + k0 * 16, 16, 16,
                                std::min(kKc, k - k0), c.data() + i0, ntok);
        });
        const double s = seconds_since(t0);
        best = std::max(best, 2.0 * double(m) * double(n) * double(k) / s / 1e9);
    }
    return best;
}

}  // namespace dsv4::cpu
