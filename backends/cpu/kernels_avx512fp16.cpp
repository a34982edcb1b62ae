// The AVX-512 kernel table for CPUs with AVX512-FP16, AVX512-VBMI and
// AVX512-VNNI as well (Sapphire Rapids and later): FP8 weights decode by
// 16-bit shifts and byte permutes, FP4 rows multiply fixed-point activations
// in integers, and the GEMM's block decoder converts FP16 -> double directly. See
// kernels_avx512.inc.
#define DSV4_KERNELS_TARGET "avx512f,avx512bw,avx512vl,avx512dq,avx512fp16,avx512vbmi,avx512vnni,fma,f16c,bmi,bmi2"
#define DSV4_KERNELS_FP16 1
#define DSV4_KERNELS_VBMI 1
#define DSV4_KERNELS_VNNI 1
#define DSV4_KERNELS_ISA Isa::Avx512Fp16
#define DSV4_KERNELS_TABLE kernels_avx512fp16
#include "cpu/kernels_avx512.inc"
