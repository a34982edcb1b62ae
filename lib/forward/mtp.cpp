#include "forward/mtp.h"

#include <vector>

#include "forward/attention.h"
#include "forward/block.h"
#include "forward/head.h"
#include "forward/hyper_connections.h"
#include "forward/norm.h"

namespace dsv4 {

namespace {

// The block's input streams: x_s = e_proj . enorm(embed(next)) + h_proj .
// hnorm(h_s) for each stream s, into x [n, hc, D].
void mtp_inputs(const ForwardContext& ctx, const BlockWeights& w, int64_t n, const float* h, const int32_t* next,
                float* x) {
    const int hc = ctx.cfg.hc_mult;
    const int64_t D = ctx.cfg.hidden_size;
    const float eps = ctx.eps();
    std::vector<float> e(size_t(n * D)), ep(size_t(n * D));
    for (int64_t i = 0; i < n; ++i) {
        embedding_row(ctx, next[i], e.data() + i * D);
        rms_norm(e.data() + i * D, D, w.enorm, eps, e.data() + i * D);
    }
    ctx.be.matmul(w.e_proj, 0, D, e.data(), D, n, ep.data(), D);
    std::vector<float> hn(size_t(n * hc * D));
    rms_norm_rows(h, n * hc, D, w.hnorm, eps, hn.data());
    ctx.be.matmul(w.h_proj, 0, D, hn.data(), D, n * hc, x, D);
    for (int64_t i = 0; i < n; ++i)
        for (int s = 0; s < hc; ++s) {
            float* o = x + (i * hc + s) * D;
            const float* epi = ep.data() + i * D;
            for (int64_t j = 0; j < D; ++j) o[j] = epi[j] + o[j];
        }
}

}  // namespace

void mtp_forward(const ForwardContext& ctx, const BlockWeights& w, LayerState& st, int64_t q0, int64_t n,
                 const float* h, const int32_t* next, float* h_out) {
    mtp_inputs(ctx, w, n, h, next, h_out);
    block_forward(ctx, w, st, q0, n, next, h_out);
}

void mtp_store_keys(const ForwardContext& ctx, const BlockWeights& w, LayerState& st, int64_t q0, int64_t n,
                    const float* h, const int32_t* next) {
    const int64_t D = ctx.cfg.hidden_size;
    std::vector<float> streams(size_t(n * ctx.cfg.hc_mult * D)), x(size_t(n * D));
    mtp_inputs(ctx, w, n, h, next, streams.data());
    // block_forward's first steps, up to the attention's input.
    hc_pre(ctx, w.hc_attn, streams.data(), n, x.data());
    rms_norm_rows(x.data(), n, D, w.attn_norm, ctx.eps(), x.data());
    attention_store_keys(ctx, w.attn, st, q0, n, x.data());
}

void mtp_logits(const ForwardContext& ctx, const BlockWeights& w, const float* h_out, float* logits) {
    lm_head(ctx, w.hc_head, w.norm, h_out, logits);
}

}  // namespace dsv4
