// Counting the checkpoint bytes a session's forward pass reads: a Backend
// decorator that adds, per op, the bytes of the weights that op touches, as
// the ops run (so routed experts count only when chosen, and a linear only
// for the rows used). Embedding rows are read by the forward code directly;
// the session adds them. Small per-layer vectors (norm weights, biases,
// sinks, ape) are not counted: under 0.1% of any V4 shape.
#pragma once

#include <cstdint>

#include "backend.h"

namespace dsv4 {

struct WeightTraffic {
    uint64_t bytes = 0;  // since the session was created
    uint64_t tokens = 0;
    uint64_t last_call_bytes = 0;  // the last prefill / decode call
    uint64_t last_call_tokens = 0;
    // Matrix products (linears and expert FFNs) by weight format (LinearFormat:
    // BF16, FP8, FP4) since creation: wall-clock seconds on the calling thread
    // and their weight bytes, so their achieved rates show where time goes.
    double format_seconds[3] = {0, 0, 0};
    uint64_t format_bytes[3] = {0, 0, 0};
};

// Bytes of rows [row0, row0 + rows) of a linear: the weight rows plus the
// scales they use (FP8: the 128x128 blocks covering those rows; FP4: one per
// 32 inputs of each row).
uint64_t linear_bytes(const Linear& w, int64_t row0, int64_t rows);
uint64_t expert_bytes(const ExpertWeights& e);

class CountingBackend : public Backend {
public:
    CountingBackend(const Backend& inner, WeightTraffic& traffic) : inner_(inner), t_(traffic) {}

    const char* name() const override { return inner_.name(); }
    BackendCaps caps() const override { return inner_.caps(); }

    void matmul(const Linear& w, int64_t row0, int64_t rows, const float* x, int64_t ldx, int64_t n, float* y,
                int64_t ldy) const override;
    void logits_matmul(const Linear& w, const float* x, int64_t ldx, int64_t n, float* y, int64_t ldy) const override;
    void hc_mixes(const float* m, int n_out, int64_t width, const float* x, int64_t n, float eps,
                  float* y) const override;
    void hc_reduce(const float* pre, const float* h, int hc, int64_t D, int64_t n, float* out) const override;
    void hc_expand(const float* post, const float* comb, const float* y, int hc, int64_t D, int64_t n,
                   float* h) const override;
    void sparse_attention(const SparseAttentionArgs& a) const override;
    void compress_pool(const float* a, const float* g, int rows, int64_t ld, int64_t width, float* out) const override;
    void indexer_scores(const float* q, const float* w, int heads, int64_t dim, const float* keys, int64_t count,
                        float* scores) const override;
    void load_kv_rows(const KvRows& rows, const int64_t* index, int64_t count, float* out) const override;
    void indexer_scores_fp4(const float* q, const float* w, int heads, int64_t dim, const uint8_t* packed,
                            const uint8_t* scales, int64_t count, float* scores) const override;
    void expert_ffn(const ExpertWeights& e, float limit, const float* x, int64_t n, const float* route_w,
                    float* y) const override;
    // Experts of one format are counted and timed as one product; mixed
    // formats go one expert at a time (expert_ffn above).
    void experts_ffn(const ExpertWeights* const* experts, const float* route_w, int count, float limit, const float* x,
                     int64_t n, float* y) const override;

private:
    const Backend& inner_;
    WeightTraffic& t_;
};

}  // namespace dsv4
