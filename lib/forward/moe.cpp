#include "forward/moe.h"

#include <algorithm>
#include <cmath>

#include "error.h"
#include "forward/indexer.h"

namespace dsv4 {

namespace {

// softplus with the usual linear cut-off above 20, then sqrt.
float sqrt_softplus(float z) {
    return std::sqrt(z > 20.0f ? z : std::log1p(std::exp(z)));
}

// One token whose k experts are distinct: all of them, in expert order (as
// moe_forward's loop takes them), in one call the backend may run together,
// then the shared expert. False (nothing done) if an expert repeats.
bool moe_one_token(const ForwardContext& ctx, const MoEWeights& w, const Routing& rt, float limit, const float* x,
                   float* out) {
    const int k = ctx.cfg.n_experts_per_tok;
    std::vector<std::pair<int32_t, float>> chosen;
    for (int j = 0; j < k; ++j) chosen.emplace_back(rt.experts[size_t(j)], rt.weights[size_t(j)]);
    std::sort(chosen.begin(), chosen.end());
    const auto same_expert = [](const auto& a, const auto& b) { return a.first == b.first; };
    if (std::adjacent_find(chosen.begin(), chosen.end(), same_expert) != chosen.end()) return false;
    std::vector<const ExpertWeights*> ex;
    std::vector<float> ws;
    for (const auto& [e, wt] : chosen) {
        ex.push_back(&w.experts[size_t(e)]);
        ws.push_back(wt);
    }
    ctx.be.experts_ffn(ex.data(), ws.data(), k, limit, x, 1, out);
    if (w.has_shared) ctx.be.expert_ffn(w.shared, limit, x, 1, nullptr, out);
    return true;
}

}  // namespace

Routing route_tokens(const ForwardContext& ctx, const MoEWeights& w, const int32_t* tokens, int64_t n, const float* x) {
    const ModelConfig& c = ctx.cfg;
    const int E = c.n_routed_experts, k = c.n_experts_per_tok;
    std::vector<float> s(size_t(n * E));
    ctx.be.matmul(w.gate, 0, E, x, c.hidden_size, n, s.data(), E);
    for (float& v : s) v = sqrt_softplus(v);

    Routing rt;
    rt.experts.resize(size_t(n * k));
    rt.weights.resize(size_t(n * k));
    std::vector<float> shifted(static_cast<size_t>(E));
    for (int64_t i = 0; i < n; ++i) {
        const float* si = s.data() + i * E;
        int32_t* ei = rt.experts.data() + i * k;
        if (w.tid2eid) {
            const int64_t* row = w.tid2eid->as<int64_t>() + int64_t(tokens[i]) * k;
            for (int j = 0; j < k; ++j) {
                if (row[j] < 0 || row[j] >= E)
                    fail(DSV4_STATUS_FORMAT, "tensor '" + w.tid2eid->name + "' maps token " +
                                                 std::to_string(tokens[i]) + " to expert " + std::to_string(row[j]) +
                                                 ", out of range");
                ei[j] = int32_t(row[j]);
            }
        } else {
            // The bias only steers the choice; the weights use the raw scores.
            const float* bias = w.gate_bias->as<float>();
            for (int e = 0; e < E; ++e) shifted[size_t(e)] = si[e] + bias[e];
            auto top = top_k_indices(shifted.data(), E, k);
            for (int j = 0; j < k; ++j) ei[j] = int32_t(top[size_t(j)]);
        }
        float sum = 0.0f;
        for (int j = 0; j < k; ++j) sum += si[ei[j]];
        for (int j = 0; j < k; ++j) rt.weights[size_t(i * k + j)] = si[ei[j]] / sum * float(c.routed_scaling_factor);
    }
    return rt;
}

void moe_forward(const ForwardContext& ctx, const MoEWeights& w, const int32_t* tokens, int64_t n, const float* x,
                 float* out) {
    const ModelConfig& c = ctx.cfg;
    const int64_t D = c.hidden_size;
    const int E = c.n_routed_experts, k = c.n_experts_per_tok;
    const float limit = float(c.swiglu_limit);
    Routing rt = route_tokens(ctx, w, tokens, n, x);

    std::fill(out, out + n * D, 0.0f);
    if (n == 1 && moe_one_token(ctx, w, rt, limit, x, out)) return;
    // Tokens grouped per expert so each expert's weights are read once per chunk.
    std::vector<int64_t> rows;
    std::vector<float> xs, ws, ys;
    for (int e = 0; e < E; ++e) {
        rows.clear();
        ws.clear();
        for (int64_t i = 0; i < n; ++i)
            for (int j = 0; j < k; ++j)
                if (rt.experts[size_t(i * k + j)] == e) {
                    rows.push_back(i);
                    ws.push_back(rt.weights[size_t(i * k + j)]);
                }
        if (rows.empty()) continue;
        const int64_t m = int64_t(rows.size());
        xs.resize(size_t(m * D));
        for (int64_t t = 0; t < m; ++t) std::copy_n(x + rows[size_t(t)] * D, D, xs.data() + t * D);
        ys.assign(size_t(m * D), 0.0f);
        ctx.be.expert_ffn(w.experts[size_t(e)], limit, xs.data(), m, ws.data(), ys.data());
        for (int64_t t = 0; t < m; ++t) {
            float* o = out + rows[size_t(t)] * D;
            const float* y = ys.data() + t * D;
            for (int64_t j = 0; j < D; ++j) o[j] += y[j];
        }
    }
    if (w.has_shared) ctx.be.expert_ffn(w.shared, limit, x, n, nullptr, out);
}

}  // namespace dsv4
