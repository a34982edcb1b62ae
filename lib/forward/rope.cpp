#include "forward/rope.h"

#include <algorithm>
#include <cmath>

namespace dsv4 {

RopeTable::RopeTable(int dim, double base, const YarnConfig* yarn) : dim_(dim), inv_freq_(size_t(dim / 2)) {
    // float32 throughout, in the reference's order, so positions rotate by
    // bit-identical angles.
    for (int i = 0; i < dim / 2; ++i) {
        const float expo = float(2 * i) / float(dim);
        inv_freq_[size_t(i)] = 1.0f / std::pow(float(base), expo);
    }
    if (yarn && yarn->enabled && yarn->original_max_position > 0) {
        const double two_pi = 2.0 * 3.14159265358979323846;
        auto correction_dim = [&](double rotations) {
            return dim * std::log(double(yarn->original_max_position) / (rotations * two_pi)) / (2.0 * std::log(base));
        };
        double low = std::max(std::floor(correction_dim(yarn->beta_fast)), 0.0);
        double high = std::min(std::ceil(correction_dim(yarn->beta_slow)), double(dim - 1));
        if (low == high) high += 0.001;
        const float factor = float(yarn->factor);
        for (int i = 0; i < dim / 2; ++i) {
            const float ramp = std::min(std::max((float(i) - float(low)) / float(high - low), 0.0f), 1.0f);
            const float smooth = 1.0f - ramp;
            const float f = inv_freq_[size_t(i)];
            inv_freq_[size_t(i)] = f / factor * (1.0f - smooth) + f * smooth;
        }
    }
}

void RopeTable::angles(int64_t pos, bool inverse, Angles& out) const {
    out.cos.resize(size_t(dim_ / 2));
    out.sin.resize(size_t(dim_ / 2));
    for (int i = 0; i < dim_ / 2; ++i) {
        const float angle = float(pos) * inv_freq_[size_t(i)];
        out.cos[size_t(i)] = float(std::cos(double(angle)));
        out.sin[size_t(i)] = inverse ? -float(std::sin(double(angle))) : float(std::sin(double(angle)));
    }
}

void RopeTable::rotate(float* x, const Angles& a) const {
    for (int i = 0; i < dim_ / 2; ++i) {
        const float c = a.cos[size_t(i)], s = a.sin[size_t(i)];
        const float u = x[2 * i], v = x[2 * i + 1];
        x[2 * i] = u * c - v * s;
        x[2 * i + 1] = u * s + v * c;
    }
}

void RopeTable::apply(float* x, int64_t pos, bool inverse) const {
    thread_local Angles a;
    angles(pos, inverse, a);
    rotate(x, a);
}

}  // namespace dsv4
