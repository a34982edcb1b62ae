// Sampler: exact choices for greedy, penalties, bias, top-k/top-p/min-p edges, the seeded random
// sequence (checked against an independent Python run of xoshiro256**/splitmix64), and stop strings
// split across streamed pieces.
#include <catch2/catch.hpp>

#include <cmath>
#include <algorithm>
#include <functional>
#include <random>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "dsv4/dsv4.h"
#include "error.h"
#include "text/rank.h"
#include "text/rng.h"
#include "text/sampler.h"
#include "text/stop_matcher.h"

using dsv4::text::Sampler;
using dsv4::text::SamplerParams;
using dsv4::text::StopMatcher;

namespace {

SamplerParams greedy() {
    SamplerParams p;
    p.temperature = 0;
    return p;
}

int32_t pick(SamplerParams p, const std::vector<float>& logits, const std::vector<int32_t>& history = {}) {
    Sampler s(std::move(p));
    for (int32_t t : history) s.accept(t);
    return s.sample(logits.data(), logits.size());
}

dsv4_status status_of(const std::function<void()>& f, std::string* msg = nullptr) {
    try {
        f();
    } catch (const dsv4::Error& e) {
        if (msg) *msg = e.what();
        return e.status();
    }
    return DSV4_STATUS_OK;
}

// Probabilities 1/2, 1/4, 1/4.
const std::vector<float> kHalfQuarterQuarter = {0.0f, float(-std::log(2.0)), float(-std::log(2.0))};

}  // namespace

TEST_CASE("PRNG is splitmix64-seeded xoshiro256**", "[sampler][rng]") {
    uint64_t state = 0;
    CHECK(dsv4::text::splitmix64(state) == 0xE220A8397B1DCDAFull);  // the published first output for seed 0
    dsv4::text::Xoshiro256 r(42);
    CHECK(r.next() == 0x15780b2e0c2ec716ull);
    CHECK(r.next() == 0x6104d9866d113a7eull);
    CHECK(r.next() == 0xae17533239e499a1ull);
}

TEST_CASE("greedy takes the highest logit, the lower id on ties", "[sampler]") {
    CHECK(pick(greedy(), {1.0f, 3.0f, 3.0f, 2.0f}) == 1);
    CHECK(pick(greedy(), {-std::numeric_limits<float>::infinity(), -5.0f}) == 1);
    CHECK(pick(greedy(), {-0.0f, 0.0f}) == 0);  // -0 == +0
    // With a history and neutral penalties (the defaults) the logits are used as they are...
    CHECK(pick(greedy(), {1.0f, 3.0f, 2.0f}, {1, 1}) == 1);
    // ...and penalties or a bias still apply.
    SamplerParams rep = greedy();
    rep.repetition_penalty = 2.0f;
    CHECK(pick(rep, {1.0f, 3.0f, 2.0f}, {1}) == 2);
    SamplerParams pres = greedy();
    pres.presence_penalty = 1.5f;
    CHECK(pick(pres, {1.0f, 3.0f, 2.0f}, {1}) == 2);
    SamplerParams bias = greedy();
    bias.logit_bias = {{0, 5.0f}};
    CHECK(pick(bias, {1.0f, 3.0f, 2.0f}) == 0);
}

TEST_CASE("ranking by logit: the comparison order (logit down, id up, -0 == +0) at every size", "[sampler]") {
    std::mt19937 rng(9);
    const float inf = std::numeric_limits<float>::infinity();
    for (size_t n : {size_t(1), size_t(7), size_t(1023), size_t(1024), size_t(5000), size_t(129280)}) {
        for (int kind = 0; kind < 3; ++kind) {
            std::vector<float> logits(n);
            for (size_t i = 0; i < n; ++i) {
                if (kind == 0) logits[i] = std::normal_distribution<float>(0.0f, 4.0f)(rng);
                // Few distinct values: long runs of ties, both zeros, infinities, tiny values.
                if (kind == 1) {
                    const float pool[] = {0.0f, -0.0f, 1.5f, -1.5f, inf, -inf, 1e-40f, -1e-40f, 3e38f, -3e38f};
                    logits[i] = pool[rng() % 10];
                }
                // Values that differ only in their lowest bits.
                if (kind == 2) logits[i] = 1.0f + float(rng() % 64) * std::ldexp(1.0f, -23);
            }
            std::vector<int32_t> want(n), got(n);
            for (size_t i = 0; i < n; ++i) want[i] = got[i] = int32_t(i);
            std::sort(want.begin(), want.end(), [&](int32_t a, int32_t b) {
                return logits[size_t(a)] != logits[size_t(b)] ? logits[size_t(a)] > logits[size_t(b)] : a < b;
            });
            dsv4::text::rank_by_logit(logits.data(), got);
            INFO("n " << n << " kind " << kind);
            CHECK(got == want);
        }
    }
}

