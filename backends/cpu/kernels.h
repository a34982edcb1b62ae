// Per-ISA kernels of the "cpu" backend. Every kernel decodes the checkpoint
// formats in registers (no dequantized copy of a weight in memory) and
// accumulates in double: products of two floats are exact in double, so the
// results differ from the reference backend's (double-accumulated) ones only
// by the order of additions. The model snaps activations onto FP8 / FP4 grids
// (quant_sim), and float accumulation moves values across grid midpoints
// often enough to break the golden conformance vectors; double does not.
// The one exception, FP4 on AVX512-VNNI and AVX2, sums exact integers on
// activations rounded to 39 bits (fp4_fixed.h).
//
// One table per ISA, each compiled in its own translation unit with a GCC
// target pragma; kernels() picks the best the CPU supports (lowered by the
// environment variable DSV4_CPU_ISA=avx512fp16|avx512vnni|avx512|avx2|scalar).
#pragma once

#include <cstdint>
#include <vector>

#include "cpu/fp4_fixed.h"

namespace dsv4::cpu {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2, Avx512Vnni = 3, Avx512Fp16 = 4 };

const char* isa_name(Isa isa);
// The best ISA this CPU runs (AVX-512 needs F/BW/VL/DQ; the avx512vnni tier
// AVX512-VBMI and AVX512-VNNI as well, the avx512fp16 tier AVX512-FP16 on top;
// AVX2 needs FMA and F16C).
Isa detected_isa();
// Whether the CPU is AMD's: some kernels stream memory differently there.
bool cpu_is_amd();
// Whether the avx512vnni table's FP8 kernel must keep subnormal codes away
// from its FMAs (Intel CPUs slow down about 30x on a subnormal input, AMD's
// do not; see kernels_avx512_fp8unpack.inc). set_fp8_check_subnormals forces
// the answer (tests) and returns the one before.
bool fp8_check_subnormals();
bool set_fp8_check_subnormals(bool check);
bool isa_supported(Isa isa);
// The ISA in use: detected_isa(), lowered by DSV4_CPU_ISA when set, or as
// forced by set_active_isa (tests). Never above detected_isa().
Isa active_isa();
// For tests: forces an ISA (clamped to what the CPU supports); returns the
// one now active.
Isa set_active_isa(Isa isa);

// The indexer's queries for its integer scores, see indexer_fp4.h.
struct IndexerQueries;

// Activations of a matmul call are converted once to double, [n][ldx].
//  - BF16 / FP8 kernels read x as is; FP8 expects x already multiplied by the
//    block scales of the rows' 128-row block and by fp8_x_factor (the ISA's
//    decode yields code value / fp8_x_factor), in the order fp8_x_order names.
//  - FP4 kernels expect x "paired": within every 16 inputs, the 8 even ones
//    then the 8 odd ones (fp4_pair_x_f32). `in` is a multiple of 32. So do
//    BF16 kernels where the table says bf16_paired_x.
// y[i * ldy + r] = W[r, :] . x[i] for r < rows, i < n (float, rounded once).
// The order in which an FP8 kernel reads x.
enum class Fp8XOrder {
    Plain,
    // Each 64 inputs' 8 x 8 transpose (fp8_transpose_x_f32), zero padded to a
    // multiple of 64 inputs (ldx covers the padding).
    Transposed8x8,
    // Each 64 inputs in the order of the byte-unpacking kernel
    // (fp8_unpacked_x_f32), zero padded likewise.
    Unpacked,
    // Each 32 inputs in the order of AVX2's byte-unpacking kernel
    // (fp8_words4_x_f32), zero padded to a multiple of 64 likewise.
    Words4,
};

// The prefill GEMM's blocking (CpuBackend::matmul_gemm): tasks of
// kGemmTaskRows weight rows, decoded kGemmKc inputs at a time.
// measure_gemm_peak runs the micro-kernel on the same blocks.
constexpr int64_t kGemmTaskRows = 48, kGemmKc = 128;

