// What a session remembers between calls, sized per layer by its
// compression ratio (never ctx x d for every layer), and the formula for its
// size that dsv4_model_estimate_session_bytes reports without allocating.
//
// KV vectors are kept in the compact form the model already rounds them to:
// the first d - r dims of a window row or compressed attention entry as FP8
// e4m3 codes with one power-of-two (E8M0) scale byte per 64 dims, the r
// rotary dims in float32; indexer keys as packed FP4 e2m1 codes with one
// scale byte per 32 dims. Dequantizing gives back the float values the
// forward pass computed, bit for bit.
//
// Rings keep kTruncateSlack positions more than the model needs (window rows,
// compressor rows, final streams) so that going back a few tokens
// (Session::truncate after a rejected draft) needs no recomputation.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "config.h"

namespace dsv4 {

// Positions of history the rings keep beyond what the next token needs.
constexpr int kTruncateSlack = 32;

struct SessionBytes {
    uint64_t window = 0;      // KV window rings (main layers + MTP block)
    uint64_t compressed = 0;  // compressed attention entries
    uint64_t indexer = 0;     // the indexer's compressed keys (ratio-4 layers)
    uint64_t carry = 0;       // compressor rows + recent final streams (MTP input, truncation)
    uint64_t history = 0;     // token ids fed (4 bytes per token: deep truncation re-runs them)
    uint64_t kv_row = 0;      // bytes of one window row / compressed attention entry
    uint64_t index_key = 0;   // bytes of one indexer key
    uint64_t total() const { return window + compressed + indexer + carry + history; }
};

// Bytes of the state of a session of n_ctx tokens; pure arithmetic.
SessionBytes session_bytes(const ModelConfig& cfg, uint64_t n_ctx);
// Bytes of one compact KV row of `dim` dims whose last `rope` are rotary.
uint64_t kv_row_bytes(int dim, int rope);
// Bytes of one compact FP4 indexer key of `dim` dims.
uint64_t index_key_bytes(int dim);

// A table of compact KV rows (window ring or compressed attention entries).
// Storage is allocated uninitialized, so pages are committed as rows are
// written.
class KvRows {
public:
    KvRows() = default;
    KvRows(int dim, int rope, int64_t capacity);
    KvRows(const KvRows& o) { *this = o; }
    KvRows& operator=(const KvRows& o);  // copies every row (rings are small)
    KvRows(KvRows&&) = default;
    KvRows& operator=(KvRows&&) = default;

    int dim() const { return dim_; }
    int64_t capacity() const { return capacity_; }
    // Rounds x's first dim - rope values in place exactly as
    // fp8_simulate(x, dim - rope, 64) does, and stores x as row i.
    void quantize_store(int64_t i, float* x);
    void load(int64_t i, float* out) const;
    // Row i <- row j of src (same shape).
    void copy_row(int64_t i, const KvRows& src, int64_t j);
    // Rows [0, n) <- rows [0, n) of src.
    void copy_rows(const KvRows& src, int64_t n);

    // The three parts of row i (serialization).
    uint8_t* codes(int64_t i) const { return codes_.get() + i * nope_; }
    uint8_t* scales(int64_t i) const { return scales_.get() + i * blocks_; }
    float* rope(int64_t i) const { return rope_.get() + i * rope_dims_; }
    int nope() const { return nope_; }
    int blocks() const { return blocks_; }
    int rope_dims() const { return rope_dims_; }

private:
    int dim_ = 0, rope_dims_ = 0, nope_ = 0, blocks_ = 0;
    int64_t capacity_ = 0;
    std::unique_ptr<uint8_t[]> codes_, scales_;
    std::unique_ptr<float[]> rope_;
};

// A table of compact FP4 indexer keys (append-only).
class IndexKeys {
public:
    IndexKeys() = default;
    IndexKeys(int dim, int64_t capacity);

    int dim() const { return dim_; }
    int64_t capacity() const { return capacity_; }
    // Rounds x in place exactly as fp4_simulate(x, dim, 32) does and stores it as row i.
    void quantize_store(int64_t i, float* x);
    // out[(k - i0) * dim ...] = row k for k in [i0, i0 + n).
    void load(int64_t i0, int64_t n, float* out) const;
    void copy_rows(const IndexKeys& src, int64_t n);

