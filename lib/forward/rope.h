// Rotary position embedding on interleaved pairs, with optional YaRN
// frequency interpolation (layers with compression use it, window-only
// layers do not).
#pragma once

#include <cstdint>
#include <vector>

#include "config.h"

namespace dsv4 {

class RopeTable {
public:
    RopeTable() = default;
    // dim: the rotated width r; yarn may be NULL (or disabled).
    RopeTable(int dim, double base, const YarnConfig* yarn);

    int dim() const { return dim_; }
    const std::vector<float>& inv_freq() const { return inv_freq_; }
    // Rotates x[0..dim) at `pos`; inverse rotates by the negated angle.
    void apply(float* x, int64_t pos, bool inverse = false) const;

    // The same rotation for many vectors at one position (every head of a
    // token): the dim / 2 cosines and sines once, then rotate() per vector,
    // bit for bit what apply() does.
    struct Angles {
        std::vector<float> cos, sin;
    };
    void angles(int64_t pos, bool inverse, Angles& out) const;
    void rotate(float* x, const Angles& a) const;

private:
    int dim_ = 0;
    std::vector<float> inv_freq_;  // dim / 2 angular frequencies
};

}  // namespace dsv4
