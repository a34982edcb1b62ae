// The multi-token-prediction block: from the main model's final streams at
// position t and the id of token t+1, a draft distribution for token t+2.
#pragma once

#include <cstdint>

#include "forward/context.h"
#include "session_state.h"

namespace dsv4 {

// h: [n, hc, D] main-model final streams of positions q0..q0+n-1; next: the
// ids of tokens q0+1..q0+n. Runs the MTP block (updating its window ring in
// st) and leaves its output streams in h_out [n, hc, D].
void mtp_forward(const ForwardContext& ctx, const BlockWeights& w, LayerState& st, int64_t q0, int64_t n,
                 const float* h, const int32_t* next, float* h_out);

// mtp_forward's update of the block's window ring alone, without its output:
// what a draft needs of the positions before it (the block's attention at a
// position reads their keys; nothing else of its state outlives a call).
// Session::catch_up_mtp runs it for the positions decoding skipped. Its
// weights: e_proj, h_proj and wkv; on flash-shape 34 of the 249 MB the whole
// block reads per position.
void mtp_store_keys(const ForwardContext& ctx, const BlockWeights& w, LayerState& st, int64_t q0, int64_t n,
                    const float* h, const int32_t* next);

// logits[V] of the MTP head for one token's MTP output streams.
void mtp_logits(const ForwardContext& ctx, const BlockWeights& w, const float* h_out, float* logits);

}  // namespace dsv4
