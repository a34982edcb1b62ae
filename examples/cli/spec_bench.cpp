#include "spec_bench.h"

#include <algorithm>
#include <chrono>
#include <vector>

namespace cli {

namespace {

struct Timed {
    bool ok = false;
    double seconds = 0;
    dsv4_generate_stats stats{};
};

Timed generate_on_fork(dsv4_session* session, long long gen, bool speculative, bool adaptive, unsigned n_draft) {
    Timed t;
    dsv4_session* fork = nullptr;
    if (dsv4_session_fork(session, &fork) != DSV4_STATUS_OK) return t;
    dsv4_generate_params p;
    dsv4_generate_params_init(&p);
    p.max_tokens = uint64_t(gen);
    p.stop_at_eos = false;
    p.speculative = speculative;
    p.spec_adaptive = adaptive;
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

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

SpecBench bench_speculation(dsv4_session* session, long long gen, unsigned n_draft) {
    SpecBench b;
    const Timed plain = generate_on_fork(session, gen, false, false, n_draft);
    const Timed spec = generate_on_fork(session, gen, true, false, n_draft);
    const Timed automatic = generate_on_fork(session, gen, true, true, n_draft);
    if (!plain.ok || !spec.ok || !automatic.ok || !spec.stats.speculative || plain.seconds <= 0 || spec.seconds <= 0 ||
        automatic.seconds <= 0)
        return b;
    b.ran = true;
    b.auto_tok_s = double(gen) / automatic.seconds;
    b.auto_speedup = b.auto_tok_s / (double(gen) / plain.seconds);
    b.auto_spec_passes = automatic.stats.spec_passes;
    b.auto_main_passes = automatic.stats.main_passes;
    b.mtp_acceptance = spec.stats.acceptance_rate;
    b.tokens_per_pass = spec.stats.tokens_per_pass;
    b.plain_tok_s = double(gen) / plain.seconds;
    b.spec_tok_s = double(gen) / spec.seconds;
    b.spec_speedup = b.spec_tok_s / b.plain_tok_s;
    return b;
}

VerifyCost bench_verify_cost(dsv4_session* session, size_t vocab_size, int reps) {
    VerifyCost c;
    const float* lg = dsv4_session_logits(session);
    if (reps < 1 || vocab_size == 0 || lg == nullptr) return c;
    const size_t V = vocab_size;
    int32_t toks[2] = {int32_t(std::max_element(lg, lg + V) - lg), 0};  // greedy continuation
    dsv4_session* fork = nullptr;
    if (dsv4_session_fork(session, &fork) != DSV4_STATUS_OK) return c;
    const uint64_t p0 = dsv4_session_position(fork);
    std::vector<float> out(2 * V);
    std::vector<double> d1, v1, v2;
    using Clock = std::chrono::steady_clock;
    auto timed = [&](auto&& pass, std::vector<double>* into, double* bytes = nullptr) {
        const auto t0 = Clock::now();
        const bool ok = pass() == DSV4_STATUS_OK;
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        if (into) into->push_back(s);
        dsv4_session_stats st;
        st.struct_size = sizeof st;
        if (ok && bytes && dsv4_session_get_stats(fork, &st) == DSV4_STATUS_OK) *bytes = double(st.last_weight_bytes);
        return ok && dsv4_session_truncate(fork, p0) == DSV4_STATUS_OK;
    };
    bool ok = true;
    for (int r = 0; ok && r <= reps; ++r) {  // repetition 0 warms up and finds the second token
        const bool keep = r > 0;
        ok = timed([&] { return dsv4_decode_step(fork, toks[0]); }, keep ? &d1 : nullptr, &c.decode1_bytes);
        ok = ok &&
             timed([&] { return dsv4_session_verify(fork, toks, 1, out.data(), out.size()); }, keep ? &v1 : nullptr);
        if (ok && r == 0)
            toks[1] = int32_t(std::max_element(out.data(), out.data() + V) - out.data());  // after toks[0]
        ok = ok && timed([&] { return dsv4_session_verify(fork, toks, 2, out.data(), out.size()); },
                         keep ? &v2 : nullptr, &c.verify2_bytes);
    }
    dsv4_session_destroy(fork);
    if (!ok) return c;
    c.reps = reps;
    c.decode1_s = *std::min_element(d1.begin(), d1.end());
    c.verify1_s = *std::min_element(v1.begin(), v1.end());
    c.verify2_s = *std::min_element(v2.begin(), v2.end());
    const double d1_med = median(d1), v2_med = median(v2);
    c.ran = c.decode1_s > 0 && c.verify1_s > 0 && c.verify2_s > 0 && d1_med > 0;
    if (c.ran) {
        c.verify2_cost = c.verify2_s / c.decode1_s;
        c.verify2_cost_median = v2_med / d1_med;
    }
    return c;
}

}  // namespace cli
