// The sampling loop: after the caller has prefilled a prompt, each step feeds the previously
// sampled token, samples the next one from the session's logits, turns it into displayable text
// and decides whether generation is over. The loop lives here (not in callers) so that later
// strategies - speculative decoding that verifies several drafted tokens per forward pass - can
// hand out tokens from one verified batch without changing any caller.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "generate/spec_policy.h"
#include "generate/text_stream.h"
#include "session.h"
#include "text/sampler.h"
#include "text/tokenizer.h"

namespace dsv4::generate {

// Values equal those of dsv4_finish_reason.
enum class Finish : int { None = 0, StopToken = 1, StopString = 2, MaxTokens = 3, ContextFull = 4, Cancelled = 5 };

struct Options {
    uint64_t max_tokens = 0;  // 0: no limit but the context
    std::vector<std::string> stop_strings;
    bool stop_at_eos = true;      // the model's eos_token_id ends generation (besides the sampler's stop tokens)
    bool skip_special = false;    // special tokens contribute no text
    bool echo = false;            // the first step carries the prompt's text
    std::vector<int32_t> prompt;  // what the caller prefilled: the sampler's penalties see it; echo shows it
    // Speculative decoding with the model's MTP block (no effect on a model without one): each
    // main-model pass verifies n_draft drafted tokens along with the pending one (one batch, then
    // a truncation back past the first rejected draft). The output is token for token that of
    // plain decoding, sampled output included: each token is the sampler's choice from the main
    // model's logits for its position, with the random number plain decoding would draw there,
    // and a draft is kept when it is that choice. (The MTP block draws each draft from its own
    // distribution with that same number, so the two agree as often as the distributions allow.)
    bool speculative = true;
    int n_draft = 1;  // 1..kMaxDraft: drafts chain through the MTP block, feeding it its own output
    // With speculative on: speculate only while speculative passes decide tokens faster than
    // plain steps, as measured during the generation (SpecPolicy); false: every pass speculates.
    bool adaptive = true;
};

constexpr int kMaxDraft = 8;

struct Stats {
    uint64_t main_passes = 0;  // forward passes of the main model over generated tokens
    uint64_t decided = 0;      // tokens decided from the logits of those passes
    uint64_t spec_passes = 0;  // main passes that verified drafts
    uint64_t drafted = 0;      // tokens the MTP block drafted
    uint64_t accepted = 0;     // drafts accepted
};

struct Step {
    int32_t token = -1;  // the token sampled in this step; -1 when none (echo, cancelled, after the end)
    std::string text;    // text safe to show now (empty without a tokenizer)
    Finish finish = Finish::None;
    uint64_t n_generated = 0;  // tokens sampled so far
};

class Generator {
public:
    // The session must hold the prompt already (position > 0). tokenizer may be null: steps then
    // carry ids only (stop strings and echo need one). Throws DSV4_STATUS_INVALID_ARGUMENT.
    // The session, tokenizer and sampler are borrowed and must outlive the generator; nobody else
    // may feed the session between steps.
    Generator(Session& session, const text::Tokenizer* tokenizer, text::Sampler& sampler, Options options);

    // The next step. Cancellation by the session's abort callback and a full context end
    // generation through Step::finish, leaving the session usable. Any other failure throws
    // dsv4::Error; the generator then stands where it did before the call and the step may be
    // retried. After the last step, further calls return a step with token -1, no text and the
    // same finish reason.
    const Step& next();

    bool finished() const { return finish_ != Finish::None && pending_.empty(); }
    Finish finish_reason() const { return finish_; }
    uint64_t n_generated() const { return n_generated_; }
    const Stats& stats() const { return stats_; }
    // Whether steps may be drafted and verified (requested, and the model has an MTP block).
    bool speculating() const { return spec_; }

private:
    const Step& end_with(Finish reason, int32_t token, std::string text);
    bool is_stop_token(int32_t token) const;
    // A token just decided (sampled, or an accepted draft): recorded for the penalties, checked
    // against the stop conditions, turned into text. fed_before: the tokens the session holds
    // before it (in plain decoding: its position when the token is sampled).
    Step decide(int32_t token, uint64_t fed_before);
    // Drafts, verifies and decides a run of tokens after the pending one into pending_; false
    // when no draft fits in the context (the caller then decodes plainly).
    bool speculative_round();
    // A plain step: feeds the pending token. Returns the step to hand out when that ends the
    // generation (cancelled, context full), else null.
    const Step* feed_unfed();

    Session& session_;
    const text::Tokenizer* tok_;
    text::Sampler& sampler_;
    Options opts_;
    std::unique_ptr<TextStream> text_;  // null without a tokenizer
    int32_t eos_ = -1;
    bool echo_pending_ = false;
    std::optional<int32_t> unfed_;  // sampled in the previous step, fed at the start of the next
    uint64_t n_generated_ = 0;
    Finish finish_ = Finish::None;
    Step step_;
    bool spec_ = false;
    std::deque<Step> pending_;  // steps decided by a speculative round, handed out one per next()
    Stats stats_;
    SpecPolicy policy_;
    std::vector<float> rows_;        // verify logits
    std::vector<int32_t> q_tokens_;  // a draft's distribution
    std::vector<double> q_probs_;
};

}  // namespace dsv4::generate
