#include "generate/generator.h"

#include <algorithm>

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

const Step& Generator::next() {
    if (finished()) return end_with(finish_, -1, "");
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
    if (unfed_) {
        try {
            session_.decode(*unfed_);
        } catch (const Error& e) {
            // The session rolled the token back; what was shown stays the output.
            if (e.status() == DSV4_STATUS_CANCELLED)
                return end_with(Finish::Cancelled, -1, text_ ? text_->finish() : "");
            if (e.status() == DSV4_STATUS_CONTEXT_FULL)
                return end_with(Finish::ContextFull, -1, text_ ? text_->finish() : "");
            throw;
        }
        unfed_.reset();
    }
    const float* logits = session_.logits();
    if (!logits) bad_arg("the session holds no tokens (was it reset?)");
    const int32_t token = sampler_.sample(logits, size_t(session_.model().config().vocab_size));
    sampler_.accept(token);
    ++n_generated_;

    if (is_stop_token(token)) return end_with(Finish::StopToken, token, text_ ? text_->finish() : "");
    std::string text;
    if (text_) {
        TextStream::Piece p = text_->feed(token);
        if (p.stopped) return end_with(Finish::StopString, token, std::move(p.text));
        text = std::move(p.text);
    }
    if (opts_.max_tokens && n_generated_ >= opts_.max_tokens)
        return end_with(Finish::MaxTokens, token, text_ ? text + text_->finish() : text);
    // The token just sampled could never be fed: generation cannot go on.
    if (uint64_t(session_.position()) >= session_.n_ctx())
        return end_with(Finish::ContextFull, token, text_ ? text + text_->finish() : text);
    unfed_ = token;
    step_ = Step{token, std::move(text), Finish::None, n_generated_};
    return step_;
}

}  // namespace dsv4::generate
