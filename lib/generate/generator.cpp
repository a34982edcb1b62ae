#include "generate/generator.h"

#include <algorithm>
#include <chrono>

#include "error.h"

namespace dsv4::generate {

namespace {

[[noreturn]] void bad_arg(const std::string& what) {
    fail(DSV4_STATUS_INVALID_ARGUMENT, "generator: " + what);
}

}  // namespace

Generator::Generator(Session& session, const text::Tokenizer* tokenizer, text::Sampler& sampler, Options options)
    : session_(session), tok_(tokenizer), sampler_(sampler), opts_(std::move(options)) {
    if (session_.position() == 0) bad_arg("the session holds no tokens: prefill the prompt first");
    if (!tok_ && !opts_.stop_strings.empty()) bad_arg("stop strings need a tokenizer");
    if (!tok_ && opts_.echo) bad_arg("echo needs a tokenizer");
    const int vocab = session_.model().config().vocab_size;
    for (size_t i = 0; i < opts_.prompt.size(); ++i)
        if (opts_.prompt[i] < 0 || opts_.prompt[i] >= vocab)
            bad_arg("prompt token " + std::to_string(i) + " (" + std::to_string(opts_.prompt[i]) +
                    ") is out of range [0, " + std::to_string(vocab) + ")");
    if (tok_) text_ = std::make_unique<TextStream>(*tok_, opts_.skip_special, opts_.stop_strings);
    if (opts_.speculative && (opts_.n_draft < 1 || opts_.n_draft > kMaxDraft))
        bad_arg("n_draft " + std::to_string(opts_.n_draft) + " is not in [1, " + std::to_string(kMaxDraft) + "]");
    spec_ = opts_.speculative && session_.has_mtp();
    eos_ = opts_.stop_at_eos ? session_.model().config().eos_token_id : -1;
    echo_pending_ = opts_.echo;
    // Last, once nothing can fail: the penalties count the prompt's tokens too.
    for (int32_t t : opts_.prompt) sampler_.accept(t);
}

bool Generator::is_stop_token(int32_t token) const {
    return sampler_.is_stop_token(token) || (eos_ >= 0 && token == eos_);
}

const Step& Generator::end_with(Finish reason, int32_t token, std::string text) {
    finish_ = reason;
    step_.token = token;
    step_.text = std::move(text);
    step_.finish = reason;
    step_.n_generated = n_generated_;
    return step_;
}

Step Generator::decide(int32_t token, uint64_t fed_before) {
    sampler_.accept(token);
    ++n_generated_;
    auto finish = [&](Finish reason, std::string text) {
        finish_ = reason;
        return Step{token, std::move(text), reason, n_generated_};
    };
    if (is_stop_token(token)) return finish(Finish::StopToken, text_ ? text_->finish() : "");
    std::string text;
    if (text_) {
        TextStream::Piece p = text_->feed(token);
        if (p.stopped) return finish(Finish::StopString, std::move(p.text));
        text = std::move(p.text);
    }
    if (opts_.max_tokens && n_generated_ >= opts_.max_tokens)
        return finish(Finish::MaxTokens, text_ ? text + text_->finish() : text);
    // The token just decided could never be fed: generation cannot go on.
    if (fed_before >= session_.n_ctx()) return finish(Finish::ContextFull, text_ ? text + text_->finish() : text);
    return Step{token, std::move(text), Finish::None, n_generated_};
}

bool Generator::speculative_round() {
    const int32_t y = *unfed_;
    const uint64_t p = uint64_t(session_.position());
    // y and the drafts must all fit: y always does (it was checked when decided).
    const int k = int(std::min<uint64_t>(uint64_t(opts_.n_draft), session_.n_ctx() - p - 1));
    if (k <= 0) return false;
    const size_t V = size_t(session_.model().config().vocab_size);

    // Drafts from the MTP block: draft i is drawn from its distribution q (the sampler's
    // transforms of the MTP logits) by Sampler::pick at the random number the main model's
    // choice of that position will draw, as sample() picks from p. Where p and q are close, the
    // two tokens agree for most numbers. (Greedy: q's best token.)
    const std::vector<int32_t> drafts = session_.mtp_draft(y, k, [&](const float* logits, int i) {
        sampler_.distribution(logits, V, q_tokens_, q_probs_);
        if (q_tokens_.size() == 1) return q_tokens_[0];
        double total = 0;
        for (double q : q_probs_) total += q;
        return sampler_.pick(q_tokens_.data(), q_probs_.data(), q_tokens_.size(),
                             sampler_.peek_uniform(size_t(i)) * total);
    });

    // One main-model pass over y and the drafts: rows_[i] are the logits for the token after
    // batch[i], the same bits as plain decoding computes there.
    std::vector<int32_t> batch(1, y);
    batch.insert(batch.end(), drafts.begin(), drafts.end());
    rows_.resize(batch.size() * V);
    try {
        session_.verify(batch.data(), batch.size(), rows_.data());
    } catch (const Error& e) {
        // The session rolled the batch back; what was shown stays the output.
        if (e.status() == DSV4_STATUS_CANCELLED) {
            pending_.push_back(end_with(Finish::Cancelled, -1, text_ ? text_->finish() : ""));
            return true;
        }
        throw;
    }
    unfed_.reset();
    ++stats_.main_passes;
    ++stats_.spec_passes;
    stats_.drafted += uint64_t(k);

    // Each position's token is the sampler's choice from those logits, drawing what plain
    // decoding would (the history the penalties see included): the output is plain decoding's.
    // A draft equal to it is kept and the next position decided; the first that is not ends the
    // round with the choice itself (or, every draft kept, the choice after the last: a bonus).
    int32_t next = -1;
    int j = 0;  // drafts accepted
    for (; j < k; ++j) {
        const int32_t d = drafts[size_t(j)];
        next = sampler_.sample(rows_.data() + size_t(j) * V, V);
        if (next != d) break;
        ++stats_.accepted;
        ++stats_.decided;
        const uint64_t fed_before = p + 1 + uint64_t(j);
        pending_.push_back(decide(d, fed_before));
        if (finish_ != Finish::None) {
            session_.truncate(int64_t(fed_before));  // the session holds all but the last token
            return true;
        }
    }
    if (j == k) next = sampler_.sample(rows_.data() + size_t(k) * V, V);
    ++stats_.decided;
    const uint64_t fed_before = p + 1 + uint64_t(j);
    session_.truncate(int64_t(fed_before));  // y and the accepted drafts stay
    pending_.push_back(decide(next, fed_before));
    if (finish_ == Finish::None) unfed_ = next;
    return true;
}

const Step* Generator::feed_unfed() {
    try {
        session_.decode(*unfed_);
    } catch (const Error& e) {
        // The session rolled the token back; what was shown stays the output.
        if (e.status() == DSV4_STATUS_CANCELLED) return &end_with(Finish::Cancelled, -1, text_ ? text_->finish() : "");
        if (e.status() == DSV4_STATUS_CONTEXT_FULL)
            return &end_with(Finish::ContextFull, -1, text_ ? text_->finish() : "");
        throw;
    }
    unfed_.reset();
    ++stats_.main_passes;
    ++stats_.decided;
    return nullptr;
}

const Step& Generator::next() {
    if (!pending_.empty()) {
        step_ = std::move(pending_.front());
        pending_.pop_front();
        return step_;
    }
    if (finish_ != Finish::None) return end_with(finish_, -1, "");
    if (echo_pending_) {
        text::StreamDecoder d(*tok_, opts_.skip_special);
        std::string s;
        for (int32_t t : opts_.prompt)
            if (tok_->token_string(t)) s += d.feed(t);
        s += d.flush();
        echo_pending_ = false;
        step_ = Step{-1, std::move(s), Finish::None, n_generated_};
        return step_;
    }
    using Clock = std::chrono::steady_clock;
    const auto since = [](Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); };
    const bool timed = spec_ && opts_.adaptive;
    const auto t0 = Clock::now();
    bool fed = false;
    if (unfed_) {
        if (spec_ && (!opts_.adaptive || policy_.speculate())) {
            const uint64_t decided = stats_.decided;
            if (speculative_round()) {
                if (timed) policy_.record(true, since(t0), stats_.decided - decided);
                return next();
            }
        }
        if (const Step* end = feed_unfed()) return *end;
        fed = true;
    }
    const float* logits = session_.logits();
    if (!logits) bad_arg("the session holds no tokens (was it reset?)");
    const int32_t token = sampler_.sample(logits, size_t(session_.model().config().vocab_size));
    // A plain pass: the pending token fed, the next one chosen. (The first step only chooses,
    // from the prompt's logits.)
    if (timed && fed) policy_.record(false, since(t0), 1);
    step_ = decide(token, uint64_t(session_.position()));
    if (finish_ == Finish::None) unfed_ = token;
    return step_;
}

}  // namespace dsv4::generate
