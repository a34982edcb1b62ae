// Next-token sampling from logits: logit bias, repetition / presence / frequency penalties, then
// greedy or temperature sampling restricted by top-k, top-p and min-p. Deterministic for a seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "text/rng.h"

namespace dsv4::text {

struct SamplerParams {
    float temperature = 1.0f;         // <= 0: greedy
    int32_t top_k = 0;                // 0: off
    float top_p = 1.0f;               // 1: off
    float min_p = 0.0f;               // 0: off
    float repetition_penalty = 1.0f;  // 1: off; positive logits divided, negative multiplied
    float presence_penalty = 0.0f;    // subtracted once from every token seen
    float frequency_penalty = 0.0f;   // subtracted per occurrence
    int32_t penalty_last_n = 64;      // accepted tokens the penalties see; -1: all, 0: none
    uint64_t seed = 0;
    std::vector<std::pair<int32_t, float>> logit_bias;  // added to the logit of a token
    std::vector<int32_t> stop_tokens;
};

class Sampler {
public:
    // Throws DSV4_STATUS_INVALID_ARGUMENT naming a parameter out of range.
    explicit Sampler(SamplerParams params);

    // Picks a token from n logits (does not record it: call accept()). Fails for NaN logits, bias
    // tokens outside [0, n), or when every logit is -inf. The pick: pick() of the distribution()
    // at the next uniform() times the candidates' total.
    int32_t sample(const float* logits, size_t n);
    // The token at u of the cumulative sum of the candidates' probabilities (tokens[i] with
    // probs[i], n >= 1; u in [0, their total)) taken in ascending token id: by id rather than by
    // rank, so that two close distributions (the main model's and the MTP block's in
    // speculative decoding) give the same token for most u even where their rankings differ.
    int32_t pick(const int32_t* tokens, const double* probs, size_t n, double u);
    // The distribution sample() draws from for these logits (given the tokens accepted so far):
    // the tokens it may pick, best first, with their probabilities (summing to 1). Greedy
    // sampling, or a +inf logit, gives the one token it picks with probability 1. Draws nothing.
    // For speculative sampling, which needs the target and draft distributions themselves.
    void distribution(const float* logits, size_t n, std::vector<int32_t>& tokens, std::vector<double>& probs);
    // The next number of the sampler's random sequence, uniform in [0, 1).
    double uniform() { return rng_.uniform(); }
    // The number uniform() would return after `ahead` more calls, without drawing it. A
    // speculative draft uses the number that the main model's sample() for its position will
    // draw, so that the draft agrees with that sample as often as the two distributions allow.
    double peek_uniform(size_t ahead) const {
        Xoshiro256 r = rng_;
        for (size_t i = 0; i < ahead; ++i) r.next();
        return r.uniform();
    }
    // Records a token in the history the penalties look at.
    void accept(int32_t token);
    // Forgets the history and restarts the random sequence from the seed.
    void reset();
    bool is_stop_token(int32_t token) const;

    const SamplerParams& params() const { return p_; }

private:
    // Logit bias, penalties and the ranking: order_[0..keep) are the candidates, best first, and
    // prob_[0..keep) their (not renormalized) probabilities. Returns 0 when the choice is
    // certain (greedy, or a +inf logit): order_[0].
    size_t candidates(const float* logits, size_t n);

    SamplerParams p_;
    Xoshiro256 rng_;
    std::deque<int32_t> history_;
    std::vector<float> work_;  // reused between calls
    std::vector<int32_t> order_;
    std::vector<double> prob_;
    std::vector<uint32_t> by_id_;  // pick()'s scratch
    std::vector<double> dense_;
};

}  // namespace dsv4::text
