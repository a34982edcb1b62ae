#include "fingerprint.h"

#include <string>

namespace dsv4 {

namespace {
constexpr uint64_t kSmallTensorBytes = 64 * 1024;
}

void Fnv64::add(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < n; ++i) {
        h_ ^= p[i];
        h_ *= 1099511628211ull;
    }
}

uint64_t model_fingerprint(const ModelConfig& c, const TensorStore& store) {
    Fnv64 h;
    const std::string tag = "dsv4 model fingerprint 1";
    h.add(tag.data(), tag.size());
    for (int v : {c.hidden_size, c.n_layers, c.n_heads, c.head_dim, c.rope_head_dim, c.q_lora_rank, c.o_groups,
                  c.o_lora_rank, c.sliding_window, c.index_n_heads, c.index_head_dim, c.index_topk,
                  c.n_routed_experts, c.n_experts_per_tok, c.n_shared_experts, c.moe_intermediate_size,
                  c.n_hash_layers, c.hc_mult, c.hc_sinkhorn_iters, c.n_mtp_layers, c.vocab_size, c.bos_token_id,
                  c.eos_token_id, int(c.expert_dtype)})
        h.add_value(v);
    for (int r : c.compress_ratios) h.add_value(r);
    for (double v : {c.routed_scaling_factor, c.swiglu_limit, c.hc_eps, c.rope_theta, c.compress_rope_theta,
                     c.rms_norm_eps, c.yarn.factor, c.yarn.beta_fast, c.yarn.beta_slow})
        h.add_value(v);
    h.add_value(c.yarn.enabled);
    h.add_value(c.yarn.original_max_position);
    h.add_value(c.max_position_embeddings);
    h.add(c.scoring_func.data(), c.scoring_func.size());
    for (const auto& [name, t] : store.tensors()) {  // std::map: sorted by name
        h.add(name.data(), name.size() + 1);           // with the terminating NUL
        h.add_value(int(t.dtype));
        h.add_value(uint64_t(t.shape.size()));
        for (int64_t d : t.shape) h.add_value(d);
        if (t.nbytes <= kSmallTensorBytes) h.add(t.data, size_t(t.nbytes));
    }
    return h.value();
}

}  // namespace dsv4
