// A loaded model: config, mapped tensors bound by role, and derived figures.
// Immutable after load; shared read-only by every session.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>

#include "config.h"
#include "safetensors.h"
#include "weights.h"

namespace dsv4 {

class Backend;

struct LoadOptions {
    std::string backend = "cpu";
    int n_threads = 0;
    bool use_mmap = true;
    uint64_t memory_budget = 0;
    // (done, total) in bytes; returns false to cancel.
    std::function<bool(uint64_t, uint64_t)> progress;
};

struct ModelStats {
    uint64_t total_params = 0;
    uint64_t active_params = 0;
    std::array<uint64_t, kDTypeCount> bytes_by_dtype{};
    uint64_t total_bytes = 0;
};

// Parameter counting rules (documented in dsv4.h's model_info too): a
// parameter is one element of a weight tensor; `.scale` tensors are
// quantization metadata and not counted; packed FP4 bytes hold two.
// Active = total minus the routed experts a token does not use in the main
// layers (E - k per layer) minus the MTP blocks.
ModelStats compute_stats(const ModelConfig& cfg, const TensorStore& store);

class Model {
public:
    static std::unique_ptr<Model> load(const std::string& dir, const LoadOptions& opts);

    const ModelConfig& config() const { return config_; }
    const ModelWeights& weights() const { return weights_; }
    const TensorStore& store() const { return *store_; }
    const ModelStats& stats() const { return stats_; }
    const LoadOptions& options() const { return options_; }
    const std::string& path() const { return path_; }
    // The backend named by LoadOptions::backend (validated at load).
    const Backend& backend() const { return *backend_; }
    // Identifies the model in session snapshots (fingerprint.h).
    uint64_t fingerprint() const { return fingerprint_; }

private:
    std::string path_;
    LoadOptions options_;
    ModelConfig config_;
    std::unique_ptr<TensorStore> store_;
    ModelWeights weights_;
    ModelStats stats_;
    uint64_t fingerprint_ = 0;
    const Backend* backend_ = nullptr;
    std::shared_ptr<const Backend> backend_instance_;  // owns backend_ (with the model's threads)
};

}  // namespace dsv4
