#include "forward/head.h"

#include <algorithm>
#include <vector>

#include "forward/hyper_connections.h"
#include "forward/norm.h"
#include "quant.h"

namespace dsv4 {

void embedding_row(const ForwardContext& ctx, int32_t token, float* out) {
    const int64_t D = ctx.cfg.hidden_size;
    // Read from the file, not through the mapping: each row touched there
    // mapped the pages around it too (on Linux 6.18, a whole large
    // page-cache folio: RSS 1.22x what a flash-shape run needs after a
    // 512-token prompt, 1.03x with rows read).
    thread_local std::vector<uint16_t> row;
    row.resize(size_t(D));
    ctx.w.embed->read_bytes(uint64_t(token) * uint64_t(D) * 2, size_t(D) * 2, row.data());
    for (int64_t j = 0; j < D; ++j) out[j] = bf16_to_float(row[size_t(j)]);
}

void embed_tokens(const ForwardContext& ctx, const int32_t* tokens, int64_t n, float* h) {
    const int hc = ctx.cfg.hc_mult;
    const int64_t D = ctx.cfg.hidden_size;
    for (int64_t i = 0; i < n; ++i) {
        float* hi = h + i * hc * D;
        embedding_row(ctx, tokens[i], hi);
        for (int s = 1; s < hc; ++s) std::copy_n(hi, D, hi + s * D);
    }
}

void lm_head(const ForwardContext& ctx, const HcWeights& hc_w, const Tensor* norm, const float* h, int64_t n,
             float* logits) {
    const int64_t D = ctx.cfg.hidden_size;
    std::vector<float> x(size_t(n * D));
    hc_head(ctx, hc_w, h, n, x.data());
    rms_norm_rows(x.data(), n, D, norm, ctx.eps(), x.data());
    ctx.be.logits_matmul(ctx.w.head, x.data(), D, n, logits, ctx.cfg.vocab_size);
}

void lm_head(const ForwardContext& ctx, const HcWeights& hc_w, const Tensor* norm, const float* h, float* logits) {
    lm_head(ctx, hc_w, norm, h, 1, logits);
}

}  // namespace dsv4
