#include "text/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>

#include "error.h"
#include "text/rank.h"

namespace dsv4::text {

namespace {

[[noreturn]] void bad_param(const std::string& what) {
    fail(DSV4_STATUS_INVALID_ARGUMENT, "sampler: " + what);
}

}  // namespace

Sampler::Sampler(SamplerParams params) : p_(std::move(params)), rng_(p_.seed) {
    if (!std::isfinite(p_.temperature)) bad_param("temperature must be finite");
    if (p_.top_k < 0) bad_param("top_k " + std::to_string(p_.top_k) + " is negative");
    if (!(p_.top_p > 0.0f && p_.top_p <= 1.0f)) bad_param("top_p " + std::to_string(p_.top_p) + " is not in (0, 1]");
    if (!(p_.min_p >= 0.0f && p_.min_p <= 1.0f)) bad_param("min_p " + std::to_string(p_.min_p) + " is not in [0, 1]");
    if (!(p_.repetition_penalty > 0.0f) || !std::isfinite(p_.repetition_penalty))
        bad_param("repetition_penalty " + std::to_string(p_.repetition_penalty) + " must be positive");
    if (!std::isfinite(p_.presence_penalty)) bad_param("presence_penalty must be finite");
    if (!std::isfinite(p_.frequency_penalty)) bad_param("frequency_penalty must be finite");
    if (p_.penalty_last_n < -1) bad_param("penalty_last_n " + std::to_string(p_.penalty_last_n) + " is below -1");
    for (size_t i = 0; i < p_.logit_bias.size(); ++i) {
        if (p_.logit_bias[i].first < 0)
            bad_param("logit_bias[" + std::to_string(i) + "] names negative token " +
                      std::to_string(p_.logit_bias[i].first));
        if (std::isnan(p_.logit_bias[i].second)) bad_param("logit_bias[" + std::to_string(i) + "] is NaN");
    }
}

void Sampler::accept(int32_t token) {
    if (token < 0) bad_param("accepted token " + std::to_string(token) + " is negative");
    if (p_.penalty_last_n == 0) return;
    history_.push_back(token);
    if (p_.penalty_last_n > 0 && history_.size() > size_t(p_.penalty_last_n)) history_.pop_front();
}

void Sampler::reset() {
    history_.clear();
    rng_.reseed(p_.seed);
}

bool Sampler::is_stop_token(int32_t token) const {
    return std::find(p_.stop_tokens.begin(), p_.stop_tokens.end(), token) != p_.stop_tokens.end();
}

size_t Sampler::candidates(const float* logits, size_t n) {
    if (n == 0) bad_param("no logits (n_vocab is 0)");
    if (n > size_t(std::numeric_limits<int32_t>::max())) bad_param("n_vocab is too large");
    // Greedy with nothing that changes a logit (no bias; penalties that leave
    // every logit as it is): the best of the logits themselves, found in the
    // pass that checks them, without copying the vocabulary's logits first.
    const bool neutral_penalties =
        p_.repetition_penalty == 1.0f && p_.frequency_penalty == 0.0f && p_.presence_penalty == 0.0f;
    if (p_.temperature <= 0.0f && p_.logit_bias.empty() && (history_.empty() || neutral_penalties)) {
        size_t best = 0;
        for (size_t i = 0; i < n; ++i) {
            if (std::isnan(logits[i])) bad_param("logits[" + std::to_string(i) + "] is NaN");
            if (logits[i] > logits[best]) best = i;  // strictly: the lower id on ties, -0 == +0
        }
        if (logits[best] == -std::numeric_limits<float>::infinity()) bad_param("every logit is -inf");
        order_.assign(1, int32_t(best));
        return 0;
    }
    work_.assign(logits, logits + n);
    for (size_t i = 0; i < n; ++i)
        if (std::isnan(work_[i])) bad_param("logits[" + std::to_string(i) + "] is NaN");

    for (size_t i = 0; i < p_.logit_bias.size(); ++i) {
        const auto [tok, bias] = p_.logit_bias[i];
        if (size_t(tok) >= n)
            bad_param("logit_bias[" + std::to_string(i) + "] names token " + std::to_string(tok) +
                      ", outside the vocabulary of " + std::to_string(n));
        work_[size_t(tok)] += bias;
    }

    if (!history_.empty()) {
        std::unordered_map<int32_t, int> counts;
        for (int32_t t : history_)
            if (size_t(t) < n) ++counts[t];
        for (const auto& [tok, count] : counts) {
            float& l = work_[size_t(tok)];
            if (p_.repetition_penalty != 1.0f) l = l > 0 ? l / p_.repetition_penalty : l * p_.repetition_penalty;
            l -= float(count) * p_.frequency_penalty + p_.presence_penalty;
        }
    }

    // Ranking: higher logit first, lower id first among equals (so every choice is deterministic).
    auto better = [&](int32_t a, int32_t b) {
        return work_[size_t(a)] != work_[size_t(b)] ? work_[size_t(a)] > work_[size_t(b)] : a < b;
    };
    if (p_.temperature <= 0.0f) {
        int32_t best = 0;
        for (int32_t i = 1; i < int32_t(n); ++i)
            if (better(i, best)) best = i;
        if (work_[size_t(best)] == -std::numeric_limits<float>::infinity()) bad_param("every logit is -inf");
        order_.assign(1, best);
        return 0;
    }

    order_.clear();
    for (int32_t i = 0; i < int32_t(n); ++i)
        if (work_[size_t(i)] > -std::numeric_limits<float>::infinity()) order_.push_back(i);
    if (order_.empty()) bad_param("every logit is -inf");
    size_t keep = order_.size();
    if (p_.top_k > 0 && size_t(p_.top_k) < keep) {
        keep = size_t(p_.top_k);
        std::partial_sort(order_.begin(), order_.begin() + long(keep), order_.end(), better);
    } else {
        rank_by_logit(work_.data(), order_);  // the order `better` gives, in linear time
    }
    // +inf logits: the best of them wins outright (a softmax cannot express it).
    if (work_[size_t(order_[0])] == std::numeric_limits<float>::infinity()) return 0;

    std::vector<double>& prob = prob_;
    prob.assign(keep, 0.0);
    const double top = work_[size_t(order_[0])];
    double total = 0;
    for (size_t i = 0; i < keep; ++i)
        total += prob[i] = std::exp((double(work_[size_t(order_[i])]) - top) / p_.temperature);
    for (auto& q : prob) q /= total;

    if (p_.top_p < 1.0f) {
        // The smallest prefix whose mass reaches top_p.
        double cum = 0;
        size_t k = 0;
        while (k < keep) {
            cum += prob[k++];
            if (cum >= double(p_.top_p)) break;
        }
        keep = k;
    }
    if (p_.min_p > 0.0f) {
        const double floor = double(p_.min_p) * prob[0];
        size_t k = 1;
        while (k < keep && prob[k] >= floor) ++k;
        keep = k;
    }
    return keep;
}

int32_t Sampler::sample(const float* logits, size_t n) {
    const size_t keep = candidates(logits, n);
    if (keep == 0) return order_[0];
    const std::vector<double>& prob = prob_;
    double mass = 0;
    for (size_t i = 0; i < keep; ++i) mass += prob[i];
    return pick(order_.data(), prob.data(), keep, rng_.uniform() * mass);
}

int32_t Sampler::pick(const int32_t* tokens, const double* probs, size_t n, double u) {
    // Few candidates (top-k, top-p): sorted by id. Many: laid out over the ids, in linear time.
    constexpr size_t kSortedUpTo = 4096;
    int32_t last = tokens[0];  // the answer if u rounds up to the total
    double cum = 0;
    if (n <= kSortedUpTo) {
        by_id_.resize(n);
        for (size_t i = 0; i < n; ++i) by_id_[i] = uint32_t(i);
        std::sort(by_id_.begin(), by_id_.end(), [&](uint32_t a, uint32_t b) { return tokens[a] < tokens[b]; });
        for (uint32_t i : by_id_) {
            if (!(probs[i] > 0)) continue;
            last = tokens[i];
            if (u < (cum += probs[i])) return tokens[i];
        }
        return last;
    }
    int32_t top = 0;
    for (size_t i = 0; i < n; ++i) top = std::max(top, tokens[i]);
    dense_.assign(size_t(top) + 1, 0.0);
    for (size_t i = 0; i < n; ++i) dense_[size_t(tokens[i])] = probs[i];
    for (size_t t = 0; t < dense_.size(); ++t) {
        if (!(dense_[t] > 0)) continue;
        last = int32_t(t);
        if (u < (cum += dense_[t])) return int32_t(t);
    }
    return last;
}

void Sampler::distribution(const float* logits, size_t n, std::vector<int32_t>& tokens, std::vector<double>& probs) {
    const size_t keep = candidates(logits, n);
    if (keep == 0) {
        tokens.assign(1, order_[0]);
        probs.assign(1, 1.0);
        return;
    }
    double mass = 0;
    for (size_t i = 0; i < keep; ++i) mass += prob_[i];
    tokens.assign(order_.begin(), order_.begin() + long(keep));
    probs.resize(keep);
    for (size_t i = 0; i < keep; ++i) probs[i] = prob_[i] / mass;
}

}  // namespace dsv4::text
