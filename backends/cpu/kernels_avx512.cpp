// AVX-512 (F/BW/VL/DQ) kernels. Compiled for that target by the pragma below
// and only called when the CPU has it. Everything here has internal linkage
// and uses no C++ library templates, so no AVX-512 code can leak into inline
// functions shared with the rest of the library.
#include <cstdint>

#include "cpu/kernels.h"
#include "quant.h"

#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
// GCC 12 reports the intentionally undefined upper halves of its own cast
// intrinsics as uninitialized.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c,bmi,bmi2")
#include <immintrin.h>

namespace dsv4::cpu {

namespace {

// --- decoding 16 weights into two vectors of 8 doubles -----------------------

// FP8 e4m3 -> the FP16 with the same bits moved into place: s 0eeee mmm0000000.
// Its value is the e4m3 value / 256 for every code (subnormals included), so
// the hardware FP16 conversion does the work. 0x7F / 0xFF (NaN in e4m3)
// decode as +-480 / 256; checkpoints do not contain them.
inline void fp8_decode(__m128i codes, __m512d& lo, __m512d& hi) {
    __m256i h = _mm256_cvtepu8_epi16(codes);
    h = _mm256_srai_epi16(_mm256_slli_epi16(h, 8), 1);
    h = _mm256_and_si256(h, _mm256_set1_epi16(int16_t(0xBFFF)));
    const __m512 f = _mm512_cvtph_ps(h);
    lo = _mm512_cvtps_pd(_mm512_castps512_ps256(f));
    hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(f), 1)));
}

struct Fp8Dec {
    const uint8_t* w;
    void operator()(int64_t k, __m512d& lo, __m512d& hi) const {
        fp8_decode(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + k)), lo, hi);
    }
    void masked(int64_t k, __mmask16 m, __m512d& lo, __m512d& hi) const {
        fp8_decode(_mm_maskz_loadu_epi8(m, w + k), lo, hi);
    }
};

inline void bf16_decode(__m256i v, __m512d& lo, __m512d& hi) {
    const __m512 f = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
    lo = _mm512_cvtps_pd(_mm512_castps512_ps256(f));
    hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(f), 1)));
}

struct Bf16Dec {
    const uint16_t* w;
    void operator()(int64_t k, __m512d& lo, __m512d& hi) const {
        bf16_decode(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + k)), lo, hi);
    }
    void masked(int64_t k, __mmask16 m, __m512d& lo, __m512d& hi) const {
        bf16_decode(_mm256_maskz_loadu_epi16(m, w + k), lo, hi);
    }
};

// NR rows x NT tokens of a row-major BF16 / FP8 weight, decoded 16 at a time.
template <int NR, int NT, class Dec>
inline void dense_tile(const Dec* dec, int64_t in, const double* x, int64_t ldx, float* y, int64_t ldy) {
    __m512d acc[NR][NT][2];
#pragma GCC unroll 8
    for (int r = 0; r < NR; ++r)
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) acc[r][t][0] = acc[r][t][1] = _mm512_setzero_pd();
    int64_t k = 0;
    for (; k + 16 <= in; k += 16) {
#pragma GCC unroll 8
        for (int r = 0; r < NR; ++r) {
            __m512d lo, hi;
            dec[r](k, lo, hi);
#pragma GCC unroll 8
            for (int t = 0; t < NT; ++t) {
                acc[r][t][0] = _mm512_fmadd_pd(lo, _mm512_loadu_pd(x + t * ldx + k), acc[r][t][0]);
                acc[r][t][1] = _mm512_fmadd_pd(hi, _mm512_loadu_pd(x + t * ldx + k + 8), acc[r][t][1]);
            }
        }
    }
    if (k < in) {
        const __mmask16 m = __mmask16((1u << (in - k)) - 1u);
        const __mmask8 mlo = __mmask8(m & 0xFF), mhi = __mmask8(m >> 8);
#pragma GCC unroll 8
        for (int r = 0; r < NR; ++r) {
            __m512d lo, hi;
            dec[r].masked(k, m, lo, hi);
#pragma GCC unroll 8
            for (int t = 0; t < NT; ++t) {
                acc[r][t][0] = _mm512_fmadd_pd(lo, _mm512_maskz_loadu_pd(mlo, x + t * ldx + k), acc[r][t][0]);
                acc[r][t][1] = _mm512_fmadd_pd(hi, _mm512_maskz_loadu_pd(mhi, x + t * ldx + k + 8), acc[r][t][1]);
            }
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < NR; ++r)
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t)
            y[t * ldy + r] = float(_mm512_reduce_add_pd(_mm512_add_pd(acc[r][t][0], acc[r][t][1])));
}

