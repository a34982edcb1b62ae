// The model's hyper-parameters, read from a Hugging Face config.json.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dsv4 {

struct YarnConfig {
    bool enabled = false;
    double factor = 1.0;
    int64_t original_max_position = 0;
    double beta_fast = 32.0;
    double beta_slow = 1.0;
};

enum class ExpertDtype { Unknown, FP4, FP8 };

struct ModelConfig {
    int hidden_size = 0;         // D
    int n_layers = 0;            // L
    int n_heads = 0;             // H
    int head_dim = 0;            // d
    int rope_head_dim = 0;       // r
    int q_lora_rank = 0;         // Lq
    int o_groups = 0;            // G
    int o_lora_rank = 0;         // Lo
    int sliding_window = 0;      // W
    std::vector<int> compress_ratios;  // L + n_mtp entries
    int index_n_heads = 0;       // Hi
    int index_head_dim = 0;      // di
    int index_topk = 0;          // Ki
    int n_routed_experts = 0;    // E
    int n_experts_per_tok = 0;   // k
    int n_shared_experts = 1;
    int moe_intermediate_size = 0;  // I
    int n_hash_layers = 0;
    double routed_scaling_factor = 1.0;
    std::string scoring_func = "sqrtsoftplus";
    double swiglu_limit = 0.0;   // 0: no clamp
    int hc_mult = 0;
    int hc_sinkhorn_iters = 0;
    double hc_eps = 1e-6;
    double rope_theta = 10000.0;
    double compress_rope_theta = 160000.0;
    YarnConfig yarn;
    int n_mtp_layers = 0;
    double rms_norm_eps = 1e-6;
    int vocab_size = 0;
    int bos_token_id = 0;
    int eos_token_id = 1;
    int64_t max_position_embeddings = 0;
    ExpertDtype expert_dtype = ExpertDtype::Unknown;  // Unknown: detect from tensors

    int n_total_blocks() const { return n_layers + n_mtp_layers; }
    int nope_dim() const { return head_dim - rope_head_dim; }
    // Compression ratio of block i (main layers first, then MTP blocks).
    int ratio(int block) const { return compress_ratios.at(block); }
};

// Parses config.json text; `origin` names the file in error messages.
// Throws dsv4::Error(DSV4_STATUS_FORMAT) naming the key at fault.
ModelConfig parse_config(const std::string& json_text, const std::string& origin);
ModelConfig load_config(const std::string& path);

}  // namespace dsv4
