// The lightning indexer of ratio-4 layers: picks, per query, the top-k
// compressed entries the attention reads.
#pragma once

#include <cstdint>
#include <vector>

#include "forward/context.h"
#include "session_state.h"

namespace dsv4 {

// x: [n, D] normed sublayer input, qr: [n, Lq] the normed low-rank query.
// Updates the indexer's compressor, then fills selected[i] with the chosen
// entry indices (best first) for the query at p0 + i.
void indexer_forward(const ForwardContext& ctx, const IndexerWeights& w, CompressorCarry& carry, int64_t p0,
                     int64_t n, const float* x, const float* qr, std::vector<std::vector<int64_t>>& selected);

// The top min(k, count) indices of scores[0..count), highest first; equal
// scores keep the lower index first.
std::vector<int64_t> top_k_indices(const float* scores, int64_t count, int64_t k);

}  // namespace dsv4
