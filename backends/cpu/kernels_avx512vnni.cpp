// The AVX-512 kernel table for CPUs with AVX512-VBMI and AVX512-VNNI but no
// AVX512-FP16 (Ice Lake, AMD Zen 4 and later): FP8 weights decode by byte
// unpacking (kernels_avx512_fp8unpack.inc; the avx512fp16 table's shift route
// loses to it on Zen 4), FP4 rows multiply fixed-point activations in
// integers as in the avx512fp16 table, and the GEMM's FP8 block decoder goes
// FP16 -> float -> double. See kernels_avx512.inc.
#define DSV4_KERNELS_TARGET "avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi,avx512vnni,fma,f16c,bmi,bmi2"
#define DSV4_KERNELS_FP16 0
#define DSV4_KERNELS_VBMI 1
#define DSV4_KERNELS_VNNI 1
#define DSV4_KERNELS_ISA Isa::Avx512Vnni
#define DSV4_KERNELS_TABLE kernels_avx512vnni
#include "cpu/kernels_avx512.inc"
