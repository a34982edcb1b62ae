// What every forward-pass step reads: the model's config and weights, the
// backend that runs the ops, and the RoPE tables. Built once per session.
#pragma once

#include <cstdint>

#include "backend.h"
#include "config.h"
#include "forward/rope.h"
#include "weights.h"

namespace dsv4 {

struct ForwardContext {
    ForwardContext(const ModelConfig& cfg, const ModelWeights& weights, const Backend& backend);

    const ModelConfig& cfg;
    const ModelWeights& w;
    const Backend& be;
    RopeTable rope_window;    // ratio-0 layers: rope_theta, no YaRN
    RopeTable rope_compress;  // ratio > 0 layers and their compressors / indexer

    const RopeTable& rope_for(int ratio) const { return ratio > 0 ? rope_compress : rope_window; }
    float eps() const { return float(cfg.rms_norm_eps); }
};

}  // namespace dsv4
