// Code the backends share: the expert FFN's activation and the experts loop.
#include "backend.h"

#include <algorithm>
#include <cmath>
#include <vector>

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

}  // namespace dsv4