template <int NR, int NT, class T, class Dec>
inline void dense_rows(const T* w, int64_t in, int64_t r0, int64_t r1, const double* x, int64_t ldx, float* y,
                       int64_t ldy) {
    for (; r0 < r1; r0 += NR) {
        if (r1 - r0 < NR) {
            for (; r0 < r1; ++r0) {
                Dec d1[1] = {Dec{w + r0 * in}};
                dense_tile<1, NT>(d1, in, x, ldx, y + r0, ldy);
            }
            return;
        }
        Dec d[NR];
        for (int r = 0; r < NR; ++r) d[r] = Dec{w + (r0 + r) * in};
        dense_tile<NR, NT>(d, in, x, ldx, y + r0, ldy);
    }
}

template <class T, class Dec>
void dense_gemv(const T* w, int64_t in, int64_t rows, const double* x, int64_t ldx, int64_t n, float* y,
                int64_t ldy) {
    for (int64_t t0 = 0; t0 < n; t0 += 8) {
        const double* xt = x + t0 * ldx;
        float* yt = y + t0 * ldy;
        switch (n - t0 < 8 ? n - t0 : 8) {
            case 1: dense_rows<4, 1, T, Dec>(w, in, 0, rows, xt, ldx, yt, ldy); break;
            case 2: dense_rows<2, 2, T, Dec>(w, in, 0, rows, xt, ldx, yt, ldy); break;
            case 3: dense_rows<2, 3, T, Dec>(w, in, 0, rows, xt, ldx, yt, ldy); break;
            case 4: dense_rows<2, 4, T, Dec>(w, in, 0, rows, xt, ldx, yt, ldy); break;
            case 5: dense_rows<1, 5, T, Dec>(w, in, 0, rows, xt, ldx, yt, ldy); break;
            case 6: dense_rows<1, 6, T, Dec>(w, in, 0, rows, xt, ldx, yt, ldy); break;
            case 7: dense_rows<1, 7, T, Dec>(w, in, 0, rows, xt, ldx, yt, ldy); break;
            default: dense_rows<1, 8, T, Dec>(w, in, 0, rows, xt, ldx, yt, ldy); break;
        }
    }
}

void gemv_bf16(const uint16_t* w, int64_t in, int64_t rows, const double* x, int64_t ldx, int64_t n, float* y,
               int64_t ldy) {
    dense_gemv<uint16_t, Bf16Dec>(w, in, rows, x, ldx, n, y, ldy);
}

void gemv_fp8(const uint8_t* w, int64_t in, int64_t rows, const double* x, int64_t ldx, int64_t n, float* y,
              int64_t ldy) {
    dense_gemv<uint8_t, Fp8Dec>(w, in, rows, x, ldx, n, y, ldy);
}

// --- FP4: two nibbles per byte, one UE8M0 scale per 32 inputs ---------------

inline double e8m0_double(uint8_t e) {
    if (e == 0xFF) return __builtin_nan("");
    const uint64_t bits = uint64_t(e + 1023 - 127) << 52;
    double d;
    __builtin_memcpy(&d, &bits, 8);
    return d;
}

