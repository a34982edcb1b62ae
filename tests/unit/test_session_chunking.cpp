// Chunked prefill, one-shot prefill and token-by-token decode are the same
// computation: prompts that end mid-block and cross the window and the
// ratio-4 / ratio-128 block boundaries give the same logits either way.
#include <catch2/catch.hpp>

#include "golden_check.h"
#include "session_helpers.h"

using namespace session_testing;

namespace {

void check_same(const std::vector<float>& a, const std::vector<float>& b) {
    RowDiff d = compare_rows(a.data(), b.data(), a.size());
    CHECK(d.max_abs <= 1e-5);
    CHECK(d.same_argmax);
}

void check_chunking(const std::string& name, const char* backend) {
    INFO(name << " on " << backend);
    auto model = open_golden_model(name, backend);
    const int V = vocab_size(model.get());
    auto tokens = golden_tokens(name);
    // 301 tokens: past 2 x 128 (two ratio-128 entries), many windows, and
    // ending one token into a ratio-4 block.
    tokens.resize(301);
    const size_t N = tokens.size();
    const std::vector<size_t> checkpoints = {1, 3, 16, 17, 33, 127, 128, 129, 200, 255, 256, 257, N};

    // Token by token: the logits at every checkpoint, and the MTP logits.
    auto step = make_session(model.get());
    std::vector<std::vector<float>> want;
    std::vector<std::vector<float>> want_mtp;
    size_t next_cp = 0;
    for (size_t i = 0; i < N; ++i) {
        REQUIRE(dsv4_decode_step(step.get(), tokens[i]) == DSV4_STATUS_OK);
        if (i + 1 == checkpoints[next_cp]) {
            want.push_back(logits_of(step.get(), V));
            std::vector<float> mtp(size_t(V), 0.0f);
            REQUIRE(dsv4_session_mtp_logits(step.get(), tokens[(i + 1) % N], mtp.data(), size_t(V)) == DSV4_STATUS_OK);
            want_mtp.push_back(mtp);
            ++next_cp;
        }
    }
    REQUIRE(dsv4_session_position(step.get()) == N);

    {
        INFO("one call per checkpoint, prefill chunks of 7 (never aligned to a block)");
        auto s = make_session(model.get(), 0, 7);
        size_t done = 0;
        for (size_t k = 0; k < checkpoints.size(); ++k) {
            INFO("at " << checkpoints[k] << " tokens");
            REQUIRE(dsv4_session_prefill(s.get(), tokens.data() + done, checkpoints[k] - done) == DSV4_STATUS_OK);
            done = checkpoints[k];
            check_same(logits_of(s.get(), V), want[k]);
            std::vector<float> mtp(static_cast<size_t>(V));
            REQUIRE(dsv4_session_mtp_logits(s.get(), tokens[done % N], mtp.data(), size_t(V)) == DSV4_STATUS_OK);
            check_same(mtp, want_mtp[k]);
        }
    }
    {
        INFO("one-shot prefill of prefixes with the default chunk");
        for (size_t k : {size_t(3), size_t(9), size_t(12)}) {
            INFO("prefix of " << checkpoints[k] << " tokens");
            auto s = make_session(model.get());
            REQUIRE(dsv4_session_prefill(s.get(), tokens.data(), checkpoints[k]) == DSV4_STATUS_OK);
            check_same(logits_of(s.get(), V), want[k]);
        }
    }
    {
        INFO("the whole prompt in one call with various chunk sizes");
        for (uint32_t chunk : {4u, 128u, 300u}) {
            INFO("prefill_chunk " << chunk);
            auto s = make_session(model.get(), 0, chunk);
            REQUIRE(dsv4_session_prefill(s.get(), tokens.data(), N) == DSV4_STATUS_OK);
            check_same(logits_of(s.get(), V), want.back());
        }
    }
}

}  // namespace

TEST_CASE("chunked prefill == one-shot prefill == decode (tiny-s4, reference)", "[session][chunking]") {
    check_chunking("tiny-s4", "reference");
}

TEST_CASE("chunked prefill == one-shot prefill == decode (tiny-pro-s4, cpu)", "[session][chunking]") {
    check_chunking("tiny-pro-s4", "cpu");
}
