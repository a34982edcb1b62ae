// What a session remembers between calls, sized per layer by its
// compression ratio (never ctx x d for every layer), and the formula for its
// size that dsv4_model_estimate_session_bytes reports without allocating.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "config.h"

namespace dsv4 {

struct SessionBytes {
    uint64_t window = 0;      // raw KV window rings (main layers + MTP block)
    uint64_t compressed = 0;  // compressed attention entries
    uint64_t indexer = 0;     // the indexer's compressed keys (ratio-4 layers)
    uint64_t carry = 0;       // compressor carry rows + the last token's streams (MTP input)
    uint64_t total() const { return window + compressed + indexer + carry; }
};

// Bytes of the state of a session of n_ctx tokens; pure arithmetic.
SessionBytes session_bytes(const ModelConfig& cfg, uint64_t n_ctx);

// The incomplete block of a compressor. Rows hold the wkv projection (a) and
// the gate plus position bias (g), each `cw` wide. With overlap (ratio 4)
// rows [0, R) keep the previous complete block, rows [R, 2R) the current.
struct CompressorCarry {
    int ratio = 0;
    int width = 0;   // c: the entry width
    int cw = 0;      // projection width: 2c with overlap, else c
    bool overlap = false;
    std::vector<float> a, g;
    float* entries = nullptr;  // [capacity, width]: owned by SessionState, append-only
    int64_t capacity = 0;

    int rows() const { return overlap ? 2 * ratio : ratio; }
    int current_row0() const { return overlap ? ratio : 0; }
    void clear();
};

// Per block (main layer or MTP): the raw KV window ring and compressors.
// Copying a LayerState copies the ring and carries but not the (append-only)
// compressed entries, which makes it a cheap snapshot for rollback.
struct LayerState {
    int ratio = 0;
    int window = 0;                 // W
    int dim = 0;                    // d
    std::vector<float> ring;        // [W, d]: position p lives in slot p % W
    CompressorCarry compressor;     // ratio > 0
    CompressorCarry index_compressor;  // ratio == 4
    void clear();
};

class SessionState {
public:
    SessionState(const ModelConfig& cfg, uint64_t n_ctx);

    std::vector<LayerState> layers;
    LayerState mtp;          // the MTP block's window ring (ratio 0)
    bool has_mtp = false;
    std::vector<float> last_h;  // [hc, D]: final streams of the last token fed
    int64_t position = 0;

    // Position, rings, carries and last_h: everything a chunk may change
    // except the append-only entries (which need no rollback).
    struct Snapshot {
        std::vector<LayerState> layers;
        LayerState mtp;
        std::vector<float> last_h;
        int64_t position = 0;
    };
    Snapshot snapshot() const { return Snapshot{layers, mtp, last_h, position}; }
    void restore(Snapshot&& s);
    void clear();

private:
    std::vector<std::unique_ptr<float[]>> storage_;  // compressed entry tables
};

}  // namespace dsv4
