// Speculative decoding in the generator: the MTP block drafts, one main-model pass verifies.
// The output is token for token that of plain decoding, greedy or sampled (and the session ends
// in the same state); by default the generator speculates only while that is faster.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "generate/spec_policy.h"
#include "generate_helpers.h"
#include "session_helpers.h"

using namespace generate_testing;
using namespace session_testing;

namespace {

const std::vector<int32_t> kPrompt = {5, 17, 230, 99, 3, 42, 7};

// The trained default model (models/dsv4-tiny-code): its MTP block agrees with the main model
// on about 60% of tokens, where the golden checkpoints' random MTP blocks almost never do.
ModelPtr open_trained_model(const char* backend = "cpu") {
    dsv4_model_params p;
    dsv4_model_params_init(&p);
    p.backend = backend;
    dsv4_model* m = nullptr;
    const std::string dir = std::string(DSV4_SOURCE_DIR) + "/models/dsv4-tiny-code";
    INFO(dsv4_last_error());
    REQUIRE(dsv4_model_open(dir.c_str(), &p, &m) == DSV4_STATUS_OK);
    return ModelPtr(m);
}

// A Python-looking prompt in the trained model's vocabulary.
std::vector<int32_t> trained_prompt(dsv4_model* m) {
    const dsv4_tokenizer* tok = dsv4_model_tokenizer(m);
    REQUIRE(tok != nullptr);
    const std::string text = "import os\nimport sys\n\n\ndef main(argv):\n    for name in argv:\n        if ";
    int32_t* ids = nullptr;
    size_t n = 0;
    REQUIRE(dsv4_tokenizer_encode(tok, text.data(), text.size(), DSV4_TOKENIZE_ADD_BOS, &ids, &n) == DSV4_STATUS_OK);
    std::vector<int32_t> out(ids, ids + n);
    dsv4_tokens_free(ids);
    return out;
}

SessionPtr prefilled(dsv4_model* m, const std::vector<int32_t>& prompt, uint64_t n_ctx) {
    auto s = make_session(m, n_ctx);
    REQUIRE(dsv4_session_prefill(s.get(), prompt.data(), prompt.size()) == DSV4_STATUS_OK);
    return s;
}

// Speculation on every pass (not the default adaptive choice), so that the tests see drafts.
dsv4_generate_params spec_params(uint64_t max_tokens, bool speculative, uint32_t n_draft = 1, bool adaptive = false) {
    dsv4_generate_params p = params_with_max(max_tokens);
    p.speculative = speculative;
    p.n_draft = n_draft;
    p.spec_adaptive = adaptive;
    return p;
}

struct Run {
    Generated out;
    dsv4_generate_stats stats{};
    uint64_t position = 0;
    std::vector<float> logits;
};

Run run(dsv4_session* s, dsv4_sampler* sampler, const dsv4_generate_params& p, int V) {
    dsv4_generator* raw = nullptr;
    INFO(dsv4_last_error());
    REQUIRE(dsv4_generator_create(s, nullptr, sampler, &p, &raw) == DSV4_STATUS_OK);
    GeneratorPtr g(raw);
    Run r;
    r.out = run_generator(g.get());
    r.stats.struct_size = sizeof r.stats;
    REQUIRE(dsv4_generator_get_stats(g.get(), &r.stats) == DSV4_STATUS_OK);
    r.position = dsv4_session_position(s);
    r.logits = logits_of(s, V);
    return r;
}

void check_greedy_identical(const std::string& name, const char* backend, uint32_t n_draft,
                            double min_acceptance = 0.0) {
    INFO(name << " on " << backend << ", " << n_draft << " draft(s) per pass");
    const bool trained = name == "dsv4-tiny-code";
    auto model = trained ? open_trained_model(backend) : open_golden_model(name, backend);
    const int V = vocab_size(model.get());
    const auto prompt = trained ? trained_prompt(model.get()) : golden_tokens(name);
    const std::vector<int32_t> p20(prompt.begin(), prompt.begin() + std::min<size_t>(20, prompt.size()));
    auto plain_s = prefilled(model.get(), p20, 640);
    auto spec_s = prefilled(model.get(), p20, 640);
    const Run plain = run(plain_s.get(), nullptr, spec_params(500, false), V);
    const Run spec = run(spec_s.get(), nullptr, spec_params(500, true, n_draft), V);
    REQUIRE(plain.out.tokens.size() == 500);
    CHECK(spec.out.tokens == plain.out.tokens);
    CHECK(spec.out.finish == DSV4_FINISH_MAX_TOKENS);
    CHECK(spec.out.steps == 500);
    // The session ends where plain decoding leaves it: all but the last token fed.
    CHECK(spec.position == plain.position);
    CHECK(std::memcmp(spec.logits.data(), plain.logits.data(), size_t(V) * sizeof(float)) == 0);

    CHECK_FALSE(plain.stats.speculative);
    CHECK(plain.stats.main_passes == 499);
    CHECK(plain.stats.n_drafted == 0);
    CHECK(plain.stats.tokens_per_pass == 1.0);
    CHECK(spec.stats.speculative);
    CHECK(spec.stats.spec_passes == spec.stats.main_passes);
    CHECK(plain.stats.spec_passes == 0);
    CHECK(spec.stats.n_generated == 500);
    CHECK(spec.stats.n_drafted >= spec.stats.main_passes * n_draft - n_draft);
    CHECK(spec.stats.n_accepted <= spec.stats.n_drafted);
    CHECK(spec.stats.acceptance_rate == Approx(double(spec.stats.n_accepted) / double(spec.stats.n_drafted)));
    // Every pass decides the accepted drafts and one more token.
    // (less one when the last token was itself an accepted draft).
    const uint64_t decided = spec.stats.main_passes + spec.stats.n_accepted;
    CHECK((decided == 499 || decided == 500));
    CHECK(spec.stats.tokens_per_pass == Approx(499.0 / double(spec.stats.main_passes)));
    CHECK(spec.stats.acceptance_rate >= min_acceptance);
    std::printf("speculative greedy %s %s n_draft %u: %llu of %llu drafts accepted (%.1f%%), %.3f tokens/pass\n",
                name.c_str(), backend, n_draft, (unsigned long long)spec.stats.n_accepted,
                (unsigned long long)spec.stats.n_drafted, 100.0 * spec.stats.acceptance_rate,
                spec.stats.tokens_per_pass);
}

}  // namespace