struct Kernels {
    Isa isa;
    double fp8_x_factor;
    Fp8XOrder fp8_x_order;
    void (*gemv_bf16)(const uint16_t* w, int64_t in, int64_t rows, const double* x, int64_t ldx, int64_t n, float* y,
                      int64_t ldy);
    // rows lie within one 128-row scale block.
    void (*gemv_fp8)(const uint8_t* w, int64_t in, int64_t rows, const double* x, int64_t ldx, int64_t n, float* y,
                     int64_t ldy);
    // w: rows of in/2 bytes; s: rows of in/32 UE8M0 scales.
    void (*gemv_fp4)(const uint8_t* w, const uint8_t* s, int64_t in, int64_t rows, const double* x, int64_t ldx,
                     int64_t n, float* y, int64_t ldy);
    // The prefill GEMM works on weights decoded block by block into a small
    // row-major scratch of doubles (in the order of x: FP4 paired):
    void (*decode_bf16)(const uint16_t* w, int64_t kb, double* dst);
    // kb codes of one 128x128 block: dst = value / fp8_x_factor * scale.
    void (*decode_fp8)(const uint8_t* w, int64_t kb, double scale, double* dst);
    // kb (a multiple of 32) inputs of one row, scales s[kb / 32], paired order.
    void (*decode_fp4)(const uint8_t* w, const uint8_t* s, int64_t kb, double* dst);
    // C[r][i] (ldc) += sum_k W[r][k] * XT[k][i] for r < rows, i < ntok (a
    // multiple of 8), k < kb: W rows ldw apart, XT (x transposed) rows ldxt
    // apart. Tokens go 16 at a time: where ntok % 16 == 8, XT and C must have
    // the last strip's other 8 columns too (zero in XT), which a table may
    // compute (only the AVX-512 one takes 8).
    void (*gemm_rows)(const double* w, int64_t ldw, int64_t rows, const double* xt, int64_t ldxt, int64_t ntok,
                      int64_t kb, double* c, int64_t ldc);
    // sum a[j] * b[j] accumulated in double.
    double (*dot_f32)(const float* a, const float* b, int64_t n);
    // y[j] += a * x[j]: a float multiply, then a float add (never fused),
    // exactly as the reference accumulates attention outputs.
    void (*axpy_f32)(float a, const float* x, float* y, int64_t n);
    // Sum of n floats read with full-width loads: the bandwidth probe.
    float (*read_sum)(const float* p, int64_t n);
    // gemv_fp4 on fixed-point activations (the VNNI tables and AVX2; null in
    // the others). Rows whose block scales span more than kFp4FixedSpread
    // binades, or hold a NaN scale, take gemv_fp4's route on x (paired).
    void (*gemv_fp4_fixed)(const uint8_t* w, const uint8_t* s, int64_t in, int64_t rows, const Fp4FixedX& fx,
                           const double* x, int64_t ldx, int64_t n, float* y, int64_t ldy);
    // Its activations: fp4_fixed_digits_portable, vectorised (same bytes).
    bool (*fp4_fixed_digits)(const float* x, int64_t in, int8_t* digits, int* exp, int64_t* digit_sums);
    // dot_f32 with `a` already in double: the same additions in the same
    // order, so the same result when a[j] = double(float), without
    // converting a again for every b (attention scores: one query, many keys).
    double (*dot_f64_f32)(const double* a, const float* b, int64_t n);
    // out[k] = x[k] * f[k / 128] for k < n (the FP8 block scales folded into x).
    void (*scale_blocks)(const double* x, const double* f, int64_t n, double* out);
    // BF16 rows accumulated in float, for the LM head only (its logits feed
    // no rounding grid, and the model computes them in fp32); null where the
    // ISA has none (the double gemv_bf16 serves). xs: per token, the inputs
    // as bf16_split_x orders them, ldxs >= in rounded up to 32. The sums do
    // not depend on n: the logits of a token are the same in any batch.
    void (*gemv_bf16_f32)(const uint16_t* w, int64_t in, int64_t rows, const float* xs, int64_t ldxs, int64_t n,
                          float* y, int64_t ldy);
    // The attention core for n_q query heads at once (null where the ISA has
    // none: the sparse attention then calls dot_f64_f32 and axpy_f32 per head
    // and key). Scores: out[h * ldo + j] = dot_f64_f32(q + h * ldq, keys[j],
    // dim), the same sums bit for bit. Weighted values: out[h * ldo + i] +=
    // w[h * ldw + j] * rows[j][i] for j in order, as axpy_f32 computes it (a
    // float multiply, then a float add onto out's value): from a zeroed out,
    // one call over all the rows or one call per consecutive part of them
    // give the same floats.
    void (*attn_scores)(const double* q, int64_t ldq, int n_q, const float* const* keys, int64_t n_keys, int64_t dim,
                        double* out, int64_t ldo);
    void (*attn_weighted)(const float* w, int64_t ldw, int n_q, const float* const* rows, int64_t n_rows, int64_t dim,
                          float* out, int64_t ldo);
    // out[0, padded) = x[0, in) in double, zero padded, in fp4_pair_x_f32's
    // order (padded a multiple of 16, >= in): what fp4_pair_x_f32 gives,
    // vectorised; null where the ISA has none (GemvPlan then calls that).
    // Every gemv-sized FP8 / FP4 product starts with it, on the calling
    // thread alone.
    void (*pair_x)(const float* x, int64_t in, int64_t padded, double* out);
    // out[0, padded) = x in the table's fp8_x_order, vectorised: what
    // fp8_transpose_x_f32 (Transposed8x8) or fp8_unpacked_x_f32 (Unpacked)
    // gives; null where the ISA has none (or reads FP8 x in plain order).
    // Every gemv-sized FP8 product of such a table starts with it, on the
    // calling thread.
    void (*fp8_order_x)(const float* x, int64_t in, int64_t padded, double* out);
    // fp8_order_x with every input times f[input / 128] (its 128-input
    // block's scale and fp8_x_factor): what a gemv task hands its FP8
    // kernel, made from x itself, so the calling thread need not widen x
    // once more for everyone first. Null where the ISA has none (GemvPlan
    // then widens x once and scale_blocks it per task).
    void (*fp8_order_scale_x)(const float* x, int64_t in, int64_t padded, const double* f, double* out);
    // out[r] = dot_f64_f32(a, b + r * ldb, n) for r < rows, the same sums bit
    // for bit, with each vector of `a` loaded once for several rows (the
    // hyper-connection mixes: one activation, 24 rows of 16384 floats each).
    // Null where the ISA has none (callers use dot_f64_f32 per row).
    void (*dot_rows_f64_f32)(const double* a, const float* b, int64_t ldb, int rows, int64_t n, double* out);
    // The indexer's scores on keys stored as FP4 (IndexKeys' rows: q.dim / 2
    // bytes of e2m1 codes, q.dim / 32 UE8M0 scales) in integers (see
    // indexer_fp4.h; null where the ISA lacks VNNI or VBMI). For each key
    // b < count, exact[b] is nonzero iff indexer_key_exact(...); there
    // scores[b] = sum over heads in order of max(float(q_h . key_b), 0) *
    // w[h], the float operations of the scalar loop on the same exact dot
    // products, so the same bits as the double kernels give; elsewhere
    // scores[b] is left as it was. exact[b] is 2 where the key's block sums
    // were joined in int32 (its 16-key tile within indexer_merge_max_shift
    // binades), 1 where in double.
    void (*indexer_scores_fp4)(const IndexerQueries& q, const float* w, const uint8_t* packed, const uint8_t* scales,
                               int64_t count, float* scores, uint8_t* exact);
    // out[j] = kFp8E4m3Table[codes[j]] * scale_value(scales[j / 64]) for j <
    // n (a multiple of 64), the same bits: the FP8 part of a compact KV row
    // (KvRows::load) vectorised. Null where the ISA has none.
    void (*fp8_blocks_to_float)(const uint8_t* codes, const uint8_t* scales, int64_t n, float* out);
    // Whether gemv_bf16 reads x in pair_x's layout (per 16 inputs the 8 even
    // ones, then the 8 odd ones; zero padded to a multiple of 16, which ldx
    // covers) instead of in plain order: the AVX-512 tables split a BF16
    // line's even and odd weights with a shift and an AND, as the float head
    // does, instead of widening every weight in turn.
    bool bf16_paired_x;
    // Bytes per 64 inputs of fp4_fixed_digits' layout: kFp4Limbs x 64 (the
    // VNNI tables' bytes), kFp4WordsChunkBytes (AVX2's words).
    int64_t fp4_fixed_chunk_bytes = kFp4Limbs * 64;
    // Whether CpuBackend::matmul sends FP4 batches of any size (prefill) to
    // gemv_fp4_fixed (the VNNI tables: faster than the f64 GEMM there), or
    // only those below kGemmMinTokens (AVX2: its vpmaddwd route spends 12
    // instructions per 32 products and token where the GEMM spends 8 FMAs).
    bool fp4_fixed_batches = true;
};

