// When to speculate. A speculative pass (the MTP block's drafts, then one main-model pass over
// the pending token and the drafts) pays only when it decides its tokens in less time than as
// many plain decode steps. That depends on the machine and on the text: on a CPU whose FP8 and
// FP4 products are compute bound, a 2-token pass costs about 1.5 plain steps and a draft (the
// MTP block and the full LM head) about half of one more, so even 90% of drafts accepted lose;
// where a pass is bound by reading the weights, the second token is nearly free. SpecPolicy
// measures the seconds per decided token of both kinds of pass as the generation runs, uses the
// faster, and from time to time tries the other again (acceptance changes with the text).
//
// The choice never changes the output: speculative output is token for token that of plain
// decoding (see Generator), so a timing-driven choice keeps a seed's text reproducible.
#pragma once

#include <cstdint>

namespace dsv4::generate {

class SpecPolicy {
public:
    // Passes run of one kind when trying it: the first is not counted (a switch can carry
    // one-off work, such as the MTP block catching up on the positions decoded plainly).
    static constexpr int kProbePasses = 3;
    // Passes of the faster kind before the other is tried again: the first interval, then
    // doubled (quadrupled where the loser cost over 1.5x the winner) every time the trial
    // confirms the choice, up to the last.
    static constexpr int64_t kFirstInterval = 16, kLastInterval = 256;

    // Whether the next pass should be speculative.
    bool speculate() const { return spec_now_; }
    // The pass just run: its kind (speculative or not), its wall time and the tokens it decided
    // (at least 1). Picks the kind of the next pass.
    void record(bool speculative, double seconds, uint64_t tokens);

    // Seconds per decided token of each kind, weighted towards recent passes (0: none measured).
    double cost(bool speculative) const;

private:
    enum class Phase { TrySpec, TryPlain, Run };
    // Recency-weighted sums of seconds and tokens per kind (index 1: speculative).
    double seconds_[2] = {0, 0}, tokens_[2] = {0, 0};
    Phase phase_ = Phase::TrySpec;
    int64_t left_ = kProbePasses;  // passes left in the current phase
    int64_t interval_ = kFirstInterval;
    bool spec_now_ = true;
    bool chosen_spec_ = true;  // the kind the last comparison picked
    bool compared_ = false;    // whether both kinds have been compared yet
    bool uncounted_ = true;    // the next pass is the first of a trial: not counted
};

}  // namespace dsv4::generate
