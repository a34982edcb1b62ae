// The model's tensors bound by role, checked against the config: every
// tensor the config implies is present with the right dtype and shape.
#pragma once

#include <string>
#include <vector>

#include "config.h"
#include "safetensors.h"

namespace dsv4 {

enum class LinearFormat { BF16, FP8, FP4 };

// y = W x with W [out, in] kept in its checkpoint format.
struct Linear {
    const Tensor* weight = nullptr;
    const Tensor* scale = nullptr;  // FP8: [ceil(out/128), ceil(in/128)], FP4: [out, in/32]
    LinearFormat format = LinearFormat::BF16;
    int64_t out = 0, in = 0;
};

// Hyper-connection mixing parameters of one sublayer (or of a head).
struct HcWeights {
    const Tensor* fn = nullptr;     // F32 [n_out, hc*D]
    const Tensor* base = nullptr;   // F32 [n_out]
    const Tensor* scale = nullptr;  // F32 [3] (sublayer) or [1] (head)
};

struct CompressorWeights {
    int ratio = 0;
    int width = 0;                 // c: d for attention, di for the indexer
    bool overlap = false;          // ratio == 4
    const Tensor* ape = nullptr;   // F32 [R, (overlap?2:1)*c]
    Linear wkv, wgate;             // BF16 [(overlap?2:1)*c, D]
    const Tensor* norm = nullptr;  // BF16 [c]
};

struct IndexerWeights {
    Linear wq_b;          // FP8 [Hi*di, Lq]
    Linear weights_proj;  // BF16 [Hi, D]
    CompressorWeights compressor;
};

struct AttentionWeights {
    int ratio = 0;
    const Tensor* attn_sink = nullptr;  // F32 [H]
    Linear wq_a, wq_b, wkv, wo_a, wo_b;
    const Tensor* q_norm = nullptr;   // BF16 [Lq]
    const Tensor* kv_norm = nullptr;  // BF16 [d]
    bool has_compressor = false, has_indexer = false;
    CompressorWeights compressor;
    IndexerWeights indexer;
};

struct ExpertWeights {
    Linear w1, w2, w3;
};

struct MoEWeights {
    Linear gate;                        // BF16 [E, D]
    const Tensor* gate_bias = nullptr;  // F32 [E] (score-routed layers)
    const Tensor* tid2eid = nullptr;    // I64 [V, k] (hash layers)
    std::vector<ExpertWeights> experts;
    bool has_shared = false;
    ExpertWeights shared;
};

struct BlockWeights {
    int index = 0;  // block number: main layers 0..L-1, then MTP blocks
    bool is_mtp = false;
    std::string prefix;  // "layers.N." or "mtp.M."
    const Tensor* attn_norm = nullptr;
    const Tensor* ffn_norm = nullptr;
    HcWeights hc_attn, hc_ffn;
    AttentionWeights attn;
    MoEWeights ffn;
    // MTP blocks only.
    Linear e_proj, h_proj;
    const Tensor* enorm = nullptr;
    const Tensor* hnorm = nullptr;
    const Tensor* norm = nullptr;
    HcWeights hc_head;
};

struct ModelWeights {
    const Tensor* embed = nullptr;  // BF16 [V, D], read by rows (Tensor::read_bytes), maybe unaligned
    Linear head;                    // BF16 [V, D]
    const Tensor* norm = nullptr;   // BF16 [D]
    HcWeights hc_head;
    std::vector<BlockWeights> layers;
    std::vector<BlockWeights> mtp;
    ExpertDtype expert_dtype = ExpertDtype::Unknown;
};

// Binds and validates. Resolves cfg.expert_dtype when config.json omits it.
// Throws DSV4_STATUS_FORMAT naming the tensor at fault; tensors that the
// config does not imply are reported as an error too.
ModelWeights bind_weights(ModelConfig& cfg, TensorStore& store);

}  // namespace dsv4
