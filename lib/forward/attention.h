// The attention sublayer: low-rank query, shared-KV MQA over the sliding
// window plus compressed entries, attention sinks, grouped output projection.
#pragma once

#include <cstdint>

#include "forward/context.h"
#include "session_state.h"

namespace dsv4 {

// x: [n, D] normed input for positions p0..p0+n-1; out: [n, D]. Reads the
// window ring for positions before p0 and writes this chunk's keys into it.
void attention_forward(const ForwardContext& ctx, const AttentionWeights& w, LayerState& st, int64_t p0, int64_t n,
                       const float* x, float* out);

// Only the window ring's part of attention_forward: the keys of positions
// p0..p0+n-1, computed and stored exactly as it does, without the queries,
// the attention or the output. For a block whose output nobody reads but
// whose later queries read this ring (the MTP block between drafts). Layers
// with compressed entries (ratio > 0) keep more state: they fail here.
void attention_store_keys(const ForwardContext& ctx, const AttentionWeights& w, LayerState& st, int64_t p0, int64_t n,
                          const float* x);

}  // namespace dsv4
