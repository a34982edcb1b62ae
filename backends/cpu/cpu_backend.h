// "cpu": the default backend. It shares the reference kernels except where it
// has a faster one (today: tiled dequantize + Eigen GEMM for linears); a
// later stage adds SIMD kernels and threads.
#pragma once

#include "reference/reference_backend.h"

namespace dsv4 {

class CpuBackend : public ReferenceBackend {
public:
    const char* name() const override { return "cpu"; }
    void matmul(const Linear& w, int64_t row0, int64_t rows, const float* x, int64_t ldx, int64_t n, float* y,
                int64_t ldy) const override;
};

}  // namespace dsv4
