#include "session_state.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "error.h"
#include "forward/quant_sim.h"

namespace dsv4 {

namespace {

constexpr int kFp8Block = 64, kFp4Block = 32;

uint64_t ceil_div(uint64_t a, uint64_t b) {
    return (a + b - 1) / b;
}

int64_t carry_ring(int ratio) {
    return (ratio == 4 ? 2 * ratio : ratio) + kTruncateSlack;
}

uint64_t carry_floats(int ratio, int width) {
    const uint64_t cw = (ratio == 4 ? 2 : 1) * uint64_t(width);
    return 2 * uint64_t(carry_ring(ratio)) * cw;  // a and g
}

template <class T>
std::unique_ptr<T[]> uninitialized(int64_t n) {
    return std::unique_ptr<T[]>(new T[size_t(std::max<int64_t>(n, 1))]);
}

}  // namespace

uint64_t kv_row_bytes(int dim, int rope) {
    const uint64_t nope = uint64_t(dim - rope);
    return nope + nope / kFp8Block + uint64_t(rope) * sizeof(float);
}

uint64_t index_key_bytes(int dim) {
    return uint64_t(dim) / 2 + uint64_t(dim) / kFp4Block;
}

SessionBytes session_bytes(const ModelConfig& c, uint64_t n_ctx) {
    SessionBytes b;
    const uint64_t f = sizeof(float);
    b.kv_row = kv_row_bytes(c.head_dim, c.rope_head_dim);
    b.index_key = index_key_bytes(c.index_head_dim);
    const int blocks = c.n_layers + (c.n_mtp_layers > 0 ? 1 : 0);
    for (int l = 0; l < blocks; ++l) {
        const int R = c.ratio(l);
        b.window += uint64_t(c.sliding_window + kTruncateSlack) * b.kv_row;
        if (R > 0) {
            b.compressed += ceil_div(n_ctx, uint64_t(R)) * b.kv_row;
            b.carry += carry_floats(R, c.head_dim) * f;
        }
        if (R == 4) {
            b.indexer += ceil_div(n_ctx, 4) * b.index_key;
            b.carry += carry_floats(4, c.index_head_dim) * f;
        }
    }
    const uint64_t stream_slots = uint64_t(kTruncateSlack + 1) + (c.n_mtp_layers > 0 ? uint64_t(c.sliding_window) : 0);
    b.carry += stream_slots * uint64_t(c.hc_mult) * uint64_t(c.hidden_size) * f;
    b.history = n_ctx * sizeof(int32_t);
    return b;
}

KvRows::KvRows(int dim, int rope, int64_t capacity)
    : dim_(dim), rope_dims_(rope), nope_(dim - rope), blocks_((dim - rope) / kFp8Block), capacity_(capacity) {
    if (nope_ < 0 || nope_ % kFp8Block)
        fail(DSV4_STATUS_FORMAT, "KV rows of " + std::to_string(dim) + " dims with " + std::to_string(rope) +
                                     " rotary ones: the FP8 part is not a multiple of 64");
    codes_ = uninitialized<uint8_t>(capacity * nope_);
    scales_ = uninitialized<uint8_t>(capacity * blocks_);
    rope_ = uninitialized<float>(capacity * rope_dims_);
}

KvRows& KvRows::operator=(const KvRows& o) {
    if (this == &o) return *this;
    if (!o.codes_) {
        *this = KvRows();
        return *this;
    }
    if (dim_ != o.dim_ || rope_dims_ != o.rope_dims_ || capacity_ != o.capacity_ || !codes_) {
        KvRows fresh(o.dim_, o.rope_dims_, o.capacity_);
        *this = std::move(fresh);
    }
    copy_rows(o, capacity_);
    return *this;
}

void KvRows::quantize_store(int64_t i, float* x) {
    fp8_quantize(x, nope_, kFp8Block, codes(i), scales(i));
    std::memcpy(rope(i), x + nope_, size_t(rope_dims_) * sizeof(float));
}

void KvRows::load(int64_t i, float* out) const {
    fp8_dequantize(codes(i), scales(i), nope_, kFp8Block, out);
    std::memcpy(out + nope_, rope(i), size_t(rope_dims_) * sizeof(float));
}

void KvRows::copy_row(int64_t i, const KvRows& src, int64_t j) {
    std::memcpy(codes(i), src.codes(j), size_t(nope_));
    std::memcpy(scales(i), src.scales(j), size_t(blocks_));
    std::memcpy(rope(i), src.rope(j), size_t(rope_dims_) * sizeof(float));
}

void KvRows::copy_rows(const KvRows& src, int64_t n) {
    if (n <= 0) return;
    std::memcpy(codes_.get(), src.codes_.get(), size_t(n * nope_));
    std::memcpy(scales_.get(), src.scales_.get(), size_t(n * blocks_));
    std::memcpy(rope_.get(), src.rope_.get(), size_t(n * rope_dims_) * sizeof(float));
}

IndexKeys::IndexKeys(int dim, int64_t capacity) : dim_(dim), capacity_(capacity) {
    if (dim % kFp4Block)
        fail(DSV4_STATUS_FORMAT, "indexer keys of " + std::to_string(dim) + " dims: not a multiple of 32");
    packed_ = uninitialized<uint8_t>(capacity * (dim / 2));
    scales_ = uninitialized<uint8_t>(capacity * (dim / kFp4Block));
}

void IndexKeys::quantize_store(int64_t i, float* x) {
    fp4_quantize(x, dim_, kFp4Block, packed(i), scales(i));
}

void IndexKeys::load(int64_t i0, int64_t n, float* out) const {
    for (int64_t k = 0; k < n; ++k) fp4_dequantize(packed(i0 + k), scales(i0 + k), dim_, kFp4Block, out + k * dim_);
}

void IndexKeys::copy_rows(const IndexKeys& src, int64_t n) {
    if (n <= 0) return;
    std::memcpy(packed_.get(), src.packed_.get(), size_t(n * (dim_ / 2)));
    std::memcpy(scales_.get(), src.scales_.get(), size_t(n * (dim_ / kFp4Block)));
}

void CompressorCarry::clear() {
    std::fill(a.begin(), a.end(), 0.0f);
    std::fill(g.begin(), g.end(), -std::numeric_limits<float>::infinity());
}

void LayerState::clear() {
    if (compressor.ratio) compressor.clear();
    if (index_compressor.ratio) index_compressor.clear();
}

SessionState::SessionState(const ModelConfig& c, uint64_t n_ctx) : n_ctx_(n_ctx) {
    auto make_carry = [&](int ratio, int width) {
        CompressorCarry k;
        k.ratio = ratio;
        k.width = width;
        k.overlap = ratio == 4;
        k.cw = (k.overlap ? 2 : 1) * width;
        k.ring = carry_ring(ratio);
        k.a.resize(size_t(k.ring) * size_t(k.cw));
        k.g.resize(size_t(k.ring) * size_t(k.cw));
        return k;
    };
    auto make_layer = [&](int ratio) {
        LayerState s;
        s.ratio = ratio;
        s.window = c.sliding_window;
        s.ring = KvRows(c.head_dim, c.rope_head_dim, c.sliding_window + kTruncateSlack);
        if (ratio > 0) {
            s.compressor = make_carry(ratio, c.head_dim);
            entry_tables_.emplace_back(
                new KvRows(c.head_dim, c.rope_head_dim, int64_t(ceil_div(n_ctx, uint64_t(ratio)))));
            s.compressor.entries = entry_tables_.back().get();
        }
        if (ratio == 4) {
            s.index_compressor = make_carry(4, c.index_head_dim);
            key_tables_.emplace_back(new IndexKeys(c.index_head_dim, int64_t(ceil_div(n_ctx, 4))));
            s.index_compressor.index_keys = key_tables_.back().get();
        }
        return s;
    };
    for (int l = 0; l < c.n_layers; ++l) layers.push_back(make_layer(c.ratio(l)));
    has_mtp = c.n_mtp_layers > 0;
    if (has_mtp) mtp = make_layer(c.ratio(c.n_layers));
    hw_ = int64_t(c.hc_mult) * c.hidden_size;
    h_slots_ = kTruncateSlack + 1 + (has_mtp ? c.sliding_window : 0);
    h_ring_.resize(size_t(h_slots_ * hw_));
    clear();
}

void SessionState::restore(Snapshot&& s) {
    layers = std::move(s.layers);
    mtp = std::move(s.mtp);
    h_ring_ = std::move(s.h_ring);
    position = s.position;
    written = s.written;
    mtp_keys = s.mtp_keys;
    tokens.resize(size_t(position));
}

void SessionState::clear() {
    for (auto& l : layers) l.clear();
    if (has_mtp) mtp.clear();
    std::fill(h_ring_.begin(), h_ring_.end(), 0.0f);
    position = 0;
    written = 0;
    mtp_keys = 0;
    tokens.clear();
}

void SessionState::copy_from(const SessionState& o) {
    if (uint64_t(o.position) > n_ctx_ || o.layers.size() != layers.size())
        fail(DSV4_STATUS_INTERNAL, "session state copy: incompatible shapes");
    for (size_t l = 0; l < layers.size(); ++l) {
        LayerState& d = layers[l];
        const LayerState& s = o.layers[l];
        KvRows* entries = d.compressor.entries;
        IndexKeys* keys = d.index_compressor.index_keys;
        d = s;
        d.compressor.entries = entries;
        d.index_compressor.index_keys = keys;
        if (entries) entries->copy_rows(*s.compressor.entries, o.position / s.ratio);
        if (keys) keys->copy_rows(*s.index_compressor.index_keys, o.position / 4);
    }
    if (has_mtp) mtp = o.mtp;
    h_ring_ = o.h_ring_;
    position = o.position;
    written = o.written;
    mtp_keys = o.mtp_keys;
    tokens = o.tokens;
}

}  // namespace dsv4
