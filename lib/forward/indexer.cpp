#include "forward/indexer.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "forward/compressor.h"
#include "forward/quant_sim.h"

namespace dsv4 {

std::vector<int64_t> top_k_indices(const float* scores, int64_t count, int64_t k) {
    std::vector<int64_t> idx(static_cast<size_t>(count));
    std::iota(idx.begin(), idx.end(), int64_t(0));
    k = std::min(k, count);
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int64_t a, int64_t b) {
        return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
    });
    idx.resize(size_t(k));
    return idx;
}

void indexer_forward(const ForwardContext& ctx, const IndexerWeights& w, CompressorCarry& carry, int64_t p0,
                     int64_t n, const float* x, const float* qr, std::vector<std::vector<int64_t>>& selected) {
    const ModelConfig& c = ctx.cfg;
    const int Hi = c.index_n_heads, di = c.index_head_dim, r = c.rope_head_dim;
    const int64_t D = c.hidden_size, Lq = c.q_lora_rank, qw = int64_t(Hi) * di;

    std::vector<float> q(size_t(n * qw));
    ctx.be.matmul(w.wq_b, 0, qw, qr, Lq, n, q.data(), qw);
    for (int64_t i = 0; i < n; ++i)
        for (int h = 0; h < Hi; ++h) {
            float* qh = q.data() + i * qw + int64_t(h) * di;
            ctx.rope_compress.apply(qh + (di - r), p0 + i);
            hadamard_transform(qh, di);
        }
    fp4_simulate(q.data(), n * qw, 32);

    compressor_forward(ctx, w.compressor, CompressorKind::Indexer, carry, p0, n, x);

    std::vector<float> wts(size_t(n * Hi));
    ctx.be.matmul(w.weights_proj, 0, Hi, x, D, n, wts.data(), Hi);
    const float scale = float(std::pow(double(di), -0.5) * std::pow(double(Hi), -0.5));
    for (float& v : wts) v *= scale;

    selected.assign(size_t(n), {});
    std::vector<float> scores;
    for (int64_t i = 0; i < n; ++i) {
        const int64_t count = (p0 + i + 1) / 4;
        if (count == 0) continue;
        scores.resize(size_t(count));
        ctx.be.indexer_scores(q.data() + i * qw, wts.data() + i * Hi, Hi, di, carry.entries, count, scores.data());
        selected[size_t(i)] = top_k_indices(scores.data(), count, c.index_topk);
    }
}

}  // namespace dsv4