TEST_CASE("seeded sampling gives the exact expected sequence", "[sampler]") {
    SamplerParams p;
    p.seed = 42;
    Sampler s(p);
    std::vector<int32_t> got;
    for (int i = 0; i < 12; ++i) got.push_back(s.sample(kHalfQuarterQuarter.data(), 3));
    CHECK(got == std::vector<int32_t>{0, 0, 1, 2, 2, 2, 1, 2, 2, 1, 1, 0});
    // reset() restarts the same sequence.
    s.reset();
    CHECK(s.sample(kHalfQuarterQuarter.data(), 3) == 0);
    CHECK(s.sample(kHalfQuarterQuarter.data(), 3) == 0);
    CHECK(s.sample(kHalfQuarterQuarter.data(), 3) == 1);
}

TEST_CASE("same seed same tokens, another seed other tokens", "[sampler]") {
    std::vector<float> logits(1000);
    for (size_t i = 0; i < logits.size(); ++i) logits[i] = float(std::sin(double(i)) * 3.0);
    auto run = [&](uint64_t seed) {
        SamplerParams p;
        p.seed = seed;
        p.temperature = 0.8f;
        p.top_k = 200;
        p.top_p = 0.95f;
        p.repetition_penalty = 1.1f;
        Sampler s(p);
        std::vector<int32_t> out;
        for (int i = 0; i < 64; ++i) {
            out.push_back(s.sample(logits.data(), logits.size()));
            s.accept(out.back());
        }
        return out;
    };
    CHECK(run(7) == run(7));
    CHECK(run(7) != run(8));
}

TEST_CASE("repetition, presence and frequency penalties", "[sampler][penalties]") {
    auto with = [](float rep, float presence, float frequency, int32_t last_n = 64) {
        SamplerParams p = greedy();
        p.repetition_penalty = rep;
        p.presence_penalty = presence;
        p.frequency_penalty = frequency;
        p.penalty_last_n = last_n;
        return p;
    };
    // Positive logits are divided: 1.2 / 1.25 = 0.96 < 1.0, but 1.2 / 1.1 > 1.0.
    CHECK(pick(with(1.25f, 0, 0), {1.0f, 1.2f}, {1}) == 0);
    CHECK(pick(with(1.1f, 0, 0), {1.0f, 1.2f}, {1}) == 1);
    // Negative logits are multiplied: -1.0 * 2 = -2.0 < -1.5.
    CHECK(pick(with(2.0f, 0, 0), {-1.0f, -1.5f}, {0}) == 1);
    // Presence counts once, frequency per occurrence.
    CHECK(pick(with(1, 0.2f, 0), {1.0f, 1.3f}, {1, 1}) == 1);
    CHECK(pick(with(1, 0.4f, 0), {1.0f, 1.3f}, {1, 1}) == 0);
    CHECK(pick(with(1, 0, 0.1f), {1.0f, 1.3f}, {1, 1}) == 1);  // 1.3 - 0.2
    CHECK(pick(with(1, 0, 0.2f), {1.0f, 1.3f}, {1, 1}) == 0);  // 1.3 - 0.4
    // Only the last penalty_last_n tokens count; 0 turns penalties off. History: 0 then 1.
    CHECK(pick(with(1, 1.0f, 0, 1), {1.0f, 1.3f}, {0, 1}) == 0);   // only 1 penalized: 1.0 vs 0.3
    CHECK(pick(with(1, 1.0f, 0, 2), {1.0f, 1.3f}, {0, 1}) == 1);   // both: 0.0 vs 0.3
    CHECK(pick(with(1, 1.0f, 0, -1), {1.0f, 1.3f}, {0, 1}) == 1);  // all history: same
    CHECK(pick(with(1, 1.0f, 0, 0), {1.0f, 1.3f}, {0, 1}) == 1);   // off: 1.0 vs 1.3
}