TEST_CASE("speculative greedy output equals plain greedy decoding for 500 tokens (tiny-s4, reference)",
          "[generate][speculative]") {
    check_greedy_identical("tiny-s4", "reference", 1);
}

TEST_CASE("speculative greedy output equals plain greedy decoding for 500 tokens (tiny-pro-s4, cpu)",
          "[generate][speculative]") {
    check_greedy_identical("tiny-pro-s4", "cpu", 1);
    check_greedy_identical("tiny-pro-s4", "cpu", 3);
}

TEST_CASE("speculative greedy output equals plain greedy decoding for 500 tokens (tiny-fp8x-s1, cpu)",
          "[generate][speculative]") {
    check_greedy_identical("tiny-fp8x-s1", "cpu", 2);
}

// The golden models' MTP blocks are random, so nearly every draft is rejected there; the
// trained model's drafts are mostly accepted, which exercises the other path as much.
TEST_CASE("speculative greedy output equals plain greedy decoding for 500 tokens (trained model, cpu)",
          "[generate][speculative]") {
    check_greedy_identical("dsv4-tiny-code", "cpu", 1, 0.3);
    check_greedy_identical("dsv4-tiny-code", "cpu", 3, 0.2);
}

TEST_CASE("speculative greedy output equals plain greedy decoding for 500 tokens (trained model, reference)",
          "[generate][speculative]") {
    check_greedy_identical("dsv4-tiny-code", "reference", 2, 0.2);
}

