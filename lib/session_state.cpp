#include "session_state.h"

#include <limits>

namespace dsv4 {

namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

uint64_t carry_floats(int ratio, int width) {
    const bool overlap = ratio == 4;
    const uint64_t rows = overlap ? 2 * ratio : ratio, cw = (overlap ? 2 : 1) * uint64_t(width);
    return 2 * rows * cw;  // a and g
}

}  // namespace

SessionBytes session_bytes(const ModelConfig& c, uint64_t n_ctx) {
    SessionBytes b;
    const uint64_t f = sizeof(float), W = uint64_t(c.sliding_window), d = uint64_t(c.head_dim),
                   di = uint64_t(c.index_head_dim);
    const int blocks = c.n_layers + (c.n_mtp_layers > 0 ? 1 : 0);
    for (int l = 0; l < blocks; ++l) {
        const int R = c.ratio(l);
        b.window += W * d * f;
        if (R > 0) {
            b.compressed += ceil_div(n_ctx, uint64_t(R)) * d * f;
            b.carry += carry_floats(R, c.head_dim) * f;
        }
        if (R == 4) {
            b.indexer += ceil_div(n_ctx, 4) * di * f;
            b.carry += carry_floats(4, c.index_head_dim) * f;
        }
    }
    b.carry += uint64_t(c.hc_mult) * uint64_t(c.hidden_size) * f;
    return b;
}

void CompressorCarry::clear() {
    std::fill(a.begin(), a.end(), 0.0f);
    // A missing previous block scores -inf: it gets no weight in the softmax.
    std::fill(g.begin(), g.end(), -std::numeric_limits<float>::infinity());
}

void LayerState::clear() {
    std::fill(ring.begin(), ring.end(), 0.0f);
    if (compressor.ratio) compressor.clear();
    if (index_compressor.ratio) index_compressor.clear();
}

SessionState::SessionState(const ModelConfig& c, uint64_t n_ctx) {
    auto make_carry = [&](int ratio, int width) {
        CompressorCarry k;
        k.ratio = ratio;
        k.width = width;
        k.overlap = ratio == 4;
        k.cw = (k.overlap ? 2 : 1) * width;
        k.a.resize(size_t(k.rows()) * size_t(k.cw));
        k.g.resize(size_t(k.rows()) * size_t(k.cw));
        k.capacity = int64_t(ceil_div(n_ctx, uint64_t(ratio)));
        // Left uninitialized: pages are only committed as entries are written.
        storage_.emplace_back(new float[size_t(k.capacity) * size_t(width)]);
        k.entries = storage_.back().get();
        return k;
    };
    auto make_layer = [&](int ratio) {
        LayerState s;
        s.ratio = ratio;
        s.window = c.sliding_window;
        s.dim = c.head_dim;
        s.ring.resize(size_t(c.sliding_window) * size_t(c.head_dim));
        if (ratio > 0) s.compressor = make_carry(ratio, c.head_dim);
        if (ratio == 4) s.index_compressor = make_carry(4, c.index_head_dim);
        return s;
    };
    for (int l = 0; l < c.n_layers; ++l) layers.push_back(make_layer(c.ratio(l)));
    has_mtp = c.n_mtp_layers > 0;
    if (has_mtp) mtp = make_layer(c.ratio(c.n_layers));
    last_h.resize(size_t(c.hc_mult) * size_t(c.hidden_size));
    clear();
}

void SessionState::restore(Snapshot&& s) {
    layers = std::move(s.layers);
    mtp = std::move(s.mtp);
    last_h = std::move(s.last_h);
    position = s.position;
}

void SessionState::clear() {
    for (auto& l : layers) l.clear();
    if (has_mtp) mtp.clear();
    std::fill(last_h.begin(), last_h.end(), 0.0f);
    position = 0;
}

}  // namespace dsv4
