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

    // Each query scores every key it sees in one call, from the stored FP4
    // codes (the backend may dequantize them), then keeps the top k in
    // top_k_indices' order: higher score first, then the lower index. That
    // order is total, so selecting first (linear) and sorting the k after
    // gives the same list as sorting all.
    const IndexKeys& keys = *carry.index_keys;
    const int64_t K = c.index_topk;
    std::vector<float> scores;
    std::vector<int64_t> order;
    auto better = [&](int64_t a, int64_t b) {
        return scores[size_t(a)] > scores[size_t(b)] || (scores[size_t(a)] == scores[size_t(b)] && a < b);
    };
    selected.assign(size_t(n), {});
    for (int64_t i = 0; i < n; ++i) {
        const int64_t count = (p0 + i + 1) / 4;
        if (count <= 0) continue;
        scores.resize(size_t(count));
        ctx.be.indexer_scores_fp4(q.data() + i * qw, wts.data() + i * Hi, Hi, di, keys.packed(0), keys.scales(0), count,
                                  scores.data());
        order.resize(size_t(count));
        std::iota(order.begin(), order.end(), int64_t(0));
        const int64_t k = std::min(K, count);
        if (k < count) std::nth_element(order.begin(), order.begin() + k, order.end(), better);
        std::sort(order.begin(), order.begin() + k, better);
        selected[size_t(i)].assign(order.begin(), order.begin() + k);
    }
}

}  // namespace dsv4
