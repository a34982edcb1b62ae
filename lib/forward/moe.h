// The mixture-of-experts FFN: sqrt-softplus router (bias-shifted top-k, or a
// fixed token-id table on hash layers), route scaling, clamped SwiGLU
// experts and the shared expert.
#pragma once

#include <cstdint>
#include <vector>

#include "forward/context.h"

namespace dsv4 {

struct Routing {
    std::vector<int32_t> experts;  // [n, k]
    std::vector<float> weights;    // [n, k]
};

// tokens: the ids routed by hash layers (tid2eid); x: [n, D] normed input.
Routing route_tokens(const ForwardContext& ctx, const MoEWeights& w, const int32_t* tokens, int64_t n, const float* x);

// out: [n, D] (overwritten).
void moe_forward(const ForwardContext& ctx, const MoEWeights& w, const int32_t* tokens, int64_t n, const float* x,
                 float* out);

}  // namespace dsv4
