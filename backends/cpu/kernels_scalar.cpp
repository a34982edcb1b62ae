// Portable kernels: the fallback when the CPU has neither AVX2 nor AVX-512
// (and the baseline the SIMD tables are tested against, besides reference).
#include <cstdint>
#include <cstring>

#include "cpu/kernels.h"
#include "quant.h"

namespace dsv4::cpu {

namespace {

constexpr int kMaxTok = 8;

// Mapped tensors need not be 2-byte aligned.
inline float bf16_at(const uint16_t* p, int64_t k) {
    uint16_t v;
    std::memcpy(&v, reinterpret_cast<const uint8_t*>(p) + 2 * k, 2);
    return bf16_to_float(v);
}

void gemv_bf16(const uint16_t* w, int64_t in, int64_t rows, const double* x, int64_t ldx, int64_t n, float* y,
               int64_t ldy) {
    for (int64_t t0 = 0; t0 < n; t0 += kMaxTok) {
        const int64_t nt = n - t0 < kMaxTok ? n - t0 : kMaxTok;
        for (int64_t r = 0; r < rows; ++r) {
            double acc[kMaxTok] = {};
            const uint16_t* wr = w + r * in;
            for (int64_t k = 0; k < in; ++k) {
                const double v = bf16_at(wr, k);
                for (int64_t i = 0; i < nt; ++i) acc[i] += v * x[(t0 + i) * ldx + k];
            }
            for (int64_t i = 0; i < nt; ++i) y[(t0 + i) * ldy + r] = float(acc[i]);
        }
    }
}

void gemv_fp8(const uint8_t* w, int64_t in, int64_t rows, const double* x, int64_t ldx, int64_t n, float* y,
              int64_t ldy) {
    for (int64_t t0 = 0; t0 < n; t0 += kMaxTok) {
        const int64_t nt = n - t0 < kMaxTok ? n - t0 : kMaxTok;
        for (int64_t r = 0; r < rows; ++r) {
            double acc[kMaxTok] = {};
            const uint8_t* wr = w + r * in;
            for (int64_t k = 0; k < in; ++k) {
                const double v = kFp8E4m3Table[wr[k]];
                for (int64_t i = 0; i < nt; ++i) acc[i] += v * x[(t0 + i) * ldx + k];
            }
            for (int64_t i = 0; i < nt; ++i) y[(t0 + i) * ldy + r] = float(acc[i]);
        }
    }
}

void gemv_fp4(const uint8_t* w, const uint8_t* s, int64_t in, int64_t rows, const double* x, int64_t ldx, int64_t n,
              float* y, int64_t ldy) {
    for (int64_t t0 = 0; t0 < n; t0 += kMaxTok) {
        const int64_t nt = n - t0 < kMaxTok ? n - t0 : kMaxTok;
        for (int64_t r = 0; r < rows; ++r) {
            double acc[kMaxTok] = {};
            const uint8_t* wr = w + r * (in / 2);
            const uint8_t* sr = s + r * (in / 32);
            for (int64_t g = 0; g < in; g += 16) {
                const float sc = e8m0_to_float(sr[g / 32]);
                for (int j = 0; j < 8; ++j) {
                    const uint8_t b = wr[g / 2 + j];
                    // The same float product as the reference's dequantization.
                    const double lo = kFp4E2m1Table[b & 0xF] * sc, hi = kFp4E2m1Table[b >> 4] * sc;
                    for (int64_t i = 0; i < nt; ++i) {
                        const double* xi = x + (t0 + i) * ldx + g;
                        acc[i] += lo * xi[j] + hi * xi[8 + j];
                    }
                }
            }
            for (int64_t i = 0; i < nt; ++i) y[(t0 + i) * ldy + r] = float(acc[i]);
        }
    }
}

void decode_bf16(const uint16_t* w, int64_t kb, double* dst) {
    for (int64_t k = 0; k < kb; ++k) dst[k] = bf16_at(w, k);
}

void decode_fp8(const uint8_t* w, int64_t kb, double scale, double* dst) {
    for (int64_t k = 0; k < kb; ++k) dst[k] = double(kFp8E4m3Table[w[k]]) * scale;
}

void gemm_rows(const double* w, int64_t ldw, int64_t rows, const double* xt, int64_t ldxt, int64_t ntok, int64_t kb,
               double* c, int64_t ldc) {
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t i0 = 0; i0 < ntok; i0 += 16) {
            double acc[16] = {};
            for (int64_t k = 0; k < kb; ++k) {
                const double wk = w[r * ldw + k];
                for (int i = 0; i < 16; ++i) acc[i] += wk * xt[k * ldxt + i0 + i];
            }
            for (int i = 0; i < 16; ++i) c[r * ldc + i0 + i] += acc[i];
        }
}

double dot_f32(const float* a, const float* b, int64_t n) {
    double s = 0.0;
    for (int64_t j = 0; j < n; ++j) s += double(a[j]) * double(b[j]);
    return s;
}

double dot_f64_f32(const double* a, const float* b, int64_t n) {
    double s = 0.0;
    for (int64_t j = 0; j < n; ++j) s += a[j] * double(b[j]);
    return s;
}

void scale_blocks(const double* x, const double* f, int64_t n, double* out) {
    for (int64_t k = 0; k < n; ++k) out[k] = x[k] * f[k / 128];
}

void axpy_f32(float a, const float* x, float* y, int64_t n) {
    for (int64_t j = 0; j < n; ++j) y[j] += a * x[j];
}

float read_sum(const float* p, int64_t n) {
    float s[8] = {};
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int q = 0; q < 8; ++q) s[q] += p[j + q];
    for (; j < n; ++j) s[0] += p[j];
    return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

}  // namespace

void decode_fp4_portable(const uint8_t* w, const uint8_t* s, int64_t kb, double* dst) {
    for (int64_t g = 0; g < kb; g += 16) {
        const double sc = e8m0_to_float(s[g / 32]);
        for (int j = 0; j < 8; ++j) {
            const uint8_t b = w[g / 2 + j];
            dst[g + j] = double(kFp4E2m1Table[b & 0xF]) * sc;
            dst[g + 8 + j] = double(kFp4E2m1Table[b >> 4]) * sc;
        }
    }
}

const Kernels& kernels_scalar() {
    static const Kernels k{Isa::Scalar, 1.0,          Fp8XOrder::Plain,
                           gemv_bf16,   gemv_fp8,     gemv_fp4,
                           decode_bf16, decode_fp8,   decode_fp4_portable,
                           gemm_rows,   dot_f32,      axpy_f32,
                           read_sum,    nullptr,      nullptr,
                           dot_f64_f32, scale_blocks, nullptr,
                           nullptr,     nullptr,      nullptr,
                           nullptr,     nullptr,      nullptr,
                           nullptr,     nullptr,      false};
    return k;
}

}  // namespace dsv4::cpu
