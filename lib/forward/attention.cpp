#include "forward/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "forward/compressor.h"
#include "forward/indexer.h"
#include "forward/norm.h"
#include "forward/quant_sim.h"

namespace dsv4 {

void attention_forward(const ForwardContext& ctx, const AttentionWeights& w, LayerState& st, int64_t p0, int64_t n,
                       const float* x, float* out) {
    const ModelConfig& c = ctx.cfg;
    const int H = c.n_heads, d = c.head_dim, r = c.rope_head_dim, W = c.sliding_window, R = w.ratio;
    const int64_t D = c.hidden_size, Lq = c.q_lora_rank, qw = int64_t(H) * d;
    const float eps = ctx.eps();
    const RopeTable& rope = ctx.rope_for(R);

    // Query: low-rank, normed, then each head normed without a weight.
    std::vector<float> qr(size_t(n * Lq)), q(size_t(n * qw));
    ctx.be.matmul(w.wq_a, 0, Lq, x, D, n, qr.data(), Lq);
    rms_norm_rows(qr.data(), n, Lq, w.q_norm, eps, qr.data());
    ctx.be.matmul(w.wq_b, 0, qw, qr.data(), Lq, n, q.data(), qw);
    for (int64_t i = 0; i < n; ++i)
        for (int h = 0; h < H; ++h) {
            float* qh = q.data() + i * qw + int64_t(h) * d;
            rms_norm(qh, d, nullptr, eps, qh);
            rope.apply(qh + (d - r), p0 + i);
        }

    // The single shared key/value head; its non-rotated dims are FP8-simulated.
    std::vector<float> kv(size_t(n * d));
    ctx.be.matmul(w.wkv, 0, d, x, D, n, kv.data(), d);
    for (int64_t i = 0; i < n; ++i) {
        float* k = kv.data() + i * d;
        rms_norm(k, d, w.kv_norm, eps, k);
        rope.apply(k + (d - r), p0 + i);
        fp8_simulate(k, d - r, 64);
    }

    std::vector<std::vector<int64_t>> selected;
    if (w.has_indexer) indexer_forward(ctx, w.indexer, st.index_compressor, p0, n, x, qr.data(), selected);
    if (w.has_compressor) compressor_forward(ctx, w.compressor, CompressorKind::Attention, st.compressor, p0, n, x);

    std::vector<float> o(size_t(n * qw));
    std::vector<const float*> rows;
    const float scale = float(std::pow(double(d), -0.5));
    for (int64_t i = 0; i < n; ++i) {
        const int64_t p = p0 + i;
        rows.clear();
        for (int64_t t = std::max<int64_t>(0, p - W + 1); t <= p; ++t)
            rows.push_back(t < p0 ? st.ring.data() + (t % W) * d : kv.data() + (t - p0) * d);
        if (R > 0) {
            const float* entries = st.compressor.entries;
            if (w.has_indexer) {
                for (int64_t b : selected[size_t(i)]) rows.push_back(entries + b * d);
            } else {
                for (int64_t b = 0; b < (p + 1) / R; ++b) rows.push_back(entries + b * d);
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
        for (int h = 0; h < H; ++h) rope.apply(a.out + int64_t(h) * d + (d - r), p, /*inverse=*/true);
    }

    // Keys of this chunk enter the ring only now: queries above still needed
    // the older positions in the slots they overwrite.
    for (int64_t i = std::max<int64_t>(0, n - W); i < n; ++i)
        std::copy_n(kv.data() + i * d, d, st.ring.data() + ((p0 + i) % W) * d);

    // Grouped low-rank output: group g's heads go through its own Lo rows of wo_a.
    const int G = c.o_groups;
    const int64_t Lo = c.o_lora_rank, gw = qw / G;
    std::vector<float> z(size_t(n * G * Lo));
    for (int g = 0; g < G; ++g)
        ctx.be.matmul(w.wo_a, g * Lo, Lo, o.data() + g * gw, qw, n, z.data() + g * Lo, G * Lo);
    ctx.be.matmul(w.wo_b, 0, D, z.data(), G * Lo, n, out, D);
}

}  // namespace dsv4
