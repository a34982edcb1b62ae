#include "forward/mtp.h"

#include <vector>

#include "forward/block.h"
#include "forward/head.h"
#include "forward/norm.h"

namespace dsv4 {

void mtp_forward(const ForwardContext& ctx, const BlockWeights& w, LayerState& st, int64_t q0, int64_t n,
                 const float* h, const int32_t* next, float* h_out) {
    const int hc = ctx.cfg.hc_mult;
    const int64_t D = ctx.cfg.hidden_size;
    const float eps = ctx.eps();
    // x_s = e_proj . enorm(embed(next)) + h_proj . hnorm(h_s) for each stream s.
    std::vector<float> e(size_t(n * D)), ep(size_t(n * D));
    for (int64_t i = 0; i < n; ++i) {
        embedding_row(ctx, next[i], e.data() + i * D);
        rms_norm(e.data() + i * D, D, w.enorm, eps, e.data() + i * D);
    }
    ctx.be.matmul(w.e_proj, 0, D, e.data(), D, n, ep.data(), D);
    std::vector<float> hn(size_t(n * hc * D));
    rms_norm_rows(h, n * hc, D, w.hnorm, eps, hn.data());
    ctx.be.matmul(w.h_proj, 0, D, hn.data(), D, n * hc, h_out, D);
    for (int64_t i = 0; i < n; ++i)
        for (int s = 0; s < hc; ++s) {
            float* o = h_out + (i * hc + s) * D;
            const float* epi = ep.data() + i * D;
            for (int64_t j = 0; j < D; ++j) o[j] = epi[j] + o[j];
        }
    block_forward(ctx, w, st, q0, n, next, h_out);
}

void mtp_logits(const ForwardContext& ctx, const BlockWeights& w, const float* h_out, float* logits) {
    lm_head(ctx, w.hc_head, w.norm, h_out, logits);
}

}  // namespace dsv4
