// "cpu": the default backend. SIMD kernels chosen at run time (AVX-512, AVX2,
// scalar; see kernels.h) that decode BF16 / FP8 / FP4 weights in registers,
// a persistent thread pool splitting rows (and heads) across cores, and a
// packed double-precision GEMM for prefill-sized batches. Everything
// accumulates in double, like the reference backend, so the two agree to
// float32 rounding, except the LM head's logits (float, as the model
// defines them; see logits_matmul). Ops without a faster kernel fall back to
// the reference.
#pragma once

#include <memory>
#include <mutex>

#include "reference/reference_backend.h"

namespace dsv4 {

namespace cpu {
class ThreadPool;
}  // namespace cpu

class CpuBackend : public ReferenceBackend {
public:
    // n_threads <= 0: one per online core (the pool starts on first use).
    explicit CpuBackend(int n_threads = 0);
    ~CpuBackend() override;

    const char* name() const override { return "cpu"; }
    BackendCaps caps() const override;
    std::shared_ptr<const Backend> instantiate(int n_threads) const override;

    // Batches of at least this many tokens take the packed-GEMM path.
    static constexpr int64_t kGemmMinTokens = 16;

    void matmul(const Linear& w, int64_t row0, int64_t rows, const float* x, int64_t ldx, int64_t n, float* y,
                int64_t ldy) const override;
    // BF16 heads of fewer than kGemmMinTokens tokens through the float
    // kernel (Kernels::gemv_bf16_f32) where the ISA has one, else matmul.
    void logits_matmul(const Linear& w, const float* x, int64_t ldx, int64_t n, float* y, int64_t ldy) const override;
    void hc_mixes(const float* m, int n_out, int64_t width, const float* x, int64_t n, float eps,
                  float* y) const override;
    void sparse_attention(const SparseAttentionArgs& a) const override;
    void indexer_scores(const float* q, const float* w, int heads, int64_t dim, const float* keys, int64_t count,
                        float* scores) const override;
    // Rows' FP8 parts through Kernels::fp8_blocks_to_float where the ISA has
    // it, many rows across the threads.
    void load_kv_rows(const KvRows& rows, const int64_t* index, int64_t count, float* out) const override;
    // In integers where the ISA has Kernels::indexer_scores_fp4 and q lies on
    // the FP4 grid (indexer_fp4.h); keys whose sums could round, and every
    // key otherwise, through indexer_scores' double kernels.
    void indexer_scores_fp4(const float* q, const float* w, int heads, int64_t dim, const uint8_t* packed,
                            const uint8_t* scales, int64_t count, float* scores) const override;

    // Below kGemmMinTokens, experts of one format and shape run as three
    // pool jobs for all of them (every w1 and w3; the activations; every
    // w2) instead of two per expert, x prepared once for all the w1 / w3.
    void experts_ffn(const ExpertWeights* const* experts, const float* route_w, int count, float limit, const float* x,
                     int64_t n, float* y) const override;

    int threads() const;
    cpu::ThreadPool& pool() const;

    // The two matmul paths, public for tests.
    void matmul_gemv(const Linear& w, int64_t row0, int64_t rows, const float* x, int64_t ldx, int64_t n, float* y,
                     int64_t ldy) const;
    void matmul_gemm(const Linear& w, int64_t row0, int64_t rows, const float* x, int64_t ldx, int64_t n, float* y,
                     int64_t ldy) const;

protected:
    // Below kGemmMinTokens, w1 and w3 (the same x) share one preparation of
    // the activations and one pool job.
    void expert_gate_up(const ExpertWeights& e, const float* x, int64_t n, float* gate, float* up) const override;

private:
    int n_threads_;
    mutable std::once_flag pool_once_;
    mutable std::unique_ptr<cpu::ThreadPool> pool_;
};

}  // namespace dsv4
