// Row access to a dsv4::Linear kept in its checkpoint format.
#pragma once

#include <cstdint>

#include "weights.h"

namespace dsv4 {

// Dequantizes row `row` of W [out, in] into dst[in] (BF16, FP8 with 128x128
// block scales, or packed FP4 with one scale per 32 inputs).
void dequant_linear_row(const Linear& w, int64_t row, float* dst);

}  // namespace dsv4
