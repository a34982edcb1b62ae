// Machine measurements for rooflines, with the same threads and kernels the
// cpu backend uses (exposed as dsv4_measure_* in the C API).
#pragma once

#include <cstdint>

namespace dsv4::cpu {

// Multi-threaded streaming read of a buffer of `bytes` (0: max(1 GiB, 4x the
// last-level cache)) in 2 MiB pages, like the mapped checkpoint
// (lib/mapped_file.cpp); the best of `runs` passes, in GB/s (1e9 bytes).
double measure_read_bandwidth(int n_threads, uint64_t bytes, int runs = 5);

// The prefill GEMM (double precision, packed 16-row panels, as
// CpuBackend::matmul_gemm runs it) on C[m, n] = X[m, k] . W[n, k]^T with the
// weight already decoded: the compute ceiling of prefill, in GFLOP/s
// (2mnk / s), the best of `runs`. 0 dims: m = 256, n = 4096, k = 4096.
double measure_gemm_peak(int n_threads, int64_t m, int64_t n, int64_t k, int runs = 3);

}  // namespace dsv4::cpu
