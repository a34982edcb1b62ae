#include "forward/attention.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "aligned_vector.h"
#include "error.h"
#include "forward/compressor.h"
#include "forward/indexer.h"
#include "forward/norm.h"
#include "forward/quant_sim.h"

namespace dsv4 {

namespace {

// The chunk's shared key/value head: kv [n, d] normed, rotated and with its
// non-rotated dims FP8-simulated; the last ring-capacity rows also as ring
// rows (codes) in the result, from row first_kept on.
KvRows chunk_keys(const ForwardContext& ctx, const AttentionWeights& w, const LayerState& st, int64_t p0, int64_t n,
                  const float* x, float* kv, int64_t& first_kept) {
    const ModelConfig& c = ctx.cfg;
    const int d = c.head_dim, r = c.rope_head_dim;
    const RopeTable& rope = ctx.rope_for(w.ratio);
    ctx.be.matmul(w.wkv, 0, d, x, c.hidden_size, n, kv, d);
    first_kept = std::max<int64_t>(0, n - st.ring.capacity());
    KvRows fresh(d, r, n - first_kept);
    for (int64_t i = 0; i < n; ++i) {
        float* k = kv + i * d;
        rms_norm(k, d, w.kv_norm, ctx.eps(), k);
        rope.apply(k + (d - r), p0 + i);
        if (i >= first_kept)
            fresh.quantize_store(i - first_kept, k);
        else
            fp8_simulate(k, d - r, 64);
    }
    return fresh;
}

void store_keys(LayerState& st, int64_t p0, int64_t n, int64_t first_kept, const KvRows& fresh) {
    for (int64_t i = first_kept; i < n; ++i) st.ring.copy_row((p0 + i) % st.ring.capacity(), fresh, i - first_kept);
}

}  // namespace

void attention_store_keys(const ForwardContext& ctx, const AttentionWeights& w, LayerState& st, int64_t p0, int64_t n,
                          const float* x) {
    if (w.ratio != 0 || w.has_indexer || w.has_compressor)
        fail(DSV4_STATUS_INTERNAL,
             "attention_store_keys: a layer with compressed entries keeps more state than its ring");
    std::vector<float> kv(size_t(n * ctx.cfg.head_dim));
    int64_t first_kept = 0;
    const KvRows fresh = chunk_keys(ctx, w, st, p0, n, x, kv.data(), first_kept);
    store_keys(st, p0, n, first_kept, fresh);
}

void attention_forward(const ForwardContext& ctx, const AttentionWeights& w, LayerState& st, int64_t p0, int64_t n,
                       const float* x, float* out) {
    const ModelConfig& c = ctx.cfg;
    const int H = c.n_heads, d = c.head_dim, r = c.rope_head_dim, W = c.sliding_window, R = w.ratio;
    const int64_t D = c.hidden_size, Lq = c.q_lora_rank, qw = int64_t(H) * d;
    const float eps = ctx.eps();
    const RopeTable& rope = ctx.rope_for(R);

    // Query: low-rank, normed, then each head normed without a weight.
    ScratchVector<float> qr(size_t(n * Lq)), q(size_t(n * qw));
    ctx.be.matmul(w.wq_a, 0, Lq, x, D, n, qr.data(), Lq);
    rms_norm_rows(qr.data(), n, Lq, w.q_norm, eps, qr.data());
    ctx.be.matmul(w.wq_b, 0, qw, qr.data(), Lq, n, q.data(), qw);
    RopeTable::Angles angles;
    for (int64_t i = 0; i < n; ++i) {
        rope.angles(p0 + i, false, angles);
        for (int h = 0; h < H; ++h) {
            float* qh = q.data() + i * qw + int64_t(h) * d;
            rms_norm(qh, d, nullptr, eps, qh);
            rope.rotate(qh + (d - r), angles);
        }
    }

    // The single shared key/value head; its non-rotated dims are FP8-simulated
    // (and kept as codes for the window ring). Rows that sparse_attention
    // reads, here and below, start on cache lines (aligned_vector.h). The
    // per-call buffers of this function are ScratchVectors: what fills each
    // (a matmul, load_kv_rows, sparse_attention) writes every element, so
    // zeroing them first would be a wasted pass over memory.
    ScratchVector<float> kv(size_t(n * d));
    int64_t first_kept = 0;
    const KvRows fresh = chunk_keys(ctx, w, st, p0, n, x, kv.data(), first_kept);

    std::vector<std::vector<int64_t>> selected;
    if (w.has_indexer) indexer_forward(ctx, w.indexer, st.index_compressor, p0, n, x, qr.data(), selected);
    if (w.has_compressor) compressor_forward(ctx, w.compressor, CompressorKind::Attention, st.compressor, p0, n, x);

    // The backend reads float rows: compact ones are dequantized into
    // scratch, the window rows of earlier calls once per chunk, the entries
    // an indexer selects per query (into `gathered`).
    const int64_t ring_rows = std::max<int64_t>(0, std::min<int64_t>(W - 1, p0));
    ScratchVector<float> window_rows(size_t(ring_rows * d)), gathered;
    std::vector<int64_t> slots;
    const KvRows& ring = st.ring;
    for (int64_t t = p0 - ring_rows; t < p0; ++t) slots.push_back(t % ring.capacity());
    ctx.be.load_kv_rows(ring, slots.data(), ring_rows, window_rows.data());
    // Without an indexer every query reads all entries so far: dequantize
    // those of the whole chunk once.
    ScratchVector<float> all_entries;
    const KvRows empty;
    const KvRows& entries = R > 0 ? *st.compressor.entries : empty;
    if (R > 0 && !w.has_indexer) {
        const int64_t count = (p0 + n) / R;
        all_entries.resize(size_t(count * d));
        slots.resize(size_t(count));
        std::iota(slots.begin(), slots.end(), int64_t(0));
        ctx.be.load_kv_rows(entries, slots.data(), count, all_entries.data());
    }
    ScratchVector<float> o(size_t(n * qw));
    std::vector<const float*> rows;
    const float scale = float(std::pow(double(d), -0.5));
    for (int64_t i = 0; i < n; ++i) {
        const int64_t p = p0 + i;
        rows.clear();
        for (int64_t t = std::max<int64_t>(0, p - W + 1); t <= p; ++t)
            rows.push_back(t < p0 ? window_rows.data() + (t - p0 + ring_rows) * d : kv.data() + (t - p0) * d);
        if (R > 0) {
            if (w.has_indexer) {
                const auto& sel = selected[size_t(i)];
                gathered.resize(sel.size() * size_t(d));
                ctx.be.load_kv_rows(entries, sel.data(), int64_t(sel.size()), gathered.data());
                for (size_t k = 0; k < sel.size(); ++k) rows.push_back(gathered.data() + k * d);
            } else {
                for (int64_t b = 0; b < (p + 1) / R; ++b) rows.push_back(all_entries.data() + b * d);
            }
        }
        SparseAttentionArgs a;
        a.q = q.data() + i * qw;
        a.n_heads = H;
        a.dim = d;
        a.kv = rows.data();
        a.n_kv = int64_t(rows.size());
        a.sink = w.attn_sink->as<float>();
        a.scale = scale;
        a.out = o.data() + i * qw;
        ctx.be.sparse_attention(a);
        rope.angles(p, /*inverse=*/true, angles);
        for (int h = 0; h < H; ++h) rope.rotate(a.out + int64_t(h) * d + (d - r), angles);
    }

    // Keys of this chunk enter the ring only now: queries above still needed
    // the older positions in the slots they overwrite.
    store_keys(st, p0, n, first_kept, fresh);

    // Grouped low-rank output: group g's heads go through its own Lo rows of wo_a.
    const int G = c.o_groups;
    const int64_t Lo = c.o_lora_rank, gw = qw / G;
    ScratchVector<float> z(size_t(n * G * Lo));
    for (int g = 0; g < G; ++g) ctx.be.matmul(w.wo_a, g * Lo, Lo, o.data() + g * gw, qw, n, z.data() + g * Lo, G * Lo);
    ctx.be.matmul(w.wo_b, 0, D, z.data(), G * Lo, n, out, D);
}

}  // namespace dsv4
