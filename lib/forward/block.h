// One transformer block (main layer or MTP): attention and MoE sublayers,
// each wrapped in hyper-connection mixing.
#pragma once

#include <cstdint>

#include "forward/context.h"
#include "session_state.h"

namespace dsv4 {

// h: [n, hc, D] streams of positions p0..p0+n-1, updated in place. tokens:
// the ids for hash routing (the MTP block passes the next tokens).
void block_forward(const ForwardContext& ctx, const BlockWeights& w, LayerState& st, int64_t p0, int64_t n,
                   const int32_t* tokens, float* h);

}  // namespace dsv4
