// Scalar reference decoding of the checkpoint number formats. Fast kernels
// (backends/cpu) are tested against these.
#pragma once

#include <cstdint>
#include <cstring>

namespace dsv4 {

// FP8 e4m3fn: bias 7, subnormals, no infinities; 0x7F and 0xFF are NaN.
float fp8_e4m3_to_float(uint8_t code);
// UE8M0 scale: 2^(e - 127); 0xFF is NaN.
float e8m0_to_float(uint8_t code);
// FP4 e2m1 code (low 4 bits): {0,.5,1,1.5,2,3,4,6} with sign in bit 3.
float fp4_e2m1_to_float(uint8_t nibble);

inline float bf16_to_float(uint16_t v) {
    uint32_t bits = uint32_t(v) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}
float fp16_to_float(uint16_t v);

// Lookup tables for hot loops: index by code.
extern const float kFp8E4m3Table[256];
extern const float kFp4E2m1Table[16];

// Dequantizes row `row` of an FP8 weight [out, in] with 128x128 block scales
// [ceil(out/128), ceil(in/128)] into dst[in].
void dequant_fp8_row(const uint8_t* w, const uint8_t* scale, int64_t in, int64_t row, float* dst);
// Dequantizes row `row` of a packed FP4 weight [out, in/2] (element 2j in the
// low nibble) with scales [out, in/32] into dst[in].
void dequant_fp4_row(const uint8_t* w, const uint8_t* scale, int64_t in, int64_t row, float* dst);

}  // namespace dsv4
