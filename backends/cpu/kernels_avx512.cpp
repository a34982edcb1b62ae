// The AVX-512 kernel table (F/BW/VL/DQ): see kernels_avx512.inc.
#define DSV4_KERNELS_TARGET "avx512f,avx512bw,avx512vl,avx512dq,fma,f16c,bmi,bmi2"
#define DSV4_KERNELS_FP16 0
#define DSV4_KERNELS_VBMI 0
#define DSV4_KERNELS_VNNI 0
#define DSV4_KERNELS_ISA Isa::Avx512
#define DSV4_KERNELS_TABLE kernels_avx512
#include "cpu/kernels_avx512.inc"