// Byte j of a broadcast qword lands in lane j; vpermt2pd reads the low 4 bits
// of each lane as an index into the 16-entry (scaled) code table.
template <int NR, int NT>
inline void fp4_tile(const uint8_t* const* w, const uint8_t* const* s, int64_t in, const double* x, int64_t ldx,
                     float* y, int64_t ldy) {
    const __m512i sh_lo = _mm512_setr_epi64(0, 8, 16, 24, 32, 40, 48, 56);
    const __m512i sh_hi = _mm512_add_epi64(sh_lo, _mm512_set1_epi64(4));
    const __m512d tab0 = _mm512_setr_pd(0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0);
    const __m512d tab1 = _mm512_setr_pd(-0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0);
    __m512d acc[NR][NT][2];
#pragma GCC unroll 8
    for (int r = 0; r < NR; ++r)
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) acc[r][t][0] = acc[r][t][1] = _mm512_setzero_pd();
    for (int64_t g = 0; g < in; g += 32) {
        __m512d t0[NR], t1[NR];
#pragma GCC unroll 8
        for (int r = 0; r < NR; ++r) {
            const __m512d sc = _mm512_set1_pd(e8m0_double(s[r][g / 32]));
            t0[r] = _mm512_mul_pd(tab0, sc);
            t1[r] = _mm512_mul_pd(tab1, sc);
        }
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
            const int64_t k = g + 16 * h;
#pragma GCC unroll 8
            for (int r = 0; r < NR; ++r) {
                uint64_t bytes;
                __builtin_memcpy(&bytes, w[r] + k / 2, 8);
                const __m512i q = _mm512_set1_epi64(int64_t(bytes));
                const __m512d we = _mm512_permutex2var_pd(t0[r], _mm512_srlv_epi64(q, sh_lo), t1[r]);
                const __m512d wo = _mm512_permutex2var_pd(t0[r], _mm512_srlv_epi64(q, sh_hi), t1[r]);
#pragma GCC unroll 8
                for (int t = 0; t < NT; ++t) {
                    acc[r][t][0] = _mm512_fmadd_pd(we, _mm512_loadu_pd(x + t * ldx + k), acc[r][t][0]);
                    acc[r][t][1] = _mm512_fmadd_pd(wo, _mm512_loadu_pd(x + t * ldx + k + 8), acc[r][t][1]);
                }
            }
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < NR; ++r)
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t)
            y[t * ldy + r] = float(_mm512_reduce_add_pd(_mm512_add_pd(acc[r][t][0], acc[r][t][1])));
}

template <int NR, int NT>
inline void fp4_rows(const uint8_t* w, const uint8_t* s, int64_t in, int64_t rows, const double* x, int64_t ldx,
                     float* y, int64_t ldy) {
    int64_t r0 = 0;
    for (; r0 + NR <= rows; r0 += NR) {
        const uint8_t* wr[NR];
        const uint8_t* sr[NR];
        for (int r = 0; r < NR; ++r) {
            wr[r] = w + (r0 + r) * (in / 2);
            sr[r] = s + (r0 + r) * (in / 32);
        }
        fp4_tile<NR, NT>(wr, sr, in, x, ldx, y + r0, ldy);
    }
    for (; r0 < rows; ++r0) {
        const uint8_t* wr[1] = {w + r0 * (in / 2)};
        const uint8_t* sr[1] = {s + r0 * (in / 32)};
        fp4_tile<1, NT>(wr, sr, in, x, ldx, y + r0, ldy);
    }
}

void gemv_fp4(const uint8_t* w, const uint8_t* s, int64_t in, int64_t rows, const double* x, int64_t ldx, int64_t n,
              float* y, int64_t ldy) {
    for (int64_t t0 = 0; t0 < n; t0 += 8) {
        const double* xt = x + t0 * ldx;
        float* yt = y + t0 * ldy;
        switch (n - t0 < 8 ? n - t0 : 8) {
            case 1: fp4_rows<4, 1>(w, s, in, rows, xt, ldx, yt, ldy); break;
            case 2: fp4_rows<2, 2>(w, s, in, rows, xt, ldx, yt, ldy); break;
            case 3: fp4_rows<2, 3>(w, s, in, rows, xt, ldx, yt, ldy); break;
            case 4: fp4_rows<2, 4>(w, s, in, rows, xt, ldx, yt, ldy); break;
            case 5: fp4_rows<1, 5>(w, s, in, rows, xt, ldx, yt, ldy); break;
            case 6: fp4_rows<1, 6>(w, s, in, rows, xt, ldx, yt, ldy); break;
            case 7: fp4_rows<1, 7>(w, s, in, rows, xt, ldx, yt, ldy); break;
            default: fp4_rows<1, 8>(w, s, in, rows, xt, ldx, yt, ldy); break;
        }
    }
}

