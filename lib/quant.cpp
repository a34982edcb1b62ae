#include "quant.h"

#include <cmath>
#include <limits>

namespace dsv4 {

float fp8_e4m3_to_float(uint8_t code) {
    const int sign = code >> 7;
    const int exp = (code >> 3) & 0xF;
    const int man = code & 0x7;
    float v;
    if (exp == 0xF && man == 0x7) return std::numeric_limits<float>::quiet_NaN();
    if (exp == 0) v = std::ldexp(float(man) / 8.0f, -6);  // subnormal
    else v = std::ldexp(1.0f + float(man) / 8.0f, exp - 7);
    return sign ? -v : v;
}

float e8m0_to_float(uint8_t code) {
    if (code == 0xFF) return std::numeric_limits<float>::quiet_NaN();
    return std::ldexp(1.0f, int(code) - 127);
}

float fp4_e2m1_to_float(uint8_t nibble) {
    static const float mag[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
    const float v = mag[nibble & 7];
    return (nibble & 8) ? -v : v;
}

float fp16_to_float(uint16_t h) {
    const int sign = h >> 15;
    const int exp = (h >> 10) & 0x1F;
    const int man = h & 0x3FF;
    float v;
    if (exp == 0) v = std::ldexp(float(man), -24);
    else if (exp == 31) v = man ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
    else v = std::ldexp(1.0f + float(man) / 1024.0f, exp - 15);
    return sign ? -v : v;
}

const float kFp8E4m3Table[256] = {
#define E(i) fp8_e4m3_to_float(i)
#define R8(b) E(b), E(b + 1), E(b + 2), E(b + 3), E(b + 4), E(b + 5), E(b + 6), E(b + 7)
#define R64(b) R8(b), R8(b + 8), R8(b + 16), R8(b + 24), R8(b + 32), R8(b + 40), R8(b + 48), R8(b + 56)
    R64(0), R64(64), R64(128), R64(192)
#undef R64
#undef R8
#undef E
};
const float kFp4E2m1Table[16] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
                                 -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

void dequant_fp8_row(const uint8_t* w, const uint8_t* scale, int64_t in, int64_t row, float* dst) {
    const int64_t scale_cols = (in + 127) / 128;
    const uint8_t* s = scale + (row / 128) * scale_cols;
    const uint8_t* q = w + row * in;
    for (int64_t j = 0; j < in; ++j) dst[j] = kFp8E4m3Table[q[j]] * e8m0_to_float(s[j / 128]);
}

void dequant_fp4_row(const uint8_t* w, const uint8_t* scale, int64_t in, int64_t row, float* dst) {
    const uint8_t* q = w + row * (in / 2);
    const uint8_t* s = scale + row * (in / 32);
    for (int64_t j = 0; j < in / 2; ++j) {
        const float sc = e8m0_to_float(s[(2 * j) / 32]);
        dst[2 * j] = kFp4E2m1Table[q[j] & 0xF] * sc;
        dst[2 * j + 1] = kFp4E2m1Table[q[j] >> 4] * sc;
    }
}

}  // namespace dsv4
