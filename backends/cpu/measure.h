// Machine measurements for rooflines, with the same threads and kernels the
// cpu backend uses (exposed as dsv4_measure_* in the C API).
#pragma once

#include <cstdint>

#include "weights.h"

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

// The cpu backend's one-token decode product for weights of `format`, on a
// weight that stays in the cache (4 MiB, 4096 inputs a row), with n_threads
// threads: BF16 through the LM head's float kernel (logits_matmul), FP8 and
// FP4 through matmul (FP4's integer route where the ISA has one), x prepared
// per call as in decode. The speed the cores turn weights into products at
// when they do not wait for memory: the compute side of decode's roofline,
// in GB/s of weight bytes (scales included), the best of `runs`.
double measure_decode_kernel(int n_threads, LinearFormat format, int runs = 5);

}  // namespace dsv4::cpu