// Generation that ends inside a verified batch (max_tokens, a stop token, a full context) ends
// on the same token as plain decoding, with the session holding the same tokens.
TEST_CASE("speculative generation ends where plain decoding ends", "[generate][speculative]") {
    auto model = open_golden_model("tiny-s4", "cpu");
    const int V = vocab_size(model.get());
    auto free_s = prefilled(model.get(), kPrompt, 256);
    const auto free_run = run(free_s.get(), nullptr, spec_params(40, false), V).out.tokens;
    for (uint32_t n_draft : {1u, 4u}) {
        for (uint64_t max : {1, 2, 3, 4, 5, 6, 7, 9, 13}) {
            INFO("max_tokens " << max << ", n_draft " << n_draft);
            auto a = prefilled(model.get(), kPrompt, 256);
            auto b = prefilled(model.get(), kPrompt, 256);
            const Run plain = run(a.get(), nullptr, spec_params(max, false), V);
            const Run spec = run(b.get(), nullptr, spec_params(max, true, n_draft), V);
            CHECK(spec.out.tokens == plain.out.tokens);
            CHECK(spec.position == plain.position);
            CHECK(spec.out.finish == DSV4_FINISH_MAX_TOKENS);
        }
        for (size_t at : {size_t(3), size_t(8), size_t(17)}) {
            INFO("stop token " << free_run[at] << " first sampled at step " << at << ", n_draft " << n_draft);
            dsv4_sampler_params sp;
            dsv4_sampler_params_init(&sp);
            sp.temperature = 0.0f;
            sp.stop_tokens = &free_run[at];
            sp.n_stop_tokens = 1;
            auto sa = make_sampler(sp);
            auto sb = make_sampler(sp);
            auto a = prefilled(model.get(), kPrompt, 256);
            auto b = prefilled(model.get(), kPrompt, 256);
            const Run plain = run(a.get(), sa.get(), spec_params(40, false), V);
            const Run spec = run(b.get(), sb.get(), spec_params(40, true, n_draft), V);
            CHECK(plain.out.finish == DSV4_FINISH_STOP_TOKEN);
            CHECK(spec.out.tokens == plain.out.tokens);
            CHECK(spec.out.finish == DSV4_FINISH_STOP_TOKEN);
            CHECK(spec.position == plain.position);
        }
        for (uint64_t ctx :
             {uint64_t(kPrompt.size() + 1), uint64_t(kPrompt.size() + 2), uint64_t(kPrompt.size() + 6)}) {
            INFO("n_ctx " << ctx << ", n_draft " << n_draft);
            auto a = prefilled(model.get(), kPrompt, ctx);
            auto b = prefilled(model.get(), kPrompt, ctx);
            const Run plain = run(a.get(), nullptr, spec_params(0, false), V);
            const Run spec = run(b.get(), nullptr, spec_params(0, true, n_draft), V);
            CHECK(plain.out.finish == DSV4_FINISH_CONTEXT_FULL);
            CHECK(spec.out.tokens == plain.out.tokens);
            CHECK(spec.out.finish == DSV4_FINISH_CONTEXT_FULL);
            CHECK(spec.position == plain.position);
        }
    }
}

namespace {

// The sampler's distribution for temperature 1 and top-k (no penalties): softmax over the k
// best logits (ties to the lower id), as dsv4_sampler computes it.
std::map<int32_t, double> top_k_softmax(const float* logits, int V, int k) {
    std::vector<int32_t> order(static_cast<size_t>(V));
    for (int i = 0; i < V; ++i) order[size_t(i)] = i;
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int32_t a, int32_t b) { return logits[a] != logits[b] ? logits[a] > logits[b] : a < b; });
    std::map<int32_t, double> p;
    double total = 0;
    for (int i = 0; i < k; ++i)
        total += p[order[size_t(i)]] = std::exp(double(logits[order[size_t(i)]]) - logits[order[0]]);
    for (auto& [t, v] : p) v /= total;
    return p;
}

// Pearson's chi-square of observed counts against expected probabilities over n draws, cells
// with fewer than 5 expected merged into one.
double chi_square(const std::map<std::vector<int32_t>, int>& seen, const std::map<std::vector<int32_t>, double>& want,
                  int n, int* dof) {
    double chi = 0, rest_expected = 0, rest_seen = 0;
    int cells = 0;
    for (const auto& [key, prob] : want) {
        const double e = prob * n;
        const auto it = seen.find(key);
        const double o = it == seen.end() ? 0 : it->second;
        if (e < 5) {
            rest_expected += e;
            rest_seen += o;
            continue;
        }
        chi += (o - e) * (o - e) / e;
        ++cells;
    }
    for (const auto& [key, count] : seen)
        if (!want.count(key)) rest_seen += count;  // impossible outcomes count fully against
    if (rest_expected > 0 || rest_seen > 0) {
        const double e = std::max(rest_expected, 1e-9);
        chi += (rest_seen - e) * (rest_seen - e) / e;
        ++cells;
    }
    *dof = cells - 1;
    return chi;
}

