// Sampler and stop-string functions of the C ABI.
#include <cstring>
#include <string>
#include <vector>

#include "guard.h"
#include "handles_text.h"

using namespace dsv4;

extern "C" {

DSV4_API void dsv4_sampler_params_init(dsv4_sampler_params* p) {
    if (!p) return;
    std::memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    const text::SamplerParams d;
    p->temperature = d.temperature;
    p->top_k = d.top_k;
    p->top_p = d.top_p;
    p->min_p = d.min_p;
    p->repetition_penalty = d.repetition_penalty;
    p->presence_penalty = d.presence_penalty;
    p->frequency_penalty = d.frequency_penalty;
    p->penalty_last_n = d.penalty_last_n;
    p->seed = d.seed;
}

DSV4_API dsv4_status dsv4_sampler_create(const dsv4_sampler_params* params, dsv4_sampler** out) {
    return guarded([&] {
        require_arg(out, "dsv4_sampler_create", "out_sampler");
        *out = nullptr;
        dsv4_sampler_params p;
        dsv4_sampler_params_init(&p);
        copy_params(params, offsetof(dsv4_sampler_params, n_stop_tokens) + sizeof(size_t), p, "dsv4_sampler_create",
                    "dsv4_sampler_params_init");
        text::SamplerParams s;
        s.temperature = p.temperature;
        s.top_k = p.top_k;
        s.top_p = p.top_p;
        s.min_p = p.min_p;
        s.repetition_penalty = p.repetition_penalty;
        s.presence_penalty = p.presence_penalty;
        s.frequency_penalty = p.frequency_penalty;
        s.penalty_last_n = p.penalty_last_n;
        s.seed = p.seed;
        if (p.n_logit_bias) {
            require_arg(p.logit_bias_tokens, "dsv4_sampler_create", "params->logit_bias_tokens");
            require_arg(p.logit_bias_values, "dsv4_sampler_create", "params->logit_bias_values");
            for (size_t i = 0; i < p.n_logit_bias; ++i)
                s.logit_bias.emplace_back(p.logit_bias_tokens[i], p.logit_bias_values[i]);
        }
        if (p.n_stop_tokens) {
            require_arg(p.stop_tokens, "dsv4_sampler_create", "params->stop_tokens");
            s.stop_tokens.assign(p.stop_tokens, p.stop_tokens + p.n_stop_tokens);
        }
        *out = new dsv4_sampler{text::Sampler(std::move(s))};
    });
}

DSV4_API void dsv4_sampler_free(dsv4_sampler* sampler) {
    delete sampler;
}

DSV4_API dsv4_status dsv4_sampler_sample(dsv4_sampler* sampler, const float* logits, size_t n_vocab,
                                         int32_t* out_token) {
    return guarded([&] {
        require_arg(sampler, "dsv4_sampler_sample", "sampler");
        require_arg(logits, "dsv4_sampler_sample", "logits");
        require_arg(out_token, "dsv4_sampler_sample", "out_token");
        *out_token = sampler->sampler.sample(logits, n_vocab);
    });
}

DSV4_API dsv4_status dsv4_sampler_accept(dsv4_sampler* sampler, int32_t token) {
    return guarded([&] {
        require_arg(sampler, "dsv4_sampler_accept", "sampler");
        sampler->sampler.accept(token);
    });
}

DSV4_API void dsv4_sampler_reset(dsv4_sampler* sampler) {
    if (sampler) sampler->sampler.reset();
}

DSV4_API bool dsv4_sampler_is_stop_token(const dsv4_sampler* sampler, int32_t token) {
    return sampler && sampler->sampler.is_stop_token(token);
}

DSV4_API dsv4_status dsv4_stop_matcher_create(const char* const* stop_strings, size_t n, dsv4_stop_matcher** out) {
    return guarded([&] {
        if (n) require_arg(stop_strings, "dsv4_stop_matcher_create", "stop_strings");
        require_arg(out, "dsv4_stop_matcher_create", "out_matcher");
        *out = nullptr;
        std::vector<std::string> stops;
        for (size_t i = 0; i < n; ++i) {
            if (!stop_strings[i])
                fail(DSV4_STATUS_INVALID_ARGUMENT,
                     "dsv4_stop_matcher_create: stop_strings[" + std::to_string(i) + "] is NULL");
            stops.emplace_back(stop_strings[i]);
        }
        *out = new dsv4_stop_matcher{text::StopMatcher(std::move(stops)), {}};
    });
}

DSV4_API dsv4_status dsv4_stop_matcher_feed(dsv4_stop_matcher* m, const char* text, size_t len, const char** out_text,
                                            size_t* out_len, bool* out_stopped) {
    return guarded([&] {
        require_arg(m, "dsv4_stop_matcher_feed", "matcher");
        if (len) require_arg(text, "dsv4_stop_matcher_feed", "text");
        require_arg(out_text, "dsv4_stop_matcher_feed", "out_text");
        auto r = m->matcher.feed(std::string_view(text ? text : "", len));
        m->last = std::move(r.text);
        *out_text = m->last.c_str();
        if (out_len) *out_len = m->last.size();
        if (out_stopped) *out_stopped = r.stopped;
    });
}

DSV4_API dsv4_status dsv4_stop_matcher_flush(dsv4_stop_matcher* m, const char** out_text, size_t* out_len) {
    return guarded([&] {
        require_arg(m, "dsv4_stop_matcher_flush", "matcher");
        require_arg(out_text, "dsv4_stop_matcher_flush", "out_text");
        m->last = m->matcher.flush();
        *out_text = m->last.c_str();
        if (out_len) *out_len = m->last.size();
    });
}

DSV4_API void dsv4_stop_matcher_free(dsv4_stop_matcher* m) {
    delete m;
}

}  // extern "C"
