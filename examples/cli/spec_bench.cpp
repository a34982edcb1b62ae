#include "spec_bench.h"

#include <chrono>

namespace cli {

namespace {

struct Timed {
    bool ok = false;
    double seconds = 0;
    dsv4_generate_stats stats{};
};

Timed generate_on_fork(dsv4_session* session, long long gen, bool speculative, unsigned n_draft) {
    Timed t;
    dsv4_session* fork = nullptr;
    if (dsv4_session_fork(session, &fork) != DSV4_STATUS_OK) return t;
    dsv4_generate_params p;
    dsv4_generate_params_init(&p);
    p.max_tokens = uint64_t(gen);
    p.stop_at_eos = false;
    p.speculative = speculative;
    p.n_draft = n_draft;
    dsv4_generator* g = nullptr;
    if (dsv4_generator_create(fork, nullptr, nullptr, &p, &g) == DSV4_STATUS_OK) {
        const auto t0 = std::chrono::steady_clock::now();
        dsv4_generate_step step;
        step.struct_size = sizeof step;
        bool ok = true;
        do {
            ok = dsv4_generator_next(g, &step) == DSV4_STATUS_OK;
        } while (ok && step.finish == DSV4_FINISH_NONE);
        t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        t.stats.struct_size = sizeof t.stats;
        t.ok = ok && step.finish == DSV4_FINISH_MAX_TOKENS && dsv4_generator_get_stats(g, &t.stats) == DSV4_STATUS_OK;
        dsv4_generator_free(g);
    }
    dsv4_session_destroy(fork);
    return t;
}

}  // namespace

SpecBench bench_speculation(dsv4_session* session, long long gen, unsigned n_draft) {
    SpecBench b;
    const Timed plain = generate_on_fork(session, gen, false, n_draft);
    const Timed spec = generate_on_fork(session, gen, true, n_draft);
    if (!plain.ok || !spec.ok || !spec.stats.speculative || plain.seconds <= 0 || spec.seconds <= 0) return b;
    b.ran = true;
    b.mtp_acceptance = spec.stats.acceptance_rate;
    b.tokens_per_pass = spec.stats.tokens_per_pass;
    b.plain_tok_s = double(gen) / plain.seconds;
    b.spec_tok_s = double(gen) / spec.seconds;
    b.spec_speedup = b.spec_tok_s / b.plain_tok_s;
    return b;
}

}  // namespace cli
