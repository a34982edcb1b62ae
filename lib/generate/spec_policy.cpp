#include "generate/spec_policy.h"

#include <algorithm>

namespace dsv4::generate {

namespace {

// Each counted pass keeps this share of its kind's earlier sums.
constexpr double kKeep = 0.75;
// A trial keeps this share of what its kind measured before it: mostly its own passes decide.
constexpr double kKeepAtTrial = 0.25;

}  // namespace

double SpecPolicy::cost(bool speculative) const {
    const int k = speculative ? 1 : 0;
    return tokens_[k] > 0 ? seconds_[k] / tokens_[k] : 0.0;
}

void SpecPolicy::record(bool speculative, double seconds, uint64_t tokens) {
    if (tokens == 0 || !(seconds >= 0)) return;  // a cancelled pass, or a clock gone wrong
    const int k = speculative ? 1 : 0;
    if (!uncounted_) {
        seconds_[k] = kKeep * seconds_[k] + seconds;
        tokens_[k] = kKeep * tokens_[k] + double(tokens);
    }
    uncounted_ = false;
    if (speculative != spec_now_ || --left_ > 0) return;

    auto start_trial = [&](bool spec) {
        phase_ = spec ? Phase::TrySpec : Phase::TryPlain;
        spec_now_ = spec;
        left_ = kProbePasses;
        uncounted_ = true;
        seconds_[spec ? 1 : 0] *= kKeepAtTrial;
        tokens_[spec ? 1 : 0] *= kKeepAtTrial;
    };
    if (phase_ == Phase::Run) {
        start_trial(!chosen_spec_);
        return;
    }
    const bool tried_spec = phase_ == Phase::TrySpec;
    if (tokens_[tried_spec ? 0 : 1] == 0) {  // the other kind has not run yet
        start_trial(!tried_spec);
        return;
    }
    const bool spec = cost(true) < cost(false);
    // A clear loser (1.5x the winner's cost, as random drafts on a compute-bound CPU) is tried
    // again four times later, a close one twice.
    const double ratio = spec ? cost(false) / cost(true) : cost(true) / cost(false);
    const int64_t growth = ratio > 1.5 ? 4 : 2;
    interval_ = compared_ && spec == chosen_spec_ ? std::min(growth * interval_, kLastInterval) : kFirstInterval;
    compared_ = true;
    chosen_spec_ = spec;
    phase_ = Phase::Run;
    spec_now_ = spec;
    left_ = interval_;
}

}  // namespace dsv4::generate
