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

// In place: x <- (x . H_n) / sqrt(n), H_n the Sylvester Hadamard matrix
// (n a power of two).
void hadamard_transform(float* x, int64_t n);

}  // namespace dsv4
