// Hyper-connections: hc parallel residual streams mixed around every
// sublayer by input-dependent weights (pre / post / a Sinkhorn-normalized
// combination matrix), and the head's reduction of the streams to one.
#pragma once

#include <cstdint>
#include <vector>

#include "forward/context.h"

namespace dsv4 {

struct HcMix {
    std::vector<float> pre;   // [n, hc]
    std::vector<float> post;  // [n, hc]
    std::vector<float> comb;  // [n, hc, hc]: comb[s][j] weighs stream s into new stream j
};

// From raw mixes [(2+hc)*hc] of one token: pre/post via sigmoids, comb via
// a row softmax and Sinkhorn iterations toward a doubly stochastic matrix.
void hc_split_sinkhorn(const float* mixes, const float* scale, const float* base, int hc, int iters, float eps,
                       float* pre, float* post, float* comb);

// x[i] = sum_s pre[i][s] * h[i][s] for the sublayer input; h: [n, hc, D].
HcMix hc_pre(const ForwardContext& ctx, const HcWeights& w, const float* h, int64_t n, float* x);
// h <- post * y + comb^T . h, per token.
void hc_post(const ForwardContext& ctx, const HcMix& m, const float* y, int64_t n, float* h);
// The head's reduction: x[i] = sum_s (sigmoid(m_s * scale + base_s) + eps) * h[i][s].
void hc_head(const ForwardContext& ctx, const HcWeights& w, const float* h, int64_t n, float* x);

}  // namespace dsv4
