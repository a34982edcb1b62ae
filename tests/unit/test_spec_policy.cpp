// SpecPolicy: the generator's choice between speculative and plain passes from their measured
// seconds per decided token, driven here with made-up timings.
#include <catch2/catch.hpp>

#include <functional>

#include "generate/spec_policy.h"

using dsv4::generate::SpecPolicy;

namespace {

struct Tally {
    int spec = 0, plain = 0;
};

// Runs `passes` passes through the policy; cost(speculative, pass) gives a pass's seconds and
// tokens(pass) the tokens a speculative pass decides (a plain one decides 1).
Tally drive(SpecPolicy& policy, int passes, const std::function<double(bool, int)>& cost,
            const std::function<uint64_t(int)>& tokens, int from = 0) {
    Tally t;
    for (int i = from; i < from + passes; ++i) {
        const bool spec = policy.speculate();
        (spec ? t.spec : t.plain)++;
        policy.record(spec, cost(spec, i), spec ? tokens(i) : 1);
    }
    return t;
}

}  // namespace

TEST_CASE("spec policy: tries both kinds, then keeps the faster", "[generate][speculative][policy]") {
    SECTION("speculation wins: 1.8 tokens per pass at 1.4x a plain step") {
        SpecPolicy p;
        CHECK(p.speculate());  // the first pass tries speculation
        const Tally t = drive(
            p, 1000, [](bool spec, int) { return spec ? 1.4e-3 : 1e-3; }, [](int i) { return i % 5 ? 2 : 1; });
        INFO(t.spec << " speculative, " << t.plain << " plain");
        CHECK(t.plain >= SpecPolicy::kProbePasses);  // plain decoding was tried
        CHECK(t.spec >= 950);
        CHECK(p.cost(true) == Approx(1.4e-3 / 1.8).epsilon(0.1));
        CHECK(p.cost(false) == Approx(1e-3));
    }
    SECTION("plain wins: drafts never accepted, a pass at 1.9x a step") {
        SpecPolicy p;
        const Tally t = drive(
            p, 1000, [](bool spec, int) { return spec ? 1.9e-3 : 1e-3; }, [](int) { return 1; });
        INFO(t.spec << " speculative, " << t.plain << " plain");
        CHECK(t.spec >= SpecPolicy::kProbePasses);
        // Trials of speculation after 16, 32, ... 256 plain passes: a few percent of the passes.
        CHECK(t.spec <= 40);
    }
    SECTION("a first pass that carries one-off work does not decide") {
        SpecPolicy p;
        // The first pass after every switch of kind is slow (warm-up); the others show
        // speculation ahead.
        int last = -1;
        const Tally t = drive(
            p, 200,
            [&](bool spec, int) {
                const bool switched = last != int(spec);
                last = int(spec);
                return switched ? 50e-3 : (spec ? 1.2e-3 : 1e-3);
            },
            [](int) { return 2; });
        INFO(t.spec << " speculative, " << t.plain << " plain");
        CHECK(t.spec > 150);
    }
}

TEST_CASE("spec policy: follows a change in the text", "[generate][speculative][policy]") {
    SpecPolicy p;
    // Drafts accepted for the first 600 passes, never after: a speculative pass costs 1.5 steps.
    auto cost = [](bool spec, int) { return spec ? 1.5e-3 : 1e-3; };
    const Tally before = drive(p, 600, cost, [](int) { return 2; });
    CHECK(before.spec > 540);
    CHECK(p.speculate());
    // Within one interval (at most kLastInterval passes) and a trial it has switched.
    const Tally switching = drive(
        p, int(SpecPolicy::kLastInterval) + 2 * SpecPolicy::kProbePasses, cost, [](int) { return 1; }, 600);
    CHECK_FALSE(p.speculate());
    const Tally after = drive(
        p, 600, cost, [](int) { return 1; }, 2000);
    INFO(before.spec << "/" << before.plain << ", " << switching.spec << "/" << switching.plain << ", " << after.spec
                     << "/" << after.plain);
    CHECK(after.plain > 560);
}

TEST_CASE("spec policy: cancelled passes and bad clocks are ignored", "[generate][speculative][policy]") {
    SpecPolicy p;
    p.record(true, 1.0, 0);   // no token decided
    p.record(true, -1.0, 2);  // a clock that went backwards
    CHECK(p.cost(true) == 0.0);
    CHECK(p.speculate());
    // A pass of the other kind than asked for (no room for a draft) counts towards its own cost
    // but does not end the trial.
    for (int i = 0; i < SpecPolicy::kProbePasses; ++i) p.record(false, 1e-3, 1);
    CHECK(p.speculate());
    CHECK(p.cost(false) == Approx(1e-3));
}