// --- prefill GEMM: decoding into scratch, and the micro-kernel --------------

void decode_bf16(const uint16_t* w, int64_t kb, double* dst) {
    Bf16Dec d{w};
    int64_t k = 0;
    for (; k + 16 <= kb; k += 16) {
        __m512d lo, hi;
        d(k, lo, hi);
        _mm512_storeu_pd(dst + k, lo);
        _mm512_storeu_pd(dst + k + 8, hi);
    }
    if (k < kb) {
        const __mmask16 m = __mmask16((1u << (kb - k)) - 1u);
        __m512d lo, hi;
        d.masked(k, m, lo, hi);
        _mm512_mask_storeu_pd(dst + k, __mmask8(m & 0xFF), lo);
        _mm512_mask_storeu_pd(dst + k + 8, __mmask8(m >> 8), hi);
    }
}

void decode_fp8(const uint8_t* w, int64_t kb, double scale, double* dst) {
    Fp8Dec d{w};
    const __m512d s = _mm512_set1_pd(scale);
    int64_t k = 0;
    for (; k + 16 <= kb; k += 16) {
        __m512d lo, hi;
        d(k, lo, hi);
        _mm512_storeu_pd(dst + k, _mm512_mul_pd(lo, s));
        _mm512_storeu_pd(dst + k + 8, _mm512_mul_pd(hi, s));
    }
    if (k < kb) {
        const __mmask16 m = __mmask16((1u << (kb - k)) - 1u);
        __m512d lo, hi;
        d.masked(k, m, lo, hi);
        _mm512_mask_storeu_pd(dst + k, __mmask8(m & 0xFF), _mm512_mul_pd(lo, s));
        _mm512_mask_storeu_pd(dst + k + 8, __mmask8(m >> 8), _mm512_mul_pd(hi, s));
    }
}

void decode_fp4(const uint8_t* w, const uint8_t* s, int64_t kb, double* dst) {
    const __m512i sh_lo = _mm512_setr_epi64(0, 8, 16, 24, 32, 40, 48, 56);
    const __m512i sh_hi = _mm512_add_epi64(sh_lo, _mm512_set1_epi64(4));
    const __m512d tab0 = _mm512_setr_pd(0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0);
    const __m512d tab1 = _mm512_setr_pd(-0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0);
    for (int64_t g = 0; g < kb; g += 32) {
        const __m512d sc = _mm512_set1_pd(e8m0_double(s[g / 32]));
        const __m512d t0 = _mm512_mul_pd(tab0, sc), t1 = _mm512_mul_pd(tab1, sc);
        for (int h = 0; h < 2; ++h) {
            const int64_t k = g + 16 * h;
            uint64_t bytes;
            __builtin_memcpy(&bytes, w + k / 2, 8);
            const __m512i q = _mm512_set1_epi64(int64_t(bytes));
            _mm512_storeu_pd(dst + k, _mm512_permutex2var_pd(t0, _mm512_srlv_epi64(q, sh_lo), t1));
            _mm512_storeu_pd(dst + k + 8, _mm512_permutex2var_pd(t0, _mm512_srlv_epi64(q, sh_hi), t1));
        }
    }
}

