#include "forward/norm.h"

#include <cmath>

#include "quant.h"

namespace dsv4 {

void rms_norm(const float* x, int64_t n, const Tensor* weight, float eps, float* out) {
    double ss = 0.0;
    for (int64_t j = 0; j < n; ++j) ss += double(x[j]) * double(x[j]);
    const float rs = 1.0f / std::sqrt(float(ss / double(n)) + eps);
    const uint16_t* w = weight ? weight->as<uint16_t>() : nullptr;
    for (int64_t j = 0; j < n; ++j) {
        const float v = x[j] * rs;
        out[j] = w ? bf16_to_float(w[j]) * v : v;
    }
}

void rms_norm_rows(const float* x, int64_t rows, int64_t n, const Tensor* weight, float eps, float* out) {
    for (int64_t r = 0; r < rows; ++r) rms_norm(x + r * n, n, weight, eps, out + r * n);
}

}  // namespace dsv4
