#include "linear.h"

#include "error.h"
#include "quant.h"

namespace dsv4 {

void dequant_linear_row(const Linear& w, int64_t row, float* dst) {
    if (row < 0 || row >= w.out)
        fail(DSV4_STATUS_INTERNAL, "row " + std::to_string(row) + " out of range for '" + w.weight->name + "'");
    switch (w.format) {
        case LinearFormat::BF16: {
            const uint16_t* src = w.weight->as<uint16_t>() + row * w.in;
            for (int64_t j = 0; j < w.in; ++j) dst[j] = bf16_to_float(src[j]);
            return;
        }
        case LinearFormat::FP8: dequant_fp8_row(w.weight->data, w.scale->data, w.in, row, dst); return;
        case LinearFormat::FP4: dequant_fp4_row(w.weight->data, w.scale->data, w.in, row, dst); return;
    }
}

}  // namespace dsv4
