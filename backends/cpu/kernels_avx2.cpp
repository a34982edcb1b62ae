// AVX2 + FMA + F16C kernels, for CPUs without AVX-512 (or DSV4_CPU_ISA=avx2).
// Same rules as kernels_avx512.cpp: internal linkage, no library templates.
#include <cstddef>
#include <cstdint>

#include "cpu/exact_scaling.h"
#include "cpu/kernels.h"
#include "quant.h"

#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
// GCC 12 reports the intentionally undefined upper halves of its own cast
// intrinsics as uninitialized.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx2,fma,f16c,bmi,bmi2")
#include <immintrin.h>

namespace dsv4::cpu {

namespace {

constexpr int kTok = 4;  // tokens per pass

// Mapped tensors need not be 2-byte aligned.
inline float bf16_at(const uint16_t* p, int64_t k) {
    uint16_t v;
    __builtin_memcpy(&v, reinterpret_cast<const uint8_t*>(p) + 2 * k, 2);
    return bf16_to_float(v);
}

// 8 FP8 codes -> 8 values / 256 (see kernels_avx512.cpp for the FP16 trick).
inline void fp8_decode8(const uint8_t* p, __m256d& lo, __m256d& hi) {
    __m128i h = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    h = _mm_and_si128(_mm_srai_epi16(_mm_slli_epi16(h, 8), 1), _mm_set1_epi16(int16_t(0xBFFF)));
    const __m256 f = _mm256_cvtph_ps(h);
    lo = _mm256_cvtps_pd(_mm256_castps256_ps128(f));
    hi = _mm256_cvtps_pd(_mm256_extractf128_ps(f, 1));
}

inline void bf16_decode8(const uint16_t* p, __m256d& lo, __m256d& hi) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    const __m256 f = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    lo = _mm256_cvtps_pd(_mm256_castps256_ps128(f));
    hi = _mm256_cvtps_pd(_mm256_extractf128_ps(f, 1));
}

struct Bf16Dec {
    const uint16_t* w;
    void operator()(int64_t k, __m256d& lo, __m256d& hi) const { bf16_decode8(w + k, lo, hi); }
    double one(int64_t k) const { return double(bf16_at(w, k)); }
};

inline double hsum(__m256d v) {
    const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

template <int NR, int NT, class Dec>
inline void dense_tile(const Dec* dec, int64_t in, const double* x, int64_t ldx, float* y, int64_t ldy) {
    __m256d acc[NR][NT][2];
#pragma GCC unroll 4
    for (int r = 0; r < NR; ++r)
#pragma GCC unroll 4
        for (int t = 0; t < NT; ++t) acc[r][t][0] = acc[r][t][1] = _mm256_setzero_pd();
    int64_t k = 0;
    for (; k + 8 <= in; k += 8) {
#pragma GCC unroll 4
        for (int r = 0; r < NR; ++r) {
            __m256d lo, hi;
            dec[r](k, lo, hi);
#pragma GCC unroll 4
            for (int t = 0; t < NT; ++t) {
                acc[r][t][0] = _mm256_fmadd_pd(lo, _mm256_loadu_pd(x + t * ldx + k), acc[r][t][0]);
                acc[r][t][1] = _mm256_fmadd_pd(hi, _mm256_loadu_pd(x + t * ldx + k + 4), acc[r][t][1]);
            }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; ++r)
#pragma GCC unroll 4
        for (int t = 0; t < NT; ++t) {
            double s = hsum(_mm256_add_pd(acc[r][t][0], acc[r][t][1]));
            for (int64_t j = k; j < in; ++j) s += dec[r].one(j) * x[t * ldx + j];
            y[t * ldy + r] = float(s);
        }
}

template <int NR, int NT, class T, class Dec>
inline void dense_rows(const T* w, int64_t in, int64_t rows, const double* x, int64_t ldx, float* y, int64_t ldy) {
    int64_t r0 = 0;
    for (; r0 + NR <= rows; r0 += NR) {
        Dec d[NR];
        for (int r = 0; r < NR; ++r) d[r] = Dec{w + (r0 + r) * in};
        dense_tile<NR, NT>(d, in, x, ldx, y + r0, ldy);
    }
    for (; r0 < rows; ++r0) {
        Dec d[1] = {Dec{w + r0 * in}};
        dense_tile<1, NT>(d, in, x, ldx, y + r0, ldy);
    }
}

template <class T, class Dec>
void dense_gemv(const T* w, int64_t in, int64_t rows, const double* x, int64_t ldx, int64_t n, float* y, int64_t ldy) {
    for (int64_t t0 = 0; t0 < n; t0 += kTok) {
        const double* xt = x + t0 * ldx;
        float* yt = y + t0 * ldy;
        switch (n - t0 < kTok ? n - t0 : kTok) {
            case 1:
                dense_rows<4, 1, T, Dec>(w, in, rows, xt, ldx, yt, ldy);
                break;
            case 2:
                dense_rows<2, 2, T, Dec>(w, in, rows, xt, ldx, yt, ldy);
                break;
            case 3:
                dense_rows<1, 3, T, Dec>(w, in, rows, xt, ldx, yt, ldy);
                break;
            default:
                dense_rows<1, 4, T, Dec>(w, in, rows, xt, ldx, yt, ldy);
                break;
        }
    }
}

void gemv_bf16(const uint16_t* w, int64_t in, int64_t rows, const double* x, int64_t ldx, int64_t n, float* y,
               int64_t ldy) {
    dense_gemv<uint16_t, Bf16Dec>(w, in, rows, x, ldx, n, y, ldy);
}

// FP4: 8 bytes -> 8 dword lanes; vpermps reads the low 3 bits (magnitude)
// from a table scaled in float (as the reference does), bit 3 is the sign.
template <int NT>
inline void fp4_row(const uint8_t* w, const uint8_t* s, int64_t in, const double* x, int64_t ldx, float* y,
                    int64_t ldy) {
    const __m256 mag = _mm256_setr_ps(0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f);
    const __m256i eight = _mm256_set1_epi32(8);
    __m256d acc[NT][4];
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) acc[t][0] = acc[t][1] = acc[t][2] = acc[t][3] = _mm256_setzero_pd();
    for (int64_t g = 0; g < in; g += 32) {
        const __m256 tab = _mm256_mul_ps(mag, _mm256_set1_ps(e8m0_to_float(s[g / 32])));
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
            const int64_t k = g + 16 * h;
            const __m256i b = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(w + k / 2)));
            const __m256i bh = _mm256_srli_epi32(b, 4);
            const __m256 we = _mm256_xor_ps(_mm256_permutevar8x32_ps(tab, b),
                                            _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_and_si256(b, eight), 28)));
            const __m256 wo = _mm256_xor_ps(_mm256_permutevar8x32_ps(tab, bh),
                                            _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_and_si256(bh, eight), 28)));
            const __m256d e0 = _mm256_cvtps_pd(_mm256_castps256_ps128(we)),
                          e1 = _mm256_cvtps_pd(_mm256_extractf128_ps(we, 1));
            const __m256d o0 = _mm256_cvtps_pd(_mm256_castps256_ps128(wo)),
                          o1 = _mm256_cvtps_pd(_mm256_extractf128_ps(wo, 1));
