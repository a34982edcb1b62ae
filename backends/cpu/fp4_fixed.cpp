#include "cpu/fp4_fixed.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace dsv4::cpu {

Fp4FixedX Fp4FixedBuffers::view() const {
    Fp4FixedX v;
    v.digits = digits.data();
    v.ld = ld;
    v.exp = exp.data();
    v.digit_sums = digit_sums.data();
    return v;
}

namespace {
// The grid's exponent for x[in] (false if an element is not finite).
bool fixed_exponent(const float* x, int64_t in, int* exp) {
    float m = 0.0f;
    for (int64_t i = 0; i < in; ++i) {
        if (!std::isfinite(x[i])) return false;
        m = std::max(m, std::fabs(x[i]));
    }
    // |X| <= 2^38 (rounding may reach it), inside the +-2^39 five digits hold.
    *exp = m > 0.0f ? std::ilogb(m) - 37 : 0;
    return true;
}
}  // namespace

bool fp4_fixed_digits_portable(const float* x, int64_t in, int8_t* digits, int* exp, int64_t* digit_sums) {
    if (!fixed_exponent(x, in, exp)) return false;
    const double to_grid = std::ldexp(1.0, -*exp);
    const int64_t chunks = (in + 63) / 64;
    std::fill(digits, digits + chunks * kFp4Limbs * 64, int8_t(0));
    std::fill(digit_sums, digit_sums + kFp4Limbs, int64_t(0));
    for (int64_t i = 0; i < in; ++i) {
        int64_t X = std::llrint(double(x[i]) * to_grid);
        const int64_t c = i / 64, j = i % 64;
        const int64_t pos = (j & 1) ? 32 + j / 2 : j / 2;
        int8_t* dc = digits + c * kFp4Limbs * 64 + pos;
        for (int k = 0; k < kFp4Limbs; ++k) {
            const int8_t digit = int8_t(uint8_t(X & 0xFF));
            dc[k * 64] = digit;
            digit_sums[k] += digit;
            X = (X - digit) / 256;
        }
    }
    return true;
}

bool fp4_fixed_words_portable(const float* x, int64_t in, int8_t* digits, int* exp, int64_t* digit_sums) {
    if (!fixed_exponent(x, in, exp)) return false;
    const double to_grid = std::ldexp(1.0, -*exp);
    std::fill(digit_sums, digit_sums + kFp4Words, int64_t(0));
    for (int64_t i = 0; i < in; ++i) {
        int64_t X = std::llrint(double(x[i]) * to_grid);
        const int64_t b = i / 32, j = i % 32, h = j / 16, q = j % 16;
        const int64_t pos = 16 * h + ((q & 1) ? 8 + q / 2 : q / 2);
        for (int k = 0; k < kFp4Words; ++k) {
            // Balanced: d in [-2^14, 2^14) for the low limbs, the rest in the top one.
            const int64_t d = k + 1 < kFp4Words ? ((X + (1 << 14)) & 0x7FFF) - (1 << 14) : X;
            const int16_t word = int16_t(d);
            std::memcpy(digits + 64 * (kFp4Words * b + k) + 2 * pos, &word, 2);
            digit_sums[k] += d;
            X = (X - d) / 32768;
        }
    }
    return true;
}

bool fp4_fixed_prepare(const float* x, int64_t ldx, int64_t n, int64_t in, Fp4FixedBuffers& b, Fp4FixedDigitsFn digits,
                       int64_t chunk_bytes) {
    const int64_t ld = (in + 63) / 64 * chunk_bytes;
    b.ld = ld;
    if (int64_t(b.digits.size()) < n * ld) b.digits.resize(size_t(n * ld));
    b.exp.resize(size_t(n));
    b.digit_sums.resize(size_t(n * kFp4Limbs));
    for (int64_t t = 0; t < n; ++t)
        if (!digits(x + t * ldx, in, b.digits.data() + t * ld, &b.exp[size_t(t)], &b.digit_sums[size_t(t * kFp4Limbs)]))
            return false;
    return true;
}

}  // namespace dsv4::cpu