const Kernels& kernels();  // for active_isa()
const Kernels& kernels_for(Isa isa);

const Kernels& kernels_scalar();
const Kernels& kernels_avx2();
const Kernels& kernels_avx512();
const Kernels& kernels_avx512vnni();
const Kernels& kernels_avx512fp16();

// The Kernels::decode_fp4 of the scalar and AVX2 tables (plain C++).
void decode_fp4_portable(const uint8_t* w, const uint8_t* s, int64_t kb, double* dst);

// Kernels::pair_x in plain C++: x[0, in) widened, zero padded to `padded` (a
// multiple of 16), in the FP4 kernels' paired layout (per 16 inputs the 8
// even ones, then the 8 odd ones).
void fp4_pair_x_f32(const float* x, int64_t in, int64_t padded, double* out);

// Likewise in the Words4 order: out[c + 4 G + i] = x[c + 8 (G / 4) + G % 4
// + 4 (i % 2) + 16 (i / 2)] for each 32 inputs c.
void fp8_words4_x_f32(const float* x, int64_t in, int64_t padded, double* out);

// x[0, in) widened, zero padded to `padded` (a multiple of 64), each 64
// inputs as an 8 x 8 transpose: out[c + 8 g + q] = x[c + 8 q + g].
void fp8_transpose_x_f32(const float* x, int64_t in, int64_t padded, double* out);

// Likewise in the Unpacked order: out[c + 8 g + q] =
// x[c + 16 (q / 2) + 8 (g / 4) + 4 (q % 2) + g % 4].
void fp8_unpacked_x_f32(const float* x, int64_t in, int64_t padded, double* out);

// gemv_bf16_f32's activations: per 32 inputs the 16 even-indexed, then the 16
// odd ones; out[0, in rounded up to 32), zero padded.
void bf16_split_x(const float* x, int64_t in, float* out);

}  // namespace dsv4::cpu
