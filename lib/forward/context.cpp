#include "forward/context.h"

namespace dsv4 {

ForwardContext::ForwardContext(const ModelConfig& c, const ModelWeights& weights, const Backend& backend)
    : cfg(c),
      w(weights),
      be(backend),
      rope_window(c.rope_head_dim, c.rope_theta, nullptr),
      rope_compress(c.rope_head_dim, c.compress_rope_theta, &c.yarn) {}

}  // namespace dsv4