    uint8_t* packed(int64_t i) const { return packed_.get() + i * (dim_ / 2); }
    uint8_t* scales(int64_t i) const { return scales_.get() + i * (dim_ / 32); }

private:
    int dim_ = 0;
    int64_t capacity_ = 0;
    std::unique_ptr<uint8_t[]> packed_, scales_;
};

// A compressor's recent rows: the wkv projection (a) and the gate plus
// position bias (g), each `cw` wide, of the last `ring` positions (position p
// in slot p % ring). A block is pooled when its last token arrives; with
// overlap (ratio 4) that reads the previous block's rows too.
struct CompressorCarry {
    int ratio = 0;
    int width = 0;  // c: the entry width
    int cw = 0;     // projection width: 2c with overlap, else c
    bool overlap = false;
    int64_t ring = 0;  // rows kept: ratio (x2 with overlap) + kTruncateSlack
    std::vector<float> a, g;
    KvRows* entries = nullptr;        // attention compressor: owned by SessionState, append-only
    IndexKeys* index_keys = nullptr;  // indexer compressor: owned by SessionState, append-only

    float* a_row(int64_t pos) { return a.data() + size_t(pos % ring) * size_t(cw); }
    float* g_row(int64_t pos) { return g.data() + size_t(pos % ring) * size_t(cw); }
    const float* a_row(int64_t pos) const { return a.data() + size_t(pos % ring) * size_t(cw); }
    const float* g_row(int64_t pos) const { return g.data() + size_t(pos % ring) * size_t(cw); }
    void clear();
};

// Per block (main layer or MTP): the KV window ring and compressors.
// Copying a LayerState copies the ring and carries but not the (append-only)
// compressed tables, which makes it a snapshot for rollback.
struct LayerState {
    int ratio = 0;
    int window = 0;                    // W: positions a query sees
    KvRows ring;                       // W + kTruncateSlack rows: position p in slot p % capacity
    CompressorCarry compressor;        // ratio > 0
    CompressorCarry index_compressor;  // ratio == 4
    void clear();
};

class SessionState {
public:
    SessionState(const ModelConfig& cfg, uint64_t n_ctx);
    SessionState(const SessionState&) = delete;
    SessionState& operator=(const SessionState&) = delete;
    SessionState(SessionState&&) = default;  // the tables move with their owners
    SessionState& operator=(SessionState&&) = default;

    std::vector<LayerState> layers;
    LayerState mtp;  // the MTP block's window ring (ratio 0)
    bool has_mtp = false;
    // The MTP ring holds the keys of positions before mtp_keys (<= position -
    // 1: position t's key needs token t + 1). Decoding does not compute them;
    // Session::catch_up_mtp does, from the streams, before a draft reads them.
    int64_t mtp_keys = 0;
    int64_t position = 0;
    // The furthest position the rings have been written to (>= position):
    // ring rows of positions before written - capacity are overwritten, so
    // going back to p keeps every row it needs while written - p <=
    // kTruncateSlack.
    int64_t written = 0;
    std::vector<int32_t> tokens;  // every token fed, in order (size == position)

    // Final streams [hc, D] of the token at `pos` (one of the last
    // kTruncateSlack + 1 positions, or with an MTP block the last window +
    // kTruncateSlack + 1: what catching up the MTP ring reads).
    float* streams(int64_t pos) { return h_ring_.data() + size_t(pos % h_slots_) * size_t(hw_); }
    const float* streams(int64_t pos) const { return h_ring_.data() + size_t(pos % h_slots_) * size_t(hw_); }
    int64_t stream_slots() const { return h_slots_; }
    int64_t stream_width() const { return hw_; }
    uint64_t n_ctx() const { return n_ctx_; }

    // Position, rings, carries and streams: everything a chunk may change
    // except the append-only tables (which need no rollback) and the token
    // history (cut back to the position).
    struct Snapshot {
        std::vector<LayerState> layers;
        LayerState mtp;
        std::vector<float> h_ring;
        int64_t position = 0, written = 0, mtp_keys = 0;
    };
    Snapshot snapshot() const { return Snapshot{layers, mtp, h_ring_, position, written, mtp_keys}; }
    void restore(Snapshot&& s);
    void clear();
    // This state <- the first `o.position` tokens' worth of o (same model,
    // n_ctx >= o.position): rings and carries whole, tables up to their use.
    void copy_from(const SessionState& o);

private:
    uint64_t n_ctx_ = 0;
    int64_t hw_ = 0, h_slots_ = 0;
    std::vector<float> h_ring_;
    std::vector<std::unique_ptr<KvRows>> entry_tables_;
    std::vector<std::unique_ptr<IndexKeys>> key_tables_;
};

}  // namespace dsv4
