// RMSNorm in float32: out = w * (x / sqrt(mean(x^2) + eps)).
#pragma once

#include <cstdint>

#include "safetensors.h"

namespace dsv4 {

// weight: BF16 [n] (NULL: no weight). out may alias x.
void rms_norm(const float* x, int64_t n, const Tensor* weight, float eps, float* out);
// The same over `rows` consecutive rows of width n.
void rms_norm_rows(const float* x, int64_t rows, int64_t n, const Tensor* weight, float eps, float* out);

}  // namespace dsv4