// The 0.999 quantile of chi-square with k degrees of freedom (Wilson-Hilferty; within 1%).
double chi_square_limit(int k) {
    const double z = 3.0902, a = 2.0 / (9.0 * k), c = 1.0 - a + z * std::sqrt(a);
    return k * c * c * c;
}

// The exact distribution of the next `depth` tokens under temperature-1 top-K sampling, from a
// session (forked, never changed).
void exact_joint(dsv4_session* s, int V, int K, int depth, std::vector<int32_t> prefix, double weight,
                 std::map<std::vector<int32_t>, double>& joint) {
    const auto p = top_k_softmax(logits_of(s, V).data(), V, K);
    for (const auto& [t, w] : p) {
        std::vector<int32_t> seq = prefix;
        seq.push_back(t);
        if (depth == 1) {
            joint[seq] = weight * w;
            continue;
        }
        dsv4_session* f = nullptr;
        REQUIRE(dsv4_session_fork(s, &f) == DSV4_STATUS_OK);
        SessionPtr fork(f);
        REQUIRE(dsv4_decode_step(fork.get(), t) == DSV4_STATUS_OK);
        exact_joint(fork.get(), V, K, depth - 1, seq, weight * w, joint);
    }
}

}  // namespace

// Over a fixed set of seeds, the first sampled tokens follow the exact joint distribution of the
// sampler on the main model (p(t1) p(t2 | t1) ...). Speculative sampling gives plain sampling's
// tokens (next test), so this holds for it too.
TEST_CASE("sampled decoding follows the sampling distribution", "[generate][statistics]") {
    auto model = open_trained_model();
    const int V = vocab_size(model.get());
    const int K = 3, tokens = 2;
    auto base = prefilled(model.get(), trained_prompt(model.get()), 128);
    std::map<std::vector<int32_t>, double> joint;
    exact_joint(base.get(), V, K, tokens, {}, 1.0, joint);
    const int N = 2400;
    std::map<std::vector<int32_t>, int> seen;
    for (int seed = 0; seed < N; ++seed) {
        dsv4_session* f = nullptr;
        REQUIRE(dsv4_session_fork(base.get(), &f) == DSV4_STATUS_OK);
        SessionPtr s(f);
        dsv4_sampler_params sp;
        dsv4_sampler_params_init(&sp);
        sp.temperature = 1.0f;
        sp.top_k = K;
        sp.seed = uint64_t(seed) * 7919 + 13;
        auto sampler = make_sampler(sp);
        const Run r = run(s.get(), sampler.get(), spec_params(uint64_t(tokens), false), V);
        REQUIRE(r.out.tokens.size() == size_t(tokens));
        ++seen[r.out.tokens];
    }
    int dof = 0;
    const double chi = chi_square(seen, joint, N, &dof);
    INFO("chi-square " << chi << " with " << dof << " degrees of freedom (limit " << chi_square_limit(dof) << ")");
    REQUIRE(dof >= 3);
    CHECK(chi < chi_square_limit(dof));
}

