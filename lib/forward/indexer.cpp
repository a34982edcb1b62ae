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
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                      [&](int64_t a, int64_t b) { return scores[a] > scores[b] || (scores[a] == scores[b] && a < b); });
    idx.resize(size_t(k));
    return idx;
}

void indexer_forward(const ForwardContext& ctx, const IndexerWeights& w, CompressorCarry& carry, int64_t p0, int64_t n,
                     const float* x, const float* qr, std::vector<std::vector<int64_t>>& selected) {
    const ModelConfig& c = ctx.cfg;
    const int Hi = c.index_n_heads, di = c.index_head_dim, r = c.rope_head_dim;
    const int64_t D = c.hidden_size, Lq = c.q_lora_rank, qw = int64_t(Hi) * di;

    std::vector<float> q(size_t(n * qw));
    ctx.be.matmul(w.wq_b, 0, qw, qr, Lq, n, q.data(), qw);
    RopeTable::Angles angles;
    for (int64_t i = 0; i < n; ++i) {
        ctx.rope_compress.angles(p0 + i, false, angles);
        for (int h = 0; h < Hi; ++h) {
            float* qh = q.data() + i * qw + int64_t(h) * di;
            ctx.rope_compress.rotate(qh + (di - r), angles);
            hadamard_transform(qh, di);
        }
    }
    fp4_simulate(q.data(), n * qw, 32);

    compressor_forward(ctx, w.compressor, CompressorKind::Indexer, carry, p0, n, x);

    std::vector<float> wts(size_t(n * Hi));
    ctx.be.matmul(w.weights_proj, 0, Hi, x, D, n, wts.data(), Hi);
    const float scale = float(std::pow(double(di), -0.5) * std::pow(double(Hi), -0.5));
    for (float& v : wts) v *= scale;

    // The keys are stored as FP4 codes, scored from them (the backend may
    // dequantize) a tile at a time for every query of the chunk that sees
    // part of it, keeping a running top-k per query (same order as
    // top_k_indices: higher score first, then the lower index).
    struct Candidate {
        float score;
        int64_t index;
    };
    auto better = [](const Candidate& x, const Candidate& y) {
        return x.score > y.score || (x.score == y.score && x.index < y.index);
    };
    const int64_t K = c.index_topk, total = (p0 + n) / 4;
    constexpr int64_t kTile = 1024;
    std::vector<std::vector<Candidate>> best(static_cast<size_t>(n));
    const IndexKeys& keys = *carry.index_keys;
    std::vector<float> scores(size_t(std::min(total, kTile)));
    for (int64_t b0 = 0; b0 < total; b0 += kTile) {
        const int64_t nb = std::min(kTile, total - b0);
        for (int64_t i = 0; i < n; ++i) {
            const int64_t count = std::min<int64_t>((p0 + i + 1) / 4 - b0, nb);
            if (count <= 0) continue;
            ctx.be.indexer_scores_fp4(q.data() + i * qw, wts.data() + i * Hi, Hi, di, keys.packed(b0), keys.scales(b0),
                                      count, scores.data());
            auto& cand = best[size_t(i)];
            for (int64_t k = 0; k < count; ++k) cand.push_back({scores[size_t(k)], b0 + k});
            if (int64_t(cand.size()) > 2 * K + kTile) {
                std::nth_element(cand.begin(), cand.begin() + K, cand.end(), better);
                cand.resize(size_t(K));
            }
        }
    }
    selected.assign(size_t(n), {});
    for (int64_t i = 0; i < n; ++i) {
        auto& cand = best[size_t(i)];
        const int64_t k = std::min<int64_t>(K, int64_t(cand.size()));
        std::partial_sort(cand.begin(), cand.begin() + k, cand.end(), better);
        for (int64_t j = 0; j < k; ++j) selected[size_t(i)].push_back(cand[size_t(j)].index);
    }
}

}  // namespace dsv4
