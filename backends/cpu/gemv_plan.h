// One gemv-sized product (fewer tokens than the packed GEMM takes) prepared
// for the thread pool: the activations converted once for the weight's kernel
// (double, FP4 paired, FP4 fixed-point digits), then tasks of rows that any
// thread may run.
#pragma once

#include <cstdint>
#include <vector>

#include "cpu/fp4_fixed.h"
#include "cpu/kernels.h"
#include "weights.h"

namespace dsv4::cpu {

class GemvPlan {
public:
    // FP8 tasks: rows within a 128-row scale block (a divisor of 128). Whole
    // blocks (512 KiB of a 4096-wide weight, about 36 us of one thread in
    // decode) left the threads up to a block apart at the end of every
    // product; the calling thread's wait there held 0.9 ms of a flash-shape
    // token.
    static constexpr int64_t kFp8TaskRows = 32, kFp8TaskParts = 128 / kFp8TaskRows;

    // y[i * ldy + r - row0] = W[r] . x[i] for r in [row0, row0 + rows), i < n.
    void prepare(const Kernels& k, const Linear& w, int64_t row0, int64_t rows, const float* x, int64_t ldx, int64_t n,
                 float* y, int64_t ldy, int threads);
    int64_t tasks() const { return tasks_; }
    void run_task(int64_t t) const { run_task(t, *w_, y_); }
    // Task t of the same product for another weight of the same format and
    // shape on the same activations (an expert's w3 next to its w1: x is
    // prepared once), writing y (ldy as prepared).
    void run_task(int64_t t, const Linear& w, float* y) const;

private:
    const Kernels* k_ = nullptr;
    const Linear* w_ = nullptr;
    int64_t row0_ = 0, rows_ = 0, n_ = 0, ldy_ = 0, chunk_ = 0, tasks_ = 0, xld_ = 0;
    float* y_ = nullptr;
    // FP8 through Kernels::fp8_order_scale_x: each task orders and scales the
    // caller's x itself (no xd_).
    const float* x_ = nullptr;
    int64_t ldx_ = 0;
    bool fp8_fused_ = false;
    uint64_t generation_ = 0;  // FP8: this prepare()'s number (run_task's x cache)
    std::vector<double> xd_;   // [n][xld_]: FP4 paired, FP8 in the kernel's order
    Fp4FixedBuffers fixed_;
    bool use_fixed_ = false;
};

}  // namespace dsv4::cpu
