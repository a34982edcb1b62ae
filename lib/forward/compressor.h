// The KV compressor: gated pooling of every R consecutive tokens into one
// entry (ratio 4 overlaps each block with the previous one).
#pragma once

#include <cstdint>

#include "forward/context.h"
#include "session_state.h"

namespace dsv4 {

enum class CompressorKind { Attention, Indexer };

// Feeds tokens at positions p0..p0+n-1 (x: [n, D], the normed sublayer
// input). Every block completed by them is pooled, normed, rotated at its
// first position, quantization-simulated (FP8 for attention, Hadamard+FP4 for
// the indexer) and stored at entries[block].
void compressor_forward(const ForwardContext& ctx, const CompressorWeights& w, CompressorKind kind,
                        CompressorCarry& carry, int64_t p0, int64_t n, const float* x);

}  // namespace dsv4
