// Single-thread throughput of the cpu backend's register-decoding kernels
// (GB/s of weight bytes) next to the single-thread read bandwidth and GEMM
// peak: shows which formats the decode kernels keep up with memory on.
// Not part of the build (no timing in tests); compile against a build tree:
//   g++ -O2 -std=c++17 -Ibackends -Ilib -Iinclude benchmarks/kernel_throughput.cpp \
//       BUILD/libdsv4_internal.a -lfmt -lpcre2-8 -lpthread -o /tmp/kernel_throughput
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <random>
#include <vector>

#include "cpu/fp4_fixed.h"
#include "cpu/kernels.h"
#include "cpu/measure.h"

using namespace dsv4::cpu;

namespace {
double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

// Usage: kernel_throughput [FP8_MIB]: the FP8 matrix's size (default 64 MiB,
// which an L3 of a few hundred MiB holds; pass 1024 to stream from memory).
int main(int argc, char** argv) {
    const int64_t in = 4096, rows = (argc > 1 ? std::atoll(argv[1]) : 64) * 256;
    std::vector<uint8_t> w8(size_t(rows * in)), w4(size_t(rows * in / 2)), s4(size_t(rows * in / 32), 127);
    std::vector<uint16_t> w16(size_t(rows * in / 2));
    std::mt19937 r(1);
    // FP8 codes as a checkpoint has them: normal (exponent field >= 1; the
    // VBMI kernel sends chunks with zero / subnormal codes through a table),
    // never NaN.
    for (auto& b : w8) {
        b = uint8_t(r());
        if ((b & 0x78) == 0) b |= 0x08;
        if ((b & 0x7F) == 0x7F) b ^= 1;
    }
    for (auto& b : w4) b = uint8_t(r());
    for (auto& b : w16) b = uint16_t(0x3F80 ^ (r() & 0x7F));
    std::vector<double> x(size_t(in * 8), 0.5);
    std::vector<float> xf(size_t(in * 8), 0.5f);
    std::vector<float> y(size_t(rows * 8)), xs(size_t(in * 8));
    for (int t = 0; t < 8; ++t) bf16_split_x(xf.data() + t * in, in, xs.data() + t * in);
    for (Isa isa : {Isa::Avx512Fp16, Isa::Avx512Vnni, Isa::Avx512, Isa::Avx2, Isa::Scalar}) {
        if (!isa_supported(isa)) continue;
        const Kernels& K = kernels_for(isa);
        Fp4FixedBuffers fixed;  // in the table's layout
        if (K.gemv_fp4_fixed)
            fp4_fixed_prepare(xf.data(), in, 8, in, fixed, K.fp4_fixed_digits, K.fp4_fixed_chunk_bytes);
        for (int n : {1, 2, 3, 4}) {
            double t8 = 1e9, t4 = 1e9, t16 = 1e9, t4i = 1e9, t16f = 1e9;
            for (int rep = 0; rep < 5; ++rep) {
                double t = now();
                K.gemv_fp8(w8.data(), in, rows, x.data(), in, n, y.data(), rows);
                t8 = std::min(t8, now() - t);
                t = now();
                K.gemv_fp4(w4.data(), s4.data(), in, rows, x.data(), in, n, y.data(), rows);
                t4 = std::min(t4, now() - t);
                if (K.gemv_fp4_fixed) {
                    t = now();
                    K.gemv_fp4_fixed(w4.data(), s4.data(), in, rows, fixed.view(), x.data(), in, n, y.data(), rows);
                    t4i = std::min(t4i, now() - t);
                }
                t = now();
                K.gemv_bf16(w16.data(), in, rows / 2, x.data(), in, n, y.data(), rows);
                t16 = std::min(t16, now() - t);
                if (K.gemv_bf16_f32) {
                    t = now();
                    K.gemv_bf16_f32(w16.data(), in, rows / 2, xs.data(), in, n, y.data(), rows);
                    t16f = std::min(t16f, now() - t);
                }
            }
            std::printf("%-7s n=%d  FP8 %6.2f GB/s  FP4 %6.2f GB/s  BF16 %6.2f GB/s", isa_name(isa), n,
                        double(w8.size()) / t8 / 1e9, double(w4.size() + s4.size()) / t4 / 1e9,
                        double(w16.size() * 2) / t16 / 1e9);
            if (K.gemv_fp4_fixed)
                std::printf("  FP4 integer route %6.2f GB/s", double(w4.size() + s4.size()) / t4i / 1e9);
            if (K.gemv_bf16_f32) std::printf("  BF16 in float (head) %6.2f GB/s", double(w16.size() * 2) / t16f / 1e9);
            std::printf("\n");
        }
    }
    std::printf("read bandwidth, 1 thread: %.2f GB/s\n", measure_read_bandwidth(1, uint64_t(1) << 30));
    std::printf("GEMM peak (f64), 1 thread: %.2f GFLOP/s\n", measure_gemm_peak(1, 256, 1024, 4096));
    return 0;
}
