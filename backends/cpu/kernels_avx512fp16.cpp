// The AVX-512 kernel table for CPUs with AVX512-FP16 as well (FP8 weights
// convert FP16 -> double directly): see kernels_avx512.inc.
#define DSV4_KERNELS_TARGET "avx512f,avx512bw,avx512vl,avx512dq,avx512fp16,fma,f16c,bmi,bmi2"
#define DSV4_KERNELS_FP16 1
#define DSV4_KERNELS_ISA Isa::Avx512Fp16
#define DSV4_KERNELS_TABLE kernels_avx512fp16
#include "cpu/kernels_avx512.inc"