TEST_CASE("logit bias", "[sampler]") {
    SamplerParams p = greedy();
    p.logit_bias = {{2, 1.0f}};
    CHECK(pick(p, {0.0f, 0.0f, 0.0f}) == 2);
    p.logit_bias = {{0, -std::numeric_limits<float>::infinity()}};
    CHECK(pick(p, {5.0f, 1.0f}) == 1);
    p.logit_bias = {{5, 1.0f}};
    std::string msg;
    CHECK(status_of([&] { pick(p, {0.0f, 1.0f}); }, &msg) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(msg.find("logit_bias[0]") != std::string::npos);
}

TEST_CASE("top-k, top-p and min-p edges", "[sampler]") {
    auto seen = [](SamplerParams p) {
        std::set<int32_t> s;
        for (uint64_t seed = 0; seed < 300; ++seed) {
            p.seed = seed;
            s.insert(pick(p, kHalfQuarterQuarter));
        }
        return s;
    };
    SamplerParams p;
    CHECK(seen(p) == std::set<int32_t>{0, 1, 2});
    p.top_k = 1;  // top-k 1 is greedy
    CHECK(seen(p) == std::set<int32_t>{0});
    p.top_k = 2;
    CHECK(seen(p) == std::set<int32_t>{0, 1});  // ties broken toward the lower id
    p = SamplerParams();
    p.top_p = 1e-6f;  // always keeps at least the best token
    CHECK(seen(p) == std::set<int32_t>{0});
    p.top_p = 0.6f;  // 0.5 < 0.6 <= 0.75
    CHECK(seen(p) == std::set<int32_t>{0, 1});
    p = SamplerParams();
    p.min_p = 0.6f;  // floor 0.3: only p = 0.5 survives
    CHECK(seen(p) == std::set<int32_t>{0});
    p.min_p = 0.4f;  // floor 0.2: all survive
    CHECK(seen(p) == std::set<int32_t>{0, 1, 2});
    p.min_p = 1.0f;
    CHECK(seen(p) == std::set<int32_t>{0});
    // A very low temperature is greedy in effect; a high one flattens.
    p = SamplerParams();
    p.temperature = 1e-3f;
    CHECK(seen(p) == std::set<int32_t>{0});
}

TEST_CASE("bad logits and parameters fail naming the problem", "[sampler]") {
    std::string msg;
    const float inf = std::numeric_limits<float>::infinity();
    CHECK(status_of([&] { pick(SamplerParams(), {-inf, -inf}); }, &msg) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(msg.find("-inf") != std::string::npos);
    CHECK(status_of([&] { pick(greedy(), {0.0f, std::nanf("")}); }, &msg) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(msg.find("logits[1]") != std::string::npos);
    CHECK(status_of([&] { pick(SamplerParams(), {}); }) == DSV4_STATUS_INVALID_ARGUMENT);
    auto bad = [&](std::function<void(SamplerParams&)> set, const char* name) {
        SamplerParams p;
        set(p);
        INFO(name);
        CHECK(status_of([&] { Sampler s(p); }, &msg) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(msg.find(name) != std::string::npos);
    };
    bad([](SamplerParams& p) { p.top_p = 0; }, "top_p");
    bad([](SamplerParams& p) { p.top_p = 1.5f; }, "top_p");
    bad([](SamplerParams& p) { p.min_p = -0.1f; }, "min_p");
    bad([](SamplerParams& p) { p.top_k = -1; }, "top_k");
    bad([](SamplerParams& p) { p.repetition_penalty = 0; }, "repetition_penalty");
    bad([](SamplerParams& p) { p.penalty_last_n = -2; }, "penalty_last_n");
    bad([](SamplerParams& p) { p.temperature = std::nanf(""); }, "temperature");
    // +inf wins outright.
    CHECK(pick(SamplerParams(), {1.0f, inf, inf}) == 1);
}

TEST_CASE("stop tokens", "[sampler]") {
    SamplerParams p;
    p.stop_tokens = {1, 7};
    Sampler s(p);
    CHECK(s.is_stop_token(7));
    CHECK_FALSE(s.is_stop_token(2));
}

TEST_CASE("stop strings split across pieces are never shown", "[sampler][stop]") {
    StopMatcher m({"</s>", "STOP", "停止"});
    auto r = m.feed("Hello <");
    CHECK(r.text == "Hello ");
    CHECK_FALSE(r.stopped);
    r = m.feed("/");
    CHECK(r.text.empty());
    r = m.feed("s");
    CHECK(r.text.empty());
    r = m.feed(">tail");
    CHECK(r.stopped);
    CHECK(r.text.empty());
    CHECK(m.feed("more").stopped);
    CHECK(m.flush().empty());

    // A held prefix that turns out not to be a stop string is released.
    r = m.feed("ab<");
    CHECK(r.text == "ab");
    r = m.feed("x");
    CHECK(r.text == "<x");
    r = m.feed("ST");
    CHECK(r.text.empty());
    r = m.feed("O");
    CHECK(r.text.empty());
    r = m.feed("P! done");
    CHECK(r.stopped);
    CHECK(r.text.empty());
    m.flush();

    // Multi-byte stop strings; flush releases held text at the end of generation.
    r = m.feed("好停");
    CHECK(r.text == "好");
    r = m.feed("下");
    CHECK(r.text == "停下");
    r = m.feed("停");
    CHECK(r.text.empty());
    CHECK(m.flush() == "停");
    // Text before a stop string in the same piece is kept.
    r = m.feed("answer</s>");
    CHECK(r.stopped);
    CHECK(r.text == "answer");
    CHECK(status_of([] { StopMatcher bad({"ok", ""}); }) == DSV4_STATUS_INVALID_ARGUMENT);
}

TEST_CASE("sampler and stop matcher C API", "[sampler][capi]") {
    dsv4_sampler_params p;
    dsv4_sampler_params_init(&p);
    CHECK(p.temperature == 1.0f);
    CHECK(p.top_p == 1.0f);
    CHECK(p.penalty_last_n == 64);
    p.seed = 42;
    const int32_t stops[] = {2};
    p.stop_tokens = stops;
    p.n_stop_tokens = 1;
    dsv4_sampler* s = nullptr;
    REQUIRE(dsv4_sampler_create(&p, &s) == DSV4_STATUS_OK);
    int32_t tok = -1;
    std::vector<int32_t> got;
    for (int i = 0; i < 4; ++i) {
        REQUIRE(dsv4_sampler_sample(s, kHalfQuarterQuarter.data(), 3, &tok) == DSV4_STATUS_OK);
        got.push_back(tok);
    }
    CHECK(got == std::vector<int32_t>{0, 0, 1, 2});
    CHECK(dsv4_sampler_is_stop_token(s, 2));
    CHECK(dsv4_sampler_accept(s, 1) == DSV4_STATUS_OK);
    dsv4_sampler_reset(s);
    REQUIRE(dsv4_sampler_sample(s, kHalfQuarterQuarter.data(), 3, &tok) == DSV4_STATUS_OK);
    CHECK(tok == 0);
    CHECK(dsv4_sampler_sample(s, nullptr, 3, &tok) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_last_error()).find("logits") != std::string::npos);
    dsv4_sampler_free(s);
    dsv4_sampler_free(nullptr);

    p.struct_size = 8;
    CHECK(dsv4_sampler_create(&p, &s) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_last_error()).find("struct_size") != std::string::npos);
    dsv4_sampler_params_init(&p);
    p.top_p = 0;
    CHECK(dsv4_sampler_create(&p, &s) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(s == nullptr);
    REQUIRE(dsv4_sampler_create(nullptr, &s) == DSV4_STATUS_OK);
    dsv4_sampler_free(s);

    const char* stop_strings[] = {"</s>"};
    dsv4_stop_matcher* m = nullptr;
    REQUIRE(dsv4_stop_matcher_create(stop_strings, 1, &m) == DSV4_STATUS_OK);
    const char* out = nullptr;
    size_t len = 0;
    bool stopped = false;
    REQUIRE(dsv4_stop_matcher_feed(m, "hi </", 5, &out, &len, &stopped) == DSV4_STATUS_OK);
    CHECK(std::string(out, len) == "hi ");
    REQUIRE(dsv4_stop_matcher_feed(m, "s>", 2, &out, &len, &stopped) == DSV4_STATUS_OK);
    CHECK(stopped);
    CHECK(len == 0);
    REQUIRE(dsv4_stop_matcher_flush(m, &out, &len) == DSV4_STATUS_OK);
    dsv4_stop_matcher_free(m);
    dsv4_stop_matcher_free(nullptr);
    const char* with_null[] = {"a", nullptr};
    CHECK(dsv4_stop_matcher_create(with_null, 2, &m) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_last_error()).find("stop_strings[1]") != std::string::npos);
}
