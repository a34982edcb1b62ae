// Code the backends share: the expert FFN's activation and the experts loop.
#include "backend.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "forward/quant_sim.h"
#include "session_state.h"

namespace dsv4 {

void expert_activation(const float* gate, const float* up, int64_t count, float limit, float route_w, float* h) {
    for (int64_t j = 0; j < count; ++j) {
        float gt = gate[j], u = up[j];
        if (limit > 0) {
            u = std::min(std::max(u, -limit), limit);
            gt = std::min(gt, limit);
        }
        const float silu = gt / (1.0f + std::exp(-gt));
        h[j] = route_w * (silu * u);
    }
}

void Backend::experts_ffn(const ExpertWeights* const* experts, const float* route_w, int count, float limit,
                          const float* x, int64_t n, float* y) const {
    std::vector<float> w;
    for (int j = 0; j < count; ++j) {
        w.assign(size_t(n), route_w ? route_w[j] : 1.0f);
        expert_ffn(*experts[j], limit, x, n, w.data(), y);
    }
}

void Backend::load_kv_rows(const KvRows& rows, const int64_t* index, int64_t count, float* out) const {
    for (int64_t k = 0; k < count; ++k) rows.load(index[k], out + k * rows.dim());
}

void Backend::indexer_scores_fp4(const float* q, const float* w, int heads, int64_t dim, const uint8_t* packed,
                                 const uint8_t* scales, int64_t count, float* scores) const {
    constexpr int64_t kKeys = 256;
    thread_local std::vector<float> keys;
    keys.resize(size_t(std::min(count, kKeys) * dim));
    for (int64_t b0 = 0; b0 < count; b0 += kKeys) {
        const int64_t nb = std::min(kKeys, count - b0);
        for (int64_t k = 0; k < nb; ++k)
            fp4_dequantize(packed + (b0 + k) * (dim / 2), scales + (b0 + k) * (dim / 32), dim, 32,
                           keys.data() + k * dim);
        indexer_scores(q, w, heads, dim, keys.data(), nb, scores + b0);
    }
}

}  // namespace dsv4
