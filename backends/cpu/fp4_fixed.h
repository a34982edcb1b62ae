// FP4 matrix-vector products in integers (the AVX512-VNNI and AVX2 routes of
// the cpu backend's FP4 kernels; AVX2 holds the same digits in words, see
// "word layout" below).
//
// The double-accumulating FP4 kernel spends three instructions per 8 weights
// (an index shift, a table permute, an FMA) and runs at a third of the read
// bandwidth. Here each token's activations become one fixed-point vector
//     x[i] ~= X[i] * 2^exp,   |X[i]| <= 2^38,
// held as kFp4Limbs signed base-256 digits (X = sum_k d_k 256^k, d_k in
// [-128, 127]). An FP4 weight times its block scale is 2v * 2^(e_b - 128) with
// 2v an integer in [-12, 12]; relative to the row's smallest scale e_min it
// is (2v << (e_b - e_min)), an integer in [-96, 96] while the row's scales
// span at most kFp4FixedSpread (3) binades. Stored with +128 as an unsigned
// byte, 64 weights times 64 digits of one limb is one vpdpbusd, and
//     sum_i w_i x_i = 2^(e_min - 127 + exp - 1) * sum_k 256^k (A_k - 128 C_k)
// with A_k the int32 lane sums of limb k and C_k = sum_i d_k[i] (the +128
// offset's share, the same for every row). The int32 sums are exact, and so
// is their join, in 64- or 128-bit integers; the total is rounded once to
// double and once to float. The rounding that matters is that of x onto the
// grid 2^exp: |error| <= 2^-38 max|x|
// sum|w| (a float-accumulated product errs by about 2^-24 sum|w x|).
#pragma once

#include <cstdint>
#include <vector>

namespace dsv4::cpu {

constexpr int kFp4Limbs = 5;
// Widest span of block-scale exponents within a row the integer route takes.
constexpr int kFp4FixedSpread = 3;
// Longest row: int32 lanes gather in/16 products of at most 224 * 128.
constexpr int64_t kFp4FixedMaxIn = int64_t(1) << 19;

// Inputs are taken 64 at a time ("chunks"); in chunk c, byte p of a limb holds
// the digit of input 64c + 2p (p < 32) or 64c + 2(p - 32) + 1 (p >= 32): the
// order in which the kernel spreads a row's 32 packed bytes (low nibbles
// first, then high nibbles). A last half chunk is zero padded.
struct Fp4FixedX {
    const int8_t* digits = nullptr;       // per token: chunks x kFp4Limbs x 64 bytes
    int64_t ld = 0;                       // bytes from one token's digits to the next
    const int* exp = nullptr;             // per token
    const int64_t* digit_sums = nullptr;  // per token: kFp4Limbs sums C_k
};

// One token's digits (chunks x kFp4Limbs x 64 bytes), exponent and digit
// sums from x[in] (in a multiple of 32). Returns false, leaving the outputs
// unspecified, when an activation is not finite (the caller then takes the
// double route, which carries NaN and infinity as the reference does).
using Fp4FixedDigitsFn = bool (*)(const float* x, int64_t in, int8_t* digits, int* exp, int64_t* digit_sums);

// The word layout (AVX2, which has no VNNI: kernels_avx2_fp4fixed.inc). The
// same X and exp, held as kFp4Words signed base-2^15 digits (X = sum_k d_k
// 2^(15 k), d_0, d_1 in [-2^14, 2^14), |d_2| <= 2^8 + 1) in 16-bit words,
// for vpmaddwd: per 32-input block, limb k's 32 words at bytes 64 (3 b + k)
// of the token's digits, in the paired order (per 16 inputs the 8 even ones,
// then the 8 odd ones). digit_sums[k] (k < kFp4Words) sums limb k. The
// kernel's weights are (2v << d) + 128 as in the byte layout, so the
// integer total sum_k 2^(15 k) (A_k - 128 C_k) is the same sum_i w_i X_i,
// and a row's float the same bits, as the byte layout's.
constexpr int kFp4Words = 3;
constexpr int64_t kFp4WordsChunkBytes = 2 * kFp4Words * 32 * 2;  // per 64 inputs
bool fp4_fixed_words_portable(const float* x, int64_t in, int8_t* digits, int* exp, int64_t* digit_sums);

// The plain C++ version; the AVX-512 table has a vector one that must give
// the same bytes (tested).
bool fp4_fixed_digits_portable(const float* x, int64_t in, int8_t* digits, int* exp, int64_t* digit_sums);

// Owns the buffers behind an Fp4FixedX.
struct Fp4FixedBuffers {
    std::vector<int8_t> digits;
    std::vector<int> exp;
    std::vector<int64_t> digit_sums;
    int64_t ld = 0;
    Fp4FixedX view() const;
};

// Fills b for x[n][ldx] with `digits` per token, chunk_bytes per 64 inputs
// (kFp4Limbs x 64 for the byte layout, kFp4WordsChunkBytes for the word
// layout); false if any is not finite.
bool fp4_fixed_prepare(const float* x, int64_t ldx, int64_t n, int64_t in, Fp4FixedBuffers& b,
                       Fp4FixedDigitsFn digits = fp4_fixed_digits_portable, int64_t chunk_bytes = kFp4Limbs * 64);

}  // namespace dsv4::cpu
