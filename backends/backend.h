// The op-level backend interface: the handful of numeric kernels the forward
// pass is made of. Model code (lib/forward) decides what to compute; a backend
// decides how. Every backend must agree with "reference" to float32 rounding.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "weights.h"

namespace dsv4 {

class KvRows;  // session_state.h

struct BackendCaps {
    bool bf16_weights = true;
    bool fp8_weights = true;
    bool fp4_weights = true;
    bool simd = false;  // uses vector instructions beyond what the compiler emits for scalar code
    bool multithreaded = false;
};

// One query's sparse attention over gathered key/value rows (keys and values
// are the same vectors: shared-KV MQA).
struct SparseAttentionArgs {
    const float* q = nullptr;  // [n_heads, dim]
    int n_heads = 0;
    int dim = 0;
    const float* const* kv = nullptr;  // n_kv row pointers, each [dim]
    int64_t n_kv = 0;
    const float* sink = nullptr;  // [n_heads] learned logit of the empty "sink" key
    float scale = 1.0f;           // softmax scale
    float* out = nullptr;         // [n_heads, dim]
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual const char* name() const = 0;
    virtual BackendCaps caps() const = 0;
    // The backend as configured for one model: its own n_threads (0: one per
    // core). Registered backends are prototypes; stateless ones share themselves.
    virtual std::shared_ptr<const Backend> instantiate(int n_threads) const;

    // y[i][r - row0] = W[r, :] . x[i] for r in [row0, row0 + rows), i < n.
    // W stays in its checkpoint format (BF16 / FP8 block scales / packed FP4).
    virtual void matmul(const Linear& w, int64_t row0, int64_t rows, const float* x, int64_t ldx, int64_t n, float* y,
                        int64_t ldy) const = 0;
    // The LM head's product, all w.out rows: logits feed no rounding grid
    // and the model computes them in fp32, so a backend may accumulate in
    // float here (the cpu backend does; this default is matmul).
    virtual void logits_matmul(const Linear& w, const float* x, int64_t ldx, int64_t n, float* y, int64_t ldy) const {
        matmul(w, 0, w.out, x, ldx, n, y, ldy);
    }

    // y[i] = M . x[i] * (1 / sqrt(mean(x[i]^2) + eps)) with M an F32 matrix
    // [n_out, width]: the hyper-connection mixes.
    virtual void hc_mixes(const float* m, int n_out, int64_t width, const float* x, int64_t n, float eps,
                          float* y) const = 0;
    // out[i] = sum_s pre[i][s] * h[i][s] for n tokens of hc streams of width D.
    virtual void hc_reduce(const float* pre, const float* h, int hc, int64_t D, int64_t n, float* out) const = 0;
    // h[i][j] <- post[i][j] * y[i] + sum_s comb[i][s][j] * h[i][s], in place.
    virtual void hc_expand(const float* post, const float* comb, const float* y, int hc, int64_t D, int64_t n,
                           float* h) const = 0;

    virtual void sparse_attention(const SparseAttentionArgs& a) const = 0;

    // Gated pooling of a compressor block: for each dim j < width,
    // out[j] = sum_r softmax_r(g[r][j]) * a[r][j]; rows are `ld` floats apart
    // and a score of -inf gives its row no weight.
    virtual void compress_pool(const float* a, const float* g, int rows, int64_t ld, int64_t width,
                               float* out) const = 0;

    // scores[b] = sum_h w[h] * relu(q[h] . keys[b]) for b < count.
    virtual void indexer_scores(const float* q, const float* w, int heads, int64_t dim, const float* keys,
                                int64_t count, float* scores) const = 0;
    // The same on keys stored as FP4 (IndexKeys' rows, contiguous: dim / 2
    // bytes of e2m1 codes a key, element 2j in the low nibble, and dim / 32
    // UE8M0 scales a key): what indexer_scores gives on the dequantized keys,
    // bit for bit. This default dequantizes them and calls it.
    virtual void indexer_scores_fp4(const float* q, const float* w, int heads, int64_t dim, const uint8_t* packed,
                                    const uint8_t* scales, int64_t count, float* scores) const;
    // out[k * rows.dim() ...] = row index[k] of a compact KV table in float,
    // as KvRows::load gives it, for k < count. This default calls that.
    virtual void load_kv_rows(const KvRows& rows, const int64_t* index, int64_t count, float* out) const;

    // y[i] += route_w[i] * w2 . (silu(min(w1.x, L)) * clamp(w3.x, -L, L)) with
    // the route weight applied before w2 (route_w may be NULL: weight 1).
    // limit <= 0 disables the clamp.
    virtual void expert_ffn(const ExpertWeights& e, float limit, const float* x, int64_t n, const float* route_w,
                            float* y) const = 0;
    // Several experts on the same n tokens (a decode step's chosen experts):
    // for j < count in order, expert_ffn(*experts[j], limit, x, n, w_j, y)
    // with every token's route weight w_j = route_w[j] (1 if route_w is
    // NULL). Equal to those calls bit for bit; this default makes them, a
    // backend may run the experts' products together.
    virtual void experts_ffn(const ExpertWeights* const* experts, const float* route_w, int count, float limit,
                             const float* x, int64_t n, float* y) const;
};

// The expert FFN's activation between w1 / w3 and w2, shared by backends:
// h[j] = route_w * silu(min(gate[j], L)) * clamp(up[j], -L, L) for j < count
// (limit <= 0: no clamp).
void expert_activation(const float* gate, const float* up, int64_t count, float limit, float route_w, float* h);

// The registry of compiled-in backends.
const std::vector<const Backend*>& all_backends();
// NULL when no backend has that name.
const Backend* find_backend(const std::string& name);
// "cpu, reference": for error messages.
std::string backend_names_joined();

}  // namespace dsv4
