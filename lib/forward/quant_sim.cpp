#include "forward/quant_sim.h"

#include <algorithm>
#include <cmath>

#include "error.h"

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

void simulate(float* x, int64_t n, int block, float amax_floor, float qmax, float (*round)(float)) {
    if (block <= 0 || n % block)
        fail(DSV4_STATUS_INTERNAL, "quantization block " + std::to_string(block) + " does not divide " + std::to_string(n));
    for (int64_t b = 0; b < n; b += block) {
        float amax = 0.0f;
        for (int j = 0; j < block; ++j) amax = std::max(amax, std::fabs(x[b + j]));
        const float s = block_scale_pow2(amax, amax_floor, qmax);
        for (int j = 0; j < block; ++j) {
            const float q = std::min(std::max(x[b + j] / s, -qmax), qmax);
            x[b + j] = round(q) * s;
        }
    }
}

}  // namespace

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