#pragma GCC unroll 4
            for (int t = 0; t < NT; ++t) {
                const double* xt = x + t * ldx + k;
                acc[t][0] = _mm256_fmadd_pd(e0, _mm256_loadu_pd(xt), acc[t][0]);
                acc[t][1] = _mm256_fmadd_pd(e1, _mm256_loadu_pd(xt + 4), acc[t][1]);
                acc[t][2] = _mm256_fmadd_pd(o0, _mm256_loadu_pd(xt + 8), acc[t][2]);
                acc[t][3] = _mm256_fmadd_pd(o1, _mm256_loadu_pd(xt + 12), acc[t][3]);
            }
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t)
        y[t * ldy] =
            float(hsum(_mm256_add_pd(_mm256_add_pd(acc[t][0], acc[t][1]), _mm256_add_pd(acc[t][2], acc[t][3]))));
}

#include "cpu/kernels_avx2_fp4fixed.inc"
#include "cpu/kernels_avx2_fp8words.inc"

void gemv_fp4(const uint8_t* w, const uint8_t* s, int64_t in, int64_t rows, const double* x, int64_t ldx, int64_t n,
              float* y, int64_t ldy) {
    for (int64_t t0 = 0; t0 < n; t0 += kTok) {
        const double* xt = x + t0 * ldx;
        const int64_t nt = n - t0 < kTok ? n - t0 : kTok;
        for (int64_t r = 0; r < rows; ++r) {
            const uint8_t* wr = w + r * (in / 2);
            const uint8_t* sr = s + r * (in / 32);
            float* yt = y + t0 * ldy + r;
            switch (nt) {
                case 1:
                    fp4_row<1>(wr, sr, in, xt, ldx, yt, ldy);
                    break;
                case 2:
                    fp4_row<2>(wr, sr, in, xt, ldx, yt, ldy);
                    break;
                case 3:
                    fp4_row<3>(wr, sr, in, xt, ldx, yt, ldy);
                    break;
                default:
                    fp4_row<4>(wr, sr, in, xt, ldx, yt, ldy);
                    break;
            }
        }
    }
}

