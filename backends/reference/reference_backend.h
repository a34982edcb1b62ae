// "reference": plain scalar float32 kernels, written for clarity. Every other
// backend is tested against these.
#pragma once

#include "backend.h"

namespace dsv4 {

class ReferenceBackend : public Backend {
public:
    const char* name() const override { return "reference"; }
    BackendCaps caps() const override { return BackendCaps{}; }

    void matmul(const Linear& w, int64_t row0, int64_t rows, const float* x, int64_t ldx, int64_t n, float* y,
                int64_t ldy) const override;
    void hc_mixes(const float* m, int n_out, int64_t width, const float* x, int64_t n, float eps,
                  float* y) const override;
    void hc_reduce(const float* pre, const float* h, int hc, int64_t D, int64_t n, float* out) const override;
    void hc_expand(const float* post, const float* comb, const float* y, int hc, int64_t D, int64_t n,
                   float* h) const override;
    void sparse_attention(const SparseAttentionArgs& a) const override;
    void compress_pool(const float* a, const float* g, int rows, int64_t ld, int64_t width, float* out) const override;
    void indexer_scores(const float* q, const float* w, int heads, int64_t dim, const float* keys, int64_t count,
                        float* scores) const override;
    void expert_ffn(const ExpertWeights& e, float limit, const float* x, int64_t n, const float* route_w,
                    float* y) const override;

protected:
    // expert_ffn's first two products, gate = w1 . x and up = w3 . x (n rows
    // of w1.out each): here two matmul calls; a derived backend may run them
    // together.
    virtual void expert_gate_up(const ExpertWeights& e, const float* x, int64_t n, float* gate, float* up) const;
};

}  // namespace dsv4
