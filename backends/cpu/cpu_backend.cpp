#include "cpu/cpu_backend.h"

#include <algorithm>
#include <vector>

#include <Eigen/Core>

#include "linear.h"

namespace dsv4 {

void CpuBackend::matmul(const Linear& w, int64_t row0, int64_t rows, const float* x, int64_t ldx, int64_t n,
                        float* y, int64_t ldy) const {
    using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    // Dequantize a tile of rows (bounded scratch, never the whole weight), then
    // one GEMM of the tile against every activation row. Products accumulate
    // in double: the model snaps activations onto FP8/FP4 grids, and float
    // accumulation error flips values that sit near a rounding midpoint,
    // which the conformance vectors (computed with accurate sums) notice.
    constexpr int64_t kTile = 64;
    const int64_t in = w.in;
    RowMat X(n, in);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < in; ++j) X(i, j) = double(x[i * ldx + j]);
    std::vector<float> row(static_cast<size_t>(in));
    RowMat W(kTile, in);
    RowMat Y;
    for (int64_t t0 = 0; t0 < rows; t0 += kTile) {
        const int64_t tr = std::min(kTile, rows - t0);
        for (int64_t r = 0; r < tr; ++r) {
            dequant_linear_row(w, row0 + t0 + r, row.data());
            for (int64_t j = 0; j < in; ++j) W(r, j) = double(row[size_t(j)]);
        }
        Y.noalias() = X * W.topRows(tr).transpose();
        for (int64_t i = 0; i < n; ++i)
            for (int64_t r = 0; r < tr; ++r) y[i * ldy + t0 + r] = float(Y(i, r));
    }
}

}  // namespace dsv4
