// Powers of two shared by the exact FP8 and FP4 kernels of the AVX-512 and
// AVX2 tables (kernels_avx512_fp8unpack.inc, kernels_avx2_fp8words.inc,
// kernels_avx512_fp4fixed.inc, kernels_avx2_fp4fixed.inc). Internal linkage:
// each ISA translation unit gets its own copy, so none can leak instructions
// the CPU may lack into another (test isa_units_define_no_weak_symbols).
#pragma once

#include <cstdint>

namespace dsv4::cpu {
namespace {

// The e4m3 value of code c times 2^-512: a normal double for every code but
// zero (the byte-unpacking FP8 kernels' check path; NaN codes as +-480, like
// their vector path).
constexpr double e4m3_times_2m512(int c) {
    const int e = (c >> 3) & 15, m = c & 7;
    // e = 0: m/8 x 2^-6; else (8 + m)/8 x 2^(e - 7).
    double v = e == 0 ? m * 0x1p-521 : (8 + m) * 0x1p-522;
    for (int i = 0; i < e; ++i) v *= 2.0;
    return c & 0x80 ? -v : v;
}

// 2^(emin - 127 + exp - 1): what the FP4 integer route's exact total of a row
// (smallest block scale emin) and a token (grid exponent exp) is scaled by.
inline double fp4_fixed_scale(int emin, int exp) {
    const uint64_t bits = uint64_t(emin - 127 + exp - 1 + 1023) << 52;  // within the normal range
    double scale;
    __builtin_memcpy(&scale, &bits, 8);
    return scale;
}

}  // namespace
}  // namespace dsv4::cpu