void decode_bf16(const uint16_t* w, int64_t kb, double* dst) {
    int64_t k = 0;
    for (; k + 8 <= kb; k += 8) {
        __m256d lo, hi;
        bf16_decode8(w + k, lo, hi);
        _mm256_storeu_pd(dst + k, lo);
        _mm256_storeu_pd(dst + k + 4, hi);
    }
    for (; k < kb; ++k) dst[k] = bf16_at(w, k);
}

void decode_fp8(const uint8_t* w, int64_t kb, double scale, double* dst) {
    // fp8_decode8 yields value / 256; the caller's scale includes kFp8wXFactor.
    const __m256d s = _mm256_set1_pd(scale * (256.0 / kFp8wXFactor));
    int64_t k = 0;
    for (; k + 8 <= kb; k += 8) {
        __m256d lo, hi;
        fp8_decode8(w + k, lo, hi);
        _mm256_storeu_pd(dst + k, _mm256_mul_pd(lo, s));
        _mm256_storeu_pd(dst + k + 4, _mm256_mul_pd(hi, s));
    }
    for (; k < kb; ++k) dst[k] = double(kFp8E4m3Table[w[k]]) / kFp8wXFactor * scale;
}

// MR weight rows x 16 tokens (four vectors of 4).
template <int MR>
inline void rows_tile(const double* w, int64_t ldw, const double* xt, int64_t ldxt, int64_t kb, double* c,
                      int64_t ldc) {
    __m256d acc[MR][4];
#pragma GCC unroll 3
    for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = acc[r][2] = acc[r][3] = _mm256_setzero_pd();
    for (int64_t k = 0; k < kb; ++k) {
        const double* x = xt + k * ldxt;
        const __m256d x0 = _mm256_loadu_pd(x), x1 = _mm256_loadu_pd(x + 4), x2 = _mm256_loadu_pd(x + 8),
                      x3 = _mm256_loadu_pd(x + 12);
#pragma GCC unroll 3
        for (int r = 0; r < MR; ++r) {
            const __m256d wb = _mm256_broadcast_sd(w + r * ldw + k);
            acc[r][0] = _mm256_fmadd_pd(wb, x0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_pd(wb, x1, acc[r][1]);
            acc[r][2] = _mm256_fmadd_pd(wb, x2, acc[r][2]);
            acc[r][3] = _mm256_fmadd_pd(wb, x3, acc[r][3]);
        }
    }
#pragma GCC unroll 3
    for (int r = 0; r < MR; ++r)
        for (int q = 0; q < 4; ++q) {
            double* cr = c + r * ldc + 4 * q;
            _mm256_storeu_pd(cr, _mm256_add_pd(_mm256_loadu_pd(cr), acc[r][q]));
        }
}

void gemm_rows(const double* w, int64_t ldw, int64_t rows, const double* xt, int64_t ldxt, int64_t ntok, int64_t kb,
               double* c, int64_t ldc) {
    for (int64_t i0 = 0; i0 < ntok; i0 += 16) {
        int64_t r = 0;
        for (; r + 3 <= rows; r += 3) rows_tile<3>(w + r * ldw, ldw, xt + i0, ldxt, kb, c + r * ldc + i0, ldc);
        if (rows - r == 2)
            rows_tile<2>(w + r * ldw, ldw, xt + i0, ldxt, kb, c + r * ldc + i0, ldc);
        else if (rows - r == 1)
            rows_tile<1>(w + r * ldw, ldw, xt + i0, ldxt, kb, c + r * ldc + i0, ldc);
    }
}

double dot_f32(const float* a, const float* b, int64_t n) {
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m256 va = _mm256_loadu_ps(a + j), vb = _mm256_loadu_ps(b + j);
        s0 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(va)), _mm256_cvtps_pd(_mm256_castps256_ps128(vb)),
                             s0);
        s1 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(va, 1)),
                             _mm256_cvtps_pd(_mm256_extractf128_ps(vb, 1)), s1);
    }
    double s = hsum(_mm256_add_pd(s0, s1));
    for (; j < n; ++j) s += double(a[j]) * double(b[j]);
    return s;
}

