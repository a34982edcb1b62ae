// One and two threads of the cpu backend's decode kernels from memory, next to a plain read of
// the same pages and the bench's probe, in one process: which kernels the memory bounds and
// which the cores do. The LM head's shape (129280 x 4096 BF16, the float kernel), a 1 GiB FP8
// matrix and a 0.5 GiB FP4 matrix (the integer route), all in 2 MiB pages, rows split in halves
// between the threads; four rounds. Not part of the build (no timing in tests); compile against
// a build tree (one command):
//   g++ -O2 -std=c++17 -Ibackends -Ilib -Iinclude benchmarks/threads_throughput.cpp
//       BUILD/libdsv4_internal.a -lfmt -lpcre2-8 -lpthread -o /tmp/threads_throughput
#include <sys/mman.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "cpu/fp4_fixed.h"
#include "cpu/kernels.h"
#include "cpu/measure.h"

using namespace dsv4::cpu;

namespace {

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// f(i, n) on threads i = 0..n-1 (0 on the calling thread); the wall time.
template <class F>
double on_threads(int n, F f) {
    const double t = now();
    std::vector<std::thread> th;
    for (int i = 1; i < n; ++i) th.emplace_back(f, i, n);
    f(0, n);
    for (auto& x : th) x.join();
    return now() - t;
}

void* huge_pages(size_t bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        std::perror("mmap");
        std::exit(1);
    }
    madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

}  // namespace

int main() {
    const Kernels& K = kernels();
    const int64_t in = 4096, head_rows = 129280, rows = 256 * 1024;
    auto* head = static_cast<uint16_t*>(huge_pages(size_t(head_rows * in * 2)));
    auto* w8 = static_cast<uint8_t*>(huge_pages(size_t(rows * in)));
    auto* w4 = static_cast<uint8_t*>(huge_pages(size_t(rows * in / 2)));
    std::vector<uint8_t> s4(size_t(rows * in / 32), 127);
    std::mt19937 r(1);
    for (int64_t i = 0; i < head_rows * in; ++i) head[i] = uint16_t(0x3F80 ^ (r() & 0x7F));
    for (int64_t i = 0; i < rows * in; ++i) {
        uint8_t b = uint8_t(r());
        if ((b & 0x78) == 0) b |= 0x08;  // normal codes, as a checkpoint has them
        if ((b & 0x7F) == 0x7F) b ^= 1;  // never NaN
        w8[i] = b;
    }
    for (int64_t i = 0; i < rows * in / 2; ++i) w4[i] = uint8_t(r());
    std::vector<float> xf(size_t(in), 0.5f), xs(static_cast<size_t>(in)), y(static_cast<size_t>(head_rows + rows));
    std::vector<double> x(static_cast<size_t>(in), 0.5);
    bf16_split_x(xf.data(), in, xs.data());
    Fp4FixedBuffers fixed;
    const bool fp4_fixed = K.gemv_fp4_fixed != nullptr;
    if (fp4_fixed) fp4_fixed_prepare(xf.data(), in, 1, in, fixed, K.fp4_fixed_digits, K.fp4_fixed_chunk_bytes);
    const double head_bytes = double(head_rows * in * 2), fp8_bytes = double(rows * in),
                 fp4_bytes = double(rows * in / 2 + rows * in / 32);
    std::printf("isa %s\n", isa_name(active_isa()));
    for (int round = 0; round < 4; ++round)
        for (int n : {1, 2}) {
            const double th = on_threads(n, [&](int i, int m) {
                const int64_t a = head_rows * i / m, b = head_rows * (i + 1) / m;
                if (K.gemv_bf16_f32)
                    K.gemv_bf16_f32(head + a * in, in, b - a, xs.data(), in, 1, y.data() + a, head_rows);
                else
                    K.gemv_bf16(head + a * in, in, b - a, x.data(), in, 1, y.data() + a, head_rows);
            });
            const double tr = on_threads(n, [&](int i, int m) {
                const int64_t floats = head_rows * in / 2, a = floats * i / m, b = floats * (i + 1) / m;
                y[size_t(i)] = K.read_sum(reinterpret_cast<const float*>(head) + a, b - a);
            });
            const double t8 = on_threads(n, [&](int i, int m) {
                const int64_t a = rows * i / m, b = rows * (i + 1) / m;
                K.gemv_fp8(w8 + a * in, in, b - a, x.data(), in, 1, y.data() + a, rows);
            });
            const double t4 = on_threads(n, [&](int i, int m) {
                const int64_t a = rows * i / m, b = rows * (i + 1) / m;
                if (fp4_fixed)
                    K.gemv_fp4_fixed(w4 + a * in / 2, s4.data() + a * in / 32, in, b - a, fixed.view(), x.data(), in, 1,
                                     y.data() + a, rows);
                else
                    K.gemv_fp4(w4 + a * in / 2, s4.data() + a * in / 32, in, b - a, x.data(), in, 1, y.data() + a,
                               rows);
            });
            std::printf("%d thread(s): head %6.2f GB/s, plain read of it %6.2f; FP8 %6.2f; FP4 %6.2f", n,
                        head_bytes / th / 1e9, head_bytes / tr / 1e9, fp8_bytes / t8 / 1e9, fp4_bytes / t4 / 1e9);
            if (n == 2) std::printf("; probe %6.2f", measure_read_bandwidth(2, uint64_t(1) << 30));
            std::printf("\n");
        }
    return 0;
}
