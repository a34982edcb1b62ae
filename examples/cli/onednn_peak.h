// The machine's GEMM peak as oneDNN reaches it, for `dsv4 bench`.
//
// The library computes prefill in double (docs/PERFORMANCE.md, "Precision":
// float sums miss the conformance vectors), so its own GEMM kernel's peak
// (dsv4_measure_gemm_peak) is the ceiling of the arithmetic prefill runs in.
// What the machine does with a tuned float GEMM is oneDNN's matmul: the bench
// reports prefill against both. oneDNN is linked into the dsv4 program only,
// never into the library.
#pragma once

#include <string>

namespace cli {

// GFLOP/s of oneDNN's matmul primitive on one prefill-shaped product,
// C[m x n] = A[m x k] . B[k x n] (m tokens, k inputs, n outputs), with
// n_threads OpenMP threads: inputs in f32 or bf16 (bf16 = true), f32
// accumulation and output, the weights in the layout oneDNN prefers (reordered
// once, untimed); the best of `reps` timed runs after one untimed one.
// Returns a negative value, with the reason in `error`, where oneDNN cannot
// build the primitive (bf16 on a CPU without the instructions it needs, say).
double onednn_matmul_gflop_s(bool bf16, int n_threads, int m, int n, int k, int reps, std::string& error);

}  // namespace cli