double dot_f64_f32(const double* a, const float* b, int64_t n) {
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m256 vb = _mm256_loadu_ps(b + j);
        s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a + j), _mm256_cvtps_pd(_mm256_castps256_ps128(vb)), s0);
        s1 = _mm256_fmadd_pd(_mm256_loadu_pd(a + j + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(vb, 1)), s1);
    }
    double s = hsum(_mm256_add_pd(s0, s1));
    for (; j < n; ++j) s += a[j] * double(b[j]);
    return s;
}

void scale_blocks(const double* x, const double* f, int64_t n, double* out) {
    for (int64_t k0 = 0; k0 < n; k0 += 128) {
        const __m256d s = _mm256_set1_pd(f[k0 / 128]);
        const int64_t k1 = n - k0 < 128 ? n : k0 + 128;
        int64_t k = k0;
        for (; k + 4 <= k1; k += 4) _mm256_storeu_pd(out + k, _mm256_mul_pd(_mm256_loadu_pd(x + k), s));
        for (; k < k1; ++k) out[k] = x[k] * f[k0 / 128];
    }
}

void axpy_f32(float a, const float* x, float* y, int64_t n) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        _mm256_storeu_ps(y + j, _mm256_add_ps(_mm256_loadu_ps(y + j), _mm256_mul_ps(va, _mm256_loadu_ps(x + j))));
    for (; j < n; ++j) y[j] += a * x[j];
}

float read_sum(const float* p, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t j = 0;
    for (; j + 32 <= n; j += 32) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(p + j));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(p + j + 8));
        s2 = _mm256_add_ps(s2, _mm256_loadu_ps(p + j + 16));
        s3 = _mm256_add_ps(s3, _mm256_loadu_ps(p + j + 24));
    }
    const __m256 t = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    float s = _mm_cvtss_f32(h);
    for (; j < n; ++j) s += p[j];
    return s;
}

#include "cpu/kernels_avx2_bf16f.inc"
#include "cpu/kernels_avx2_misc.inc"

}  // namespace
}  // namespace dsv4::cpu

#pragma GCC pop_options

namespace dsv4::cpu {

const Kernels& kernels_avx2() {
    static const Kernels k{Isa::Avx2,
                           kFp8wXFactor,
                           Fp8XOrder::Words4,
                           gemv_bf16,
                           gemv_fp8_words,
                           gemv_fp4,
                           decode_bf16,
                           decode_fp8,
                           decode_fp4_portable,
                           gemm_rows,
                           dot_f32,
                           axpy_f32,
                           read_sum,
                           gemv_fp4_fixed,
                           fp4_fixed_words,
                           dot_f64_f32,
                           scale_blocks,
                           gemv_bf16_f32,
                           attn_scores,
                           attn_weighted,
                           nullptr,
                           fp8w_order_x,
                           fp8w_order_scale_x,
                           dot_rows_f64_f32,
                           nullptr,
                           fp8_blocks_to_float,
                           false,
                           kFp4WordsChunkBytes,
                           false};
    return k;
}

}  // namespace dsv4::cpu
