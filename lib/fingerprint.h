// A model's identity for session snapshots: a 64-bit hash of its config and
// of every tensor's name, dtype and shape, plus the bytes of its small tensors
// (norm weights, sinks, hyper-connection biases: those <= 64 KiB), which tell
// apart checkpoints of one architecture with different weights without
// reading the large ones. Computed once at load.
#pragma once

#include <cstddef>
#include <cstdint>

#include "config.h"
#include "safetensors.h"

namespace dsv4 {

uint64_t model_fingerprint(const ModelConfig& cfg, const TensorStore& store);

// FNV-1a, 64 bits.
class Fnv64 {
public:
    void add(const void* data, size_t n);
    template <class T>
    void add_value(const T& v) {
        add(&v, sizeof v);
    }
    uint64_t value() const { return h_; }

private:
    uint64_t h_ = 1469598103934665603ull;
};

}  // namespace dsv4
