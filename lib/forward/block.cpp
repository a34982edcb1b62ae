#include "forward/block.h"

#include <vector>

#include "forward/attention.h"
#include "forward/hyper_connections.h"
#include "forward/moe.h"
#include "forward/norm.h"

namespace dsv4 {

void block_forward(const ForwardContext& ctx, const BlockWeights& w, LayerState& st, int64_t p0, int64_t n,
                   const int32_t* tokens, float* h) {
    const int64_t D = ctx.cfg.hidden_size;
    std::vector<float> x(size_t(n * D)), y(size_t(n * D));

    HcMix m = hc_pre(ctx, w.hc_attn, h, n, x.data());
    rms_norm_rows(x.data(), n, D, w.attn_norm, ctx.eps(), x.data());
    attention_forward(ctx, w.attn, st, p0, n, x.data(), y.data());
    hc_post(ctx, m, y.data(), n, h);

    m = hc_pre(ctx, w.hc_ffn, h, n, x.data());
    rms_norm_rows(x.data(), n, D, w.ffn_norm, ctx.eps(), x.data());
    moe_forward(ctx, w.ffn, tokens, n, x.data(), y.data());
    hc_post(ctx, m, y.data(), n, h);
}

}  // namespace dsv4
