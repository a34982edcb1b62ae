// The quantization simulation the model was trained with (QAT): values are
// snapped onto the FP8 e4m3 / FP4 e2m1 grid with power-of-two block scales
// and kept in float32. Also the Hadamard rotation used before FP4.
#pragma once

#include <cstdint>

namespace dsv4 {

constexpr float kFp8Max = 448.0f;
constexpr float kFp4Max = 6.0f;

// Nearest e4m3fn value, ties to even; |v| must be <= 448.
float round_to_e4m3(float v);
// Nearest e2m1 value, ties to even; |v| must be <= 6.
float round_to_e2m1(float v);

// The power-of-two block scale: 2^ceil(log2(max(amax, floor) / qmax)),
// computed in float32 as the reference kernels do.
float block_scale_pow2(float amax, float amax_floor, float qmax);

// In place over x[0..n) in blocks of `block` (n % block == 0):
// v <- round(clamp(v / s, +-qmax)) * s with s the block's scale.
void fp8_simulate(float* x, int64_t n, int block);
void fp4_simulate(float* x, int64_t n, int block);

// Compact storage of simulated values (the session's KV state): the same
// rounding as fp8_simulate / fp4_simulate (x is left holding exactly the
// values they produce), also written as codes plus one E8M0 scale byte per
// block, so that dequantizing gives back those values bit for bit.
// FP8: codes[n] e4m3fn, scales[n / block].
void fp8_quantize(float* x, int64_t n, int block, uint8_t* codes, uint8_t* scales);
void fp8_dequantize(const uint8_t* codes, const uint8_t* scales, int64_t n, int block, float* out);
// FP4: packed[n / 2] e2m1 codes, element 2j in the low nibble; scales[n / block].
void fp4_quantize(float* x, int64_t n, int block, uint8_t* packed, uint8_t* scales);
void fp4_dequantize(const uint8_t* packed, const uint8_t* scales, int64_t n, int block, float* out);
// The code of a value on the grid (sign of zero kept; NaN -> 0x7F for e4m3).
uint8_t e4m3_code(float v);
uint8_t e2m1_code(float v);

// In place: x <- (x . H_n) / sqrt(n), H_n the Sylvester Hadamard matrix
// (n a power of two).
void hadamard_transform(float* x, int64_t n);

}  // namespace dsv4
