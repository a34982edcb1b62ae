#include "forward/quant_sim.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "error.h"
#include "quant.h"

namespace dsv4 {

namespace {

// Rounds v to a grid with `mant_bits` mantissa bits whose smallest normal
// exponent is `min_exp` (below it the spacing stays 2^(min_exp - mant_bits)).
// std::nearbyint rounds half to even in the default rounding mode.
float round_to_minifloat(float v, int mant_bits, int min_exp) {
    if (v == 0.0f || !std::isfinite(v)) return v;
    int e = std::ilogb(v);
    if (e < min_exp) e = min_exp;
    const float step = std::ldexp(1.0f, e - mant_bits);
    return std::nearbyint(v / step) * step;
}

// The one quantization loop behind both the simulation and the encoders:
// emit(j, grid_value) sees every element's value on the e4m3 / e2m1 grid
// before scaling, and scale_exponent(b, e) each block's scale 2^e.
template <class Emit, class Scale>
void quantize(float* x, int64_t n, int block, float amax_floor, float qmax, float (*round)(float), Emit emit,
              Scale scale_exponent) {
    if (block <= 0 || n % block)
        fail(DSV4_STATUS_INTERNAL, "quantization block " + std::to_string(block) + " does not divide " + std::to_string(n));
    for (int64_t b = 0; b < n; b += block) {
        float amax = 0.0f;
        for (int j = 0; j < block; ++j) amax = std::max(amax, std::fabs(x[b + j]));
        const float s = block_scale_pow2(amax, amax_floor, qmax);
        scale_exponent(b / block, s);
        for (int j = 0; j < block; ++j) {
            const float q = round(std::min(std::max(x[b + j] / s, -qmax), qmax));
            emit(b + j, q);
            x[b + j] = q * s;
        }
    }
}

void simulate(float* x, int64_t n, int block, float amax_floor, float qmax, float (*round)(float)) {
    quantize(x, n, block, amax_floor, qmax, round, [](int64_t, float) {}, [](int64_t, float) {});
}

// The E8M0 byte of a power-of-two scale (exactly 2^(byte - 127)).
uint8_t scale_byte(float s) {
    const int e = std::ilogb(s);
    if (!(e >= -126 && e <= 127 && std::ldexp(1.0f, e) == s))
        fail(DSV4_STATUS_INTERNAL, "block scale " + std::to_string(s) + " is not a normal power of two");
    return uint8_t(e + 127);
}

// 2^(byte - 127) for the bytes scale_byte writes (1..254): built from the bits.
float scale_value(uint8_t byte) {
    const uint32_t bits = uint32_t(byte) << 23;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

}  // namespace

uint8_t e4m3_code(float v) {
    if (std::isnan(v)) return 0x7F;
    const uint8_t sign = std::signbit(v) ? 0x80 : 0x00;
    const float a = std::fabs(v);
    if (a == 0.0f) return sign;
    if (a < 0.015625f) return uint8_t(sign | uint8_t(a * 512.0f));  // subnormal: multiples of 2^-9
    const int e = std::ilogb(a);                                     // -6..8
    const int man = int(std::ldexp(a, 3 - e)) - 8;                    // 0..7
    return uint8_t(sign | uint8_t((e + 7) << 3) | uint8_t(man));
}

uint8_t e2m1_code(float v) {
    const uint8_t sign = std::signbit(v) ? 0x8 : 0x0;
    const float a = std::fabs(v);
    uint8_t m;
    if (a <= 2.0f) m = uint8_t(a * 2.0f);  // 0, .5, 1, 1.5, 2
    else if (a == 3.0f) m = 5;
    else if (a == 4.0f) m = 6;
    else m = 7;  // 6
    return uint8_t(sign | m);
}

void fp8_quantize(float* x, int64_t n, int block, uint8_t* codes, uint8_t* scales) {
    quantize(
        x, n, block, 1e-4f, kFp8Max, round_to_e4m3, [&](int64_t j, float q) { codes[j] = e4m3_code(q); },
        [&](int64_t b, float s) { scales[b] = scale_byte(s); });
}

void fp8_dequantize(const uint8_t* codes, const uint8_t* scales, int64_t n, int block, float* out) {
    for (int64_t b = 0; b < n; b += block) {
        const float s = scale_value(scales[b / block]);
        for (int j = 0; j < block; ++j) out[b + j] = kFp8E4m3Table[codes[b + j]] * s;
    }
}

void fp4_quantize(float* x, int64_t n, int block, uint8_t* packed, uint8_t* scales) {
    if (n % 2 || block % 2) fail(DSV4_STATUS_INTERNAL, "FP4 packing needs an even length and block");
    quantize(
        x, n, block, 6.0f * std::ldexp(1.0f, -126), kFp4Max, round_to_e2m1,
        [&](int64_t j, float q) {
            const uint8_t c = e2m1_code(q);
            uint8_t& byte = packed[j / 2];
            byte = (j % 2) ? uint8_t((byte & 0x0F) | (c << 4)) : uint8_t((byte & 0xF0) | c);
        },
        [&](int64_t b, float s) { scales[b] = scale_byte(s); });
}

void fp4_dequantize(const uint8_t* packed, const uint8_t* scales, int64_t n, int block, float* out) {
    for (int64_t b = 0; b < n; b += block) {
        const float s = scale_value(scales[b / block]);
        for (int j = 0; j < block; j += 2) {
            const uint8_t byte = packed[(b + j) / 2];
            out[b + j] = kFp4E2m1Table[byte & 0xF] * s;
            out[b + j + 1] = kFp4E2m1Table[byte >> 4] * s;
        }
    }
}

float round_to_e4m3(float v) { return round_to_minifloat(v, 3, -6); }
float round_to_e2m1(float v) { return round_to_minifloat(v, 1, 0); }

float block_scale_pow2(float amax, float amax_floor, float qmax) {
    // amax * (1/qmax) with the reciprocal rounded to float32 first, then
    // log2 / ceil / exp2 in float32: the reference's exact sequence.
    const float s = std::max(amax, amax_floor) * (1.0f / qmax);
    return std::exp2(std::ceil(std::log2(s)));
}

void fp8_simulate(float* x, int64_t n, int block) { simulate(x, n, block, 1e-4f, kFp8Max, round_to_e4m3); }
void fp4_simulate(float* x, int64_t n, int block) {
    simulate(x, n, block, 6.0f * std::ldexp(1.0f, -126), kFp4Max, round_to_e2m1);
}

void hadamard_transform(float* x, int64_t n) {
    if (n <= 0 || (n & (n - 1))) fail(DSV4_STATUS_INTERNAL, "Hadamard size " + std::to_string(n) + " is not a power of two");
    // Fast Walsh-Hadamard butterflies give x . H for the Sylvester ordering.
    for (int64_t len = 1; len < n; len <<= 1)
        for (int64_t i = 0; i < n; i += 2 * len)
            for (int64_t j = i; j < i + len; ++j) {
                const float a = x[j], b = x[j + len];
                x[j] = a + b;
                x[j + len] = a - b;
            }
    const float scale = float(1.0 / std::sqrt(double(n)));
    for (int64_t j = 0; j < n; ++j) x[j] *= scale;
}

}  // namespace dsv4
