// Generation functions of the C ABI: the model's tokenizer, the generator iterator and the
// streaming convenience loop over it.
#include <cstring>
#include <string>
#include <vector>

#include "guard.h"
#include "handles.h"
#include "handles_generate.h"
#include "handles_text.h"

using namespace dsv4;

namespace {

// The library's step in the caller's struct, up to the size the caller knows.
// out->struct_size has been checked.
void copy_step(const generate::Step& s, dsv4_generate_step* out) {
    dsv4_generate_step full;
    std::memset(&full, 0, sizeof full);
    full.struct_size = out->struct_size;
    full.token = s.token;
    full.text = s.text.c_str();
    full.text_len = s.text.size();
    full.finish = dsv4_finish_reason(s.finish);
    full.n_generated = s.n_generated;
    std::memcpy(out, &full, out->struct_size);
}

generate::Options to_options(const dsv4_generate_params* params, const char* fn) {
    dsv4_generate_params p;
    dsv4_generate_params_init(&p);
    copy_params(params, offsetof(dsv4_generate_params, n_prompt_tokens) + sizeof(size_t), p, fn,
                "dsv4_generate_params_init");
    generate::Options o;
    o.max_tokens = p.max_tokens;
    if (p.n_stop_strings) require_arg(p.stop_strings, fn, "params->stop_strings");
    for (size_t i = 0; i < p.n_stop_strings; ++i) {
        if (!p.stop_strings[i])
            fail(DSV4_STATUS_INVALID_ARGUMENT,
                 std::string(fn) + ": params->stop_strings[" + std::to_string(i) + "] is NULL");
        o.stop_strings.emplace_back(p.stop_strings[i]);
    }
    o.stop_at_eos = p.stop_at_eos;
    o.skip_special = p.skip_special;
    o.echo = p.echo;
    if (p.n_prompt_tokens) {
        require_arg(p.prompt_tokens, fn, "params->prompt_tokens");
        o.prompt.assign(p.prompt_tokens, p.prompt_tokens + p.n_prompt_tokens);
    }
    o.speculative = p.speculative;
    if (p.n_draft > uint32_t(generate::kMaxDraft))
        fail(DSV4_STATUS_INVALID_ARGUMENT, std::string(fn) + ": params->n_draft " + std::to_string(p.n_draft) +
                                               " is not in [1, " + std::to_string(generate::kMaxDraft) + "]");
    o.n_draft = p.n_draft ? int(p.n_draft) : 1;
    o.adaptive = p.spec_adaptive;
    return o;
}

std::unique_ptr<dsv4_generator> make_generator(dsv4_session* session, const dsv4_tokenizer* tokenizer,
                                               dsv4_sampler* sampler, const dsv4_generate_params* params,
                                               const char* fn) {
    require_arg(session, fn, "session");
    auto g = std::make_unique<dsv4_generator>();
    text::Sampler* s = sampler ? &sampler->sampler : nullptr;
    if (!s) {
        text::SamplerParams greedy;
        greedy.temperature = 0.0f;
        g->own_sampler = std::make_unique<text::Sampler>(std::move(greedy));
        s = g->own_sampler.get();
    }
    g->generator = std::make_unique<generate::Generator>(
        *session->session, tokenizer ? tokenizer->tokenizer.get() : nullptr, *s, to_options(params, fn));
    return g;
}

}  // namespace

extern "C" {

DSV4_API const dsv4_tokenizer* dsv4_model_tokenizer(const dsv4_model* model) {
    return model ? model->tokenizer.get() : nullptr;
}

DSV4_API void dsv4_generate_params_init(dsv4_generate_params* p) {
    if (!p) return;
    std::memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->max_tokens = 0;
    p->stop_at_eos = true;
    p->skip_special = false;
    p->echo = false;
    p->speculative = true;
    p->n_draft = 1;
    p->spec_adaptive = true;
}

DSV4_API dsv4_status dsv4_generator_create(dsv4_session* session, const dsv4_tokenizer* tokenizer,
                                           dsv4_sampler* sampler, const dsv4_generate_params* params,
                                           dsv4_generator** out) {
    return guarded([&] {
        require_arg(out, "dsv4_generator_create", "out_generator");
        *out = nullptr;
        *out = make_generator(session, tokenizer, sampler, params, "dsv4_generator_create").release();
    });
}

DSV4_API dsv4_status dsv4_generator_next(dsv4_generator* g, dsv4_generate_step* out) {
    return guarded([&] {
        require_arg(g, "dsv4_generator_next", "generator");
        require_arg(out, "dsv4_generator_next", "out");
        // Checked before the step runs, so that a bad struct costs no token.
        out_struct_size(out, "dsv4_generator_next", "out", "dsv4_generate_step");
        copy_step(g->generator->next(), out);
    });
}

DSV4_API void dsv4_generator_free(dsv4_generator* g) {
    delete g;
}

DSV4_API dsv4_status dsv4_generator_get_stats(const dsv4_generator* g, dsv4_generate_stats* stats) {
    return guarded([&] {
        require_arg(g, "dsv4_generator_get_stats", "generator");
        require_arg(stats, "dsv4_generator_get_stats", "stats");
        out_struct_size(stats, "dsv4_generator_get_stats", "stats", "dsv4_generate_stats");
        const generate::Stats& st = g->generator->stats();
        dsv4_generate_stats s;
        std::memset(&s, 0, sizeof s);
        s.struct_size = stats->struct_size;
        s.n_generated = g->generator->n_generated();
        s.main_passes = st.main_passes;
        s.n_drafted = st.drafted;
        s.n_accepted = st.accepted;
        s.acceptance_rate = st.drafted ? double(st.accepted) / double(st.drafted) : 0.0;
        s.tokens_per_pass = st.main_passes ? double(st.decided) / double(st.main_passes) : 0.0;
        s.speculative = g->generator->speculating();
        s.spec_passes = st.spec_passes;
        std::memcpy(stats, &s, stats->struct_size);
    });
}

DSV4_API dsv4_status dsv4_generate(dsv4_session* session, const dsv4_tokenizer* tokenizer, dsv4_sampler* sampler,
                                   const dsv4_generate_params* params, dsv4_generate_fn callback, void* user_data,
                                   dsv4_generate_result* result) {
    return guarded([&] {
        if (result) out_struct_size(result, "dsv4_generate", "result", "dsv4_generate_result");
        auto g = make_generator(session, tokenizer, sampler, params, "dsv4_generate");
        generate::Finish finish = generate::Finish::None;
        while (finish == generate::Finish::None) {
            const generate::Step& s = g->generator->next();
            finish = s.finish;
            if (!callback) continue;
            dsv4_generate_step step;
            step.struct_size = sizeof step;
            copy_step(s, &step);
            if (!callback(&step, user_data) && finish == generate::Finish::None) finish = generate::Finish::Cancelled;
        }
        if (result) {
            dsv4_generate_result r;
            std::memset(&r, 0, sizeof r);
            r.struct_size = result->struct_size;
            r.finish = dsv4_finish_reason(finish);
            r.n_generated = g->generator->n_generated();
            const generate::Stats& st = g->generator->stats();
            r.main_passes = st.main_passes;
            r.n_drafted = st.drafted;
            r.n_accepted = st.accepted;
            r.spec_passes = st.spec_passes;
            std::memcpy(result, &r, result->struct_size);
        }
    });
}

}  // extern "C"
