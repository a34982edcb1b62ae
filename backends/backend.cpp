// Code the backends share: the expert FFN's activation.
#include "backend.h"

#include <algorithm>
#include <cmath>

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

}  // namespace dsv4