// Each token of a speculative pass is the sampler's choice from the main model's logits with the
// random number plain decoding draws there, so a seed gives the same text with and without
// speculation, for any sampling parameters and draft count; the MTP block's drafts, drawn with
// those same numbers, agree with the choices often (the trained model's MTP block is close to
// the main model).
TEST_CASE("sampled speculation gives plain sampling's tokens for the same seed", "[generate][speculative]") {
    auto model = open_trained_model();
    const int V = vocab_size(model.get());
    auto base = prefilled(model.get(), trained_prompt(model.get()), 256);
    struct Config {
        float temperature;
        int32_t top_k;
        float top_p;
        float repetition_penalty;
        uint32_t n_draft;
    };
    uint64_t top_k_drafted = 0, top_k_accepted = 0;
    for (const Config& c : {Config{1.0f, 3, 1.0f, 1.0f, 1}, Config{0.8f, 40, 0.9f, 1.0f, 1},
                            Config{1.2f, 0, 1.0f, 1.1f, 3}, Config{1.0f, 8, 0.95f, 1.0f, 2}}) {
        uint64_t drafted = 0, accepted = 0;
        for (uint64_t seed : {1ull, 2ull, 77ull, 1000003ull}) {
            INFO("temperature " << c.temperature << ", top-k " << c.top_k << ", top-p " << c.top_p
                                << ", repetition penalty " << c.repetition_penalty << ", " << c.n_draft
                                << " draft(s), seed " << seed);
            dsv4_sampler_params sp;
            dsv4_sampler_params_init(&sp);
            sp.temperature = c.temperature;
            sp.top_k = c.top_k;
            sp.top_p = c.top_p;
            sp.repetition_penalty = c.repetition_penalty;
            sp.seed = seed;
            auto plain_sampler = make_sampler(sp);
            auto spec_sampler = make_sampler(sp);
            dsv4_session *a = nullptr, *b = nullptr;
            REQUIRE(dsv4_session_fork(base.get(), &a) == DSV4_STATUS_OK);
            SessionPtr plain_s(a);
            REQUIRE(dsv4_session_fork(base.get(), &b) == DSV4_STATUS_OK);
            SessionPtr spec_s(b);
            const Run plain = run(plain_s.get(), plain_sampler.get(), spec_params(60, false), V);
            const Run spec = run(spec_s.get(), spec_sampler.get(), spec_params(60, true, c.n_draft), V);
            REQUIRE(plain.out.tokens.size() == 60);
            CHECK(spec.out.tokens == plain.out.tokens);
            CHECK(spec.position == plain.position);
            CHECK(spec.stats.spec_passes == spec.stats.main_passes);
            drafted += spec.stats.n_drafted;
            accepted += spec.stats.n_accepted;
        }
        std::printf(
            "sampled speculation, temperature %.1f, top-k %d, top-p %.2f, %u draft(s): %llu of %llu drafts "
            "accepted\n",
            double(c.temperature), c.top_k, double(c.top_p), c.n_draft, (unsigned long long)accepted,
            (unsigned long long)drafted);
        CHECK(drafted > 0);
        if (c.top_k > 0) {
            top_k_drafted += drafted;
            top_k_accepted += accepted;
        }
    }
    // With the candidates cut to the top k, 46% of the drafts were the main model's choice when
    // this was written; drawn with another random number than that choice's, 25%.
    CHECK(top_k_accepted * 100 > top_k_drafted * 36);
}

// By default (spec_adaptive) the generator times both kinds of pass and keeps the faster. The
// golden checkpoints' MTP blocks are random: their drafts are almost never the main model's
// choice, so a speculative pass (a draft and a 2-token verification) decides one token in more
// time than a plain step, and after its trials the generator decodes plainly.
TEST_CASE("adaptive speculation falls back to plain decoding when drafts do not pay", "[generate][speculative]") {
    auto model = open_golden_model("tiny-s4", "cpu");
    const int V = vocab_size(model.get());
    const auto prompt = golden_tokens("tiny-s4");
    const std::vector<int32_t> p20(prompt.begin(), prompt.begin() + 20);
    auto plain_s = prefilled(model.get(), p20, 512);
    auto auto_s = prefilled(model.get(), p20, 512);
    dsv4_generate_params defaults;
    dsv4_generate_params_init(&defaults);
    CHECK(defaults.spec_adaptive);
    const Run plain = run(plain_s.get(), nullptr, spec_params(400, false), V);
    const Run automatic = run(auto_s.get(), nullptr, spec_params(400, true, 1, true), V);
    CHECK(automatic.out.tokens == plain.out.tokens);
    CHECK(automatic.position == plain.position);
    INFO(automatic.stats.spec_passes << " of " << automatic.stats.main_passes << " passes speculative, "
                                     << automatic.stats.n_accepted << " of " << automatic.stats.n_drafted
                                     << " drafts accepted");
    CHECK(automatic.stats.speculative);
    CHECK(automatic.stats.spec_passes >= uint64_t(dsv4::generate::SpecPolicy::kProbePasses));  // it tried
    CHECK(automatic.stats.spec_passes * 100 <= automatic.stats.main_passes * 35);
}

