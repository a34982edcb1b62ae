// Token embedding into hc streams, and the LM head over the final streams.
#pragma once

#include <cstdint>

#include "forward/context.h"

namespace dsv4 {

// h: [n, hc, D]; every stream starts as the token's embedding row.
void embed_tokens(const ForwardContext& ctx, const int32_t* tokens, int64_t n, float* h);
// out: [D] = the BF16 embedding row of `token`.
void embedding_row(const ForwardContext& ctx, int32_t token, float* out);

// logits[V] = head . norm(hc_head(h)) for one token's streams h [hc, D].
void lm_head(const ForwardContext& ctx, const HcWeights& hc_w, const Tensor* norm, const float* h, float* logits);
// The same for n tokens: h [n, hc, D], logits [n, V] (the head read once).
void lm_head(const ForwardContext& ctx, const HcWeights& hc_w, const Tensor* norm, const float* h, int64_t n,
             float* logits);

}  // namespace dsv4