// MR weight rows x 16 tokens: per k, two vectors of x^T and MR broadcasts.
template <int MR>
inline void rows_tile(const double* w, int64_t ldw, const double* xt, int64_t ldxt, int64_t kb, double* c,
                      int64_t ldc) {
    __m512d acc[MR][2];
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_pd();
    for (int64_t k = 0; k < kb; ++k) {
        const __m512d x0 = _mm512_loadu_pd(xt + k * ldxt), x1 = _mm512_loadu_pd(xt + k * ldxt + 8);
#pragma GCC unroll 12
        for (int r = 0; r < MR; ++r) {
            const __m512d wb = _mm512_set1_pd(w[r * ldw + k]);
            acc[r][0] = _mm512_fmadd_pd(wb, x0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_pd(wb, x1, acc[r][1]);
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) {
        double* cr = c + r * ldc;
        _mm512_storeu_pd(cr, _mm512_add_pd(_mm512_loadu_pd(cr), acc[r][0]));
        _mm512_storeu_pd(cr + 8, _mm512_add_pd(_mm512_loadu_pd(cr + 8), acc[r][1]));
    }
}

void gemm_rows(const double* w, int64_t ldw, int64_t rows, const double* xt, int64_t ldxt, int64_t ntok, int64_t kb,
               double* c, int64_t ldc) {
    for (int64_t i0 = 0; i0 < ntok; i0 += 16) {
        int64_t r = 0;
        for (; r + 12 <= rows; r += 12) rows_tile<12>(w + r * ldw, ldw, xt + i0, ldxt, kb, c + r * ldc + i0, ldc);
        const double* wr = w + r * ldw;
        double* cr = c + r * ldc + i0;
        switch (rows - r) {
            case 0: break;
            case 1: rows_tile<1>(wr, ldw, xt + i0, ldxt, kb, cr, ldc); break;
            case 2: rows_tile<2>(wr, ldw, xt + i0, ldxt, kb, cr, ldc); break;
            case 3: rows_tile<3>(wr, ldw, xt + i0, ldxt, kb, cr, ldc); break;
            case 4: rows_tile<4>(wr, ldw, xt + i0, ldxt, kb, cr, ldc); break;
            case 5: rows_tile<5>(wr, ldw, xt + i0, ldxt, kb, cr, ldc); break;
            case 6: rows_tile<6>(wr, ldw, xt + i0, ldxt, kb, cr, ldc); break;
            case 7: rows_tile<7>(wr, ldw, xt + i0, ldxt, kb, cr, ldc); break;
            case 8: rows_tile<8>(wr, ldw, xt + i0, ldxt, kb, cr, ldc); break;
            case 9: rows_tile<9>(wr, ldw, xt + i0, ldxt, kb, cr, ldc); break;
            case 10: rows_tile<10>(wr, ldw, xt + i0, ldxt, kb, cr, ldc); break;
            default: rows_tile<11>(wr, ldw, xt + i0, ldxt, kb, cr, ldc); break;
        }
    }
}

// --- vector helpers ----------------------------------------------------------

double dot_f32(const float* a, const float* b, int64_t n) {
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        const __m512 va = _mm512_loadu_ps(a + j), vb = _mm512_loadu_ps(b + j);
        s0 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(va)), _mm512_cvtps_pd(_mm512_castps512_ps256(vb)), s0);
        s1 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(va), 1))),
                             _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(vb), 1))), s1);
    }
    if (j < n) {
        const __mmask16 m = __mmask16((1u << (n - j)) - 1u);
        const __m512 va = _mm512_maskz_loadu_ps(m, a + j), vb = _mm512_maskz_loadu_ps(m, b + j);
        s0 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(va)), _mm512_cvtps_pd(_mm512_castps512_ps256(vb)), s0);
        s1 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(va), 1))),
                             _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(vb), 1))), s1);
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
}

void axpy_f32(float a, const float* x, float* y, int64_t n) {
    const __m512 va = _mm512_set1_ps(a);
    int64_t j = 0;
    for (; j + 16 <= n; j += 16)
        _mm512_storeu_ps(y + j, _mm512_add_ps(_mm512_loadu_ps(y + j), _mm512_mul_ps(va, _mm512_loadu_ps(x + j))));
    for (; j < n; ++j) y[j] += a * x[j];
}

float read_sum(const float* p, int64_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t j = 0;
    for (; j + 64 <= n; j += 64) {
        s0 = _mm512_add_ps(s0, _mm512_loadu_ps(p + j));
        s1 = _mm512_add_ps(s1, _mm512_loadu_ps(p + j + 16));
        s2 = _mm512_add_ps(s2, _mm512_loadu_ps(p + j + 32));
        s3 = _mm512_add_ps(s3, _mm512_loadu_ps(p + j + 48));
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
    for (; j < n; ++j) s += p[j];
    return s;
}

}  // namespace
}  // namespace dsv4::cpu

#pragma GCC pop_options

namespace dsv4::cpu {

const Kernels& kernels_avx512() {
    static const Kernels k{Isa::Avx512, 256.0, gemv_bf16, gemv_fp8, gemv_fp4, decode_bf16, decode_fp8, decode_fp4, gemm_rows, dot_f32, axpy_f32, read_sum};
    return k;
}

}  // namespace dsv4::cpu