TEST_CASE("speculation parameters and statistics through the C API", "[generate][speculative][errors]") {
    auto model = open_golden_model("tiny-s4", "cpu");
    auto s = prefilled(model.get(), kPrompt, 64);
    dsv4_generate_params p;
    dsv4_generate_params_init(&p);
    CHECK(p.speculative);
    CHECK(p.n_draft == 1);
    CHECK(p.spec_adaptive);
    p.n_draft = 9;
    dsv4_generator* g = nullptr;
    CHECK(dsv4_generator_create(s.get(), nullptr, nullptr, &p, &g) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_last_error()).find("n_draft") != std::string::npos);
    p.n_draft = 0;  // the default
    REQUIRE(dsv4_generator_create(s.get(), nullptr, nullptr, &p, &g) == DSV4_STATUS_OK);
    GeneratorPtr keep(g);
    dsv4_generate_stats st;
    st.struct_size = 0;
    CHECK(dsv4_generator_get_stats(g, &st) == DSV4_STATUS_INVALID_ARGUMENT);
    st.struct_size = sizeof st + 1;
    CHECK(dsv4_generator_get_stats(g, &st) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(dsv4_generator_get_stats(nullptr, &st) == DSV4_STATUS_INVALID_ARGUMENT);
    st.struct_size = sizeof st;
    REQUIRE(dsv4_generator_get_stats(g, &st) == DSV4_STATUS_OK);
    CHECK(st.speculative);
    CHECK(st.n_generated == 0);
    CHECK(st.tokens_per_pass == 0.0);
    // An older caller's smaller struct gets the fields it knows.
    dsv4_generate_stats small;
    std::memset(&small, 0xAB, sizeof small);
    small.struct_size = offsetof(dsv4_generate_stats, n_drafted);
    REQUIRE(dsv4_generator_get_stats(g, &small) == DSV4_STATUS_OK);
    CHECK(small.main_passes == 0);
    CHECK(small.acceptance_rate != 0.0);  // untouched

    // dsv4_generate reports the same figures.
    auto s2 = prefilled(model.get(), kPrompt, 64);
    dsv4_generate_result res;
    res.struct_size = sizeof res;
    const auto gp = spec_params(30, true, 2);
    REQUIRE(dsv4_generate(s2.get(), nullptr, nullptr, &gp, nullptr, nullptr, &res) == DSV4_STATUS_OK);
    CHECK(res.n_generated == 30);
    CHECK((res.main_passes + res.n_accepted == 29 || res.main_passes + res.n_accepted == 30));
    CHECK(res.n_drafted >= res.n_accepted);
    CHECK(res.spec_passes == res.main_passes);  // spec_params: every pass speculates
    CHECK(res.n_drafted == 2 * res.spec_passes);
}

TEST_CASE("dsv4 run: --spec auto (default), always or off, --no-spec; the text is the same",
          "[cli][generate][speculative]") {
    const std::string model = "'" + std::string(DSV4_SOURCE_DIR) + "/models/dsv4-tiny-code'";
    for (const std::string sampling : {" --temp 0", " --temp 0.9 --top-k 20 --seed 5"}) {
        const std::string common = "run -m " + model + " -p 'def main():' -n 60 --ignore-eos" + sampling;
        const auto automatic = testing_support::run_cli(common);
        const auto always = testing_support::run_cli(common + " --spec always");
        const auto plain = testing_support::run_cli(common + " --no-spec");
        const auto off = testing_support::run_cli(common + " --spec off");
        const auto chained = testing_support::run_cli(common + " --spec always --draft 3");
        INFO(sampling << "\n" << automatic.err << always.err << plain.err << chained.err);
        REQUIRE(automatic.exit_code == 0);
        REQUIRE(always.exit_code == 0);
        REQUIRE(plain.exit_code == 0);
        REQUIRE(off.exit_code == 0);
        REQUIRE(chained.exit_code == 0);
        CHECK(automatic.out == plain.out);
        CHECK(always.out == plain.out);
        CHECK(off.out == plain.out);
        CHECK(chained.out == plain.out);
        // The adaptive default tries speculation at least once.
        CHECK(automatic.err.find("speculative:") != std::string::npos);
        CHECK(always.err.find("tokens per pass") != std::string::npos);
        CHECK(plain.err.find("speculative:") == std::string::npos);
        CHECK(off.err.find("speculative:") == std::string::npos);
    }
    const std::string common = "run -m " + model + " -p 'def main():' --temp 0 -n 4";
    const auto bad = testing_support::run_cli(common + " --draft 9");
    CHECK(bad.exit_code != 0);
    CHECK(bad.err.find("--draft") != std::string::npos);
    const auto bad_mode = testing_support::run_cli(common + " --spec sometimes");
    CHECK(bad_mode.exit_code != 0);
    CHECK(bad_mode.err.find("--spec") != std::string::npos);
}
