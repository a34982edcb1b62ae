// Multi-token verification: one batched pass over k new tokens gives the
// logits after every one of them, as k decode steps would, reading each
// weight once; with truncation it is the verify step of speculative decoding.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "golden_check.h"
#include "session_helpers.h"

using namespace session_testing;

namespace {

bool contains(const char* haystack, const std::string& needle) {
    return std::string(haystack).find(needle) != std::string::npos;
}

void check_verify(const std::string& name, const char* backend) {
    INFO(name << " on " << backend);
    auto model = open_golden_model(name, backend);
    const int V = vocab_size(model.get());
    const auto tokens = golden_tokens(name);
    const bool bitwise = std::string(backend) == "reference";  // the same numbers for any batching

    // Starting points mid ratio-4 block, before a ratio-128 block end, and
    // at the start of the window ring; batch sizes up to past a prefill
    // chunk (12), on the cpu backend also past its GEMM threshold (16).
    for (size_t p : {size_t(1), size_t(61), size_t(125)}) {
        for (size_t k : {size_t(2), size_t(3), size_t(5), size_t(17), size_t(30)}) {
            INFO("verify of " << k << " tokens at position " << p);
            dsv4_session_params params;
            dsv4_session_params_init(&params);
            params.n_ctx = 256;
            params.prefill_chunk = 12;
            auto step = make_session(model.get(), params);
            auto batch = make_session(model.get(), params);
            REQUIRE(dsv4_session_prefill(step.get(), tokens.data(), p) == DSV4_STATUS_OK);
            REQUIRE(dsv4_session_prefill(batch.get(), tokens.data(), p) == DSV4_STATUS_OK);
            std::vector<float> rows(k * size_t(V));
            REQUIRE(dsv4_session_verify(batch.get(), tokens.data() + p, k, rows.data(), rows.size()) == DSV4_STATUS_OK);
            REQUIRE(dsv4_session_position(batch.get()) == p + k);
            for (size_t i = 0; i < k; ++i) {
                INFO("row " << i);
                REQUIRE(dsv4_decode_step(step.get(), tokens[p + i]) == DSV4_STATUS_OK);
                const auto want = logits_of(step.get(), V);
                const RowDiff d = compare_rows(rows.data() + i * size_t(V), want.data(), size_t(V));
                CHECK(d.max_abs <= 1e-5);
                CHECK(d.same_argmax);
                if (bitwise) CHECK(d.max_abs == 0.0);
            }
            // Afterwards the session is where k decode steps leave it.
            const auto last = logits_of(batch.get(), V);
            CHECK(std::memcmp(last.data(), rows.data() + (k - 1) * size_t(V), size_t(V) * sizeof(float)) == 0);
            std::vector<float> m1(static_cast<size_t>(V)), m2(static_cast<size_t>(V));
            REQUIRE(dsv4_session_mtp_logits(step.get(), tokens[p + k], m1.data(), m1.size()) == DSV4_STATUS_OK);
            REQUIRE(dsv4_session_mtp_logits(batch.get(), tokens[p + k], m2.data(), m2.size()) == DSV4_STATUS_OK);
            const RowDiff dm = compare_rows(m1.data(), m2.data(), size_t(V));
            CHECK(dm.max_abs <= 1e-5);
            if (bitwise) CHECK(dm.max_abs == 0.0);
            REQUIRE(dsv4_decode_step(step.get(), 11) == DSV4_STATUS_OK);
            REQUIRE(dsv4_decode_step(batch.get(), 11) == DSV4_STATUS_OK);
            const RowDiff dn = compare_rows(logits_of(step.get(), V).data(), logits_of(batch.get(), V).data(), size_t(V));
            CHECK(dn.max_abs <= 1e-5);
            CHECK(dn.same_argmax);
        }
    }
}

}  // namespace

TEST_CASE("verify of k tokens == k decode steps (tiny-s4, reference)", "[session][verify]") {
    check_verify("tiny-s4", "reference");
}

TEST_CASE("verify of k tokens == k decode steps (tiny-pro-s4, cpu)", "[session][verify]") {
    check_verify("tiny-pro-s4", "cpu");
}

TEST_CASE("verify then truncate: the draft-rejection step", "[session][verify]") {
    auto model = open_golden_model("tiny-s4", "cpu");
    const int V = vocab_size(model.get());
    const auto tokens = golden_tokens("tiny-s4");
    auto s = make_session(model.get(), 256);
    auto plain = make_session(model.get(), 256);
    REQUIRE(dsv4_session_prefill(s.get(), tokens.data(), 40) == DSV4_STATUS_OK);
    REQUIRE(dsv4_session_prefill(plain.get(), tokens.data(), 40) == DSV4_STATUS_OK);
    size_t p = 40;
    // Rounds of: verify 4 tokens of which the first j are right, keep them.
    for (int round = 0; round < 12; ++round) {
        const size_t j = size_t(round % 4);  // tokens kept after the first
        std::vector<int32_t> batch(tokens.begin() + long(p), tokens.begin() + long(p) + 4);
        for (size_t i = j + 1; i < 4; ++i) batch[i] = int32_t((batch[i] + 17) % V);  // rejected drafts
        std::vector<float> rows(4 * size_t(V));
        REQUIRE(dsv4_session_verify(s.get(), batch.data(), 4, rows.data(), rows.size()) == DSV4_STATUS_OK);
        REQUIRE(dsv4_session_truncate(s.get(), p + j + 1) == DSV4_STATUS_OK);
        for (size_t i = 0; i <= j; ++i) REQUIRE(dsv4_decode_step(plain.get(), tokens[p + i]) == DSV4_STATUS_OK);
        p += j + 1;
        INFO("round " << round << " at " << p);
        // The logits after truncation are the kept row's, and those of plain decoding.
        const auto got = logits_of(s.get(), V);
        CHECK(std::memcmp(got.data(), rows.data() + j * size_t(V), size_t(V) * sizeof(float)) == 0);
        CHECK(std::memcmp(got.data(), logits_of(plain.get(), V).data(), size_t(V) * sizeof(float)) == 0);
    }
    std::vector<float> m1(static_cast<size_t>(V)), m2(static_cast<size_t>(V));
    REQUIRE(dsv4_session_mtp_logits(s.get(), tokens[p], m1.data(), m1.size()) == DSV4_STATUS_OK);
    REQUIRE(dsv4_session_mtp_logits(plain.get(), tokens[p], m2.data(), m2.size()) == DSV4_STATUS_OK);
    CHECK(std::memcmp(m1.data(), m2.data(), m1.size() * sizeof(float)) == 0);
}

TEST_CASE("verify reads each weight once for the whole batch", "[session][verify]") {
    auto model = open_golden_model("tiny-s4", "cpu");
    const int V = vocab_size(model.get());
    const auto tokens = golden_tokens("tiny-s4");
    auto s = make_session(model.get(), 256);
    REQUIRE(dsv4_session_prefill(s.get(), tokens.data(), 50) == DSV4_STATUS_OK);
    dsv4_session_stats st;
    st.struct_size = sizeof st;
    uint64_t decode_bytes = 0;
    for (size_t i = 50; i < 54; ++i) {
        REQUIRE(dsv4_decode_step(s.get(), tokens[i]) == DSV4_STATUS_OK);
        REQUIRE(dsv4_session_get_stats(s.get(), &st) == DSV4_STATUS_OK);
        decode_bytes += st.last_weight_bytes;
    }
    std::vector<float> rows(4 * size_t(V));
    REQUIRE(dsv4_session_verify(s.get(), tokens.data() + 54, 4, rows.data(), rows.size()) == DSV4_STATUS_OK);
    REQUIRE(dsv4_session_get_stats(s.get(), &st) == DSV4_STATUS_OK);
    CHECK(st.last_tokens == 4);
    // Dense weights, the head and the shared expert once; routed experts as
    // chosen (at most 8 x 2 of the 8 here): well under four decode steps.
    INFO("verify " << st.last_weight_bytes << " bytes, 4 decode steps " << decode_bytes);
    CHECK(st.last_weight_bytes * 2 < decode_bytes);
}

TEST_CASE("verify checks its arguments and leaves the session unchanged on failure", "[session][verify]") {
    auto model = open_golden_model("tiny-s4");
    const int V = vocab_size(model.get());
    const auto tokens = golden_tokens("tiny-s4");
    auto s = make_session(model.get(), 16);
    REQUIRE(dsv4_session_prefill(s.get(), tokens.data(), 10) == DSV4_STATUS_OK);
    const auto before = logits_of(s.get(), V);
    std::vector<float> rows(8 * size_t(V));
    CHECK(dsv4_session_verify(s.get(), tokens.data(), 3, rows.data(), 3 * size_t(V) - 1) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(contains(dsv4_last_error(), "n_out"));
    CHECK(dsv4_session_verify(s.get(), tokens.data(), 0, rows.data(), rows.size()) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(dsv4_session_verify(s.get(), nullptr, 2, rows.data(), rows.size()) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(dsv4_session_verify(s.get(), tokens.data(), 2, nullptr, rows.size()) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(dsv4_session_verify(nullptr, tokens.data(), 2, rows.data(), rows.size()) == DSV4_STATUS_INVALID_ARGUMENT);
    const int32_t bad[2] = {1, V};
    CHECK(dsv4_session_verify(s.get(), bad, 2, rows.data(), rows.size()) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(dsv4_session_verify(s.get(), tokens.data(), 7, rows.data(), rows.size()) == DSV4_STATUS_CONTEXT_FULL);
    CHECK(dsv4_session_position(s.get()) == 10);
    CHECK(std::memcmp(before.data(), logits_of(s.get(), V).data(), before.size() * sizeof(float)) == 0);
    REQUIRE(dsv4_session_verify(s.get(), tokens.data() + 10, 6, rows.data(), rows.size()) == DSV4_STATUS_OK);
    CHECK(dsv4_session_position(s.get()) == 16);
}
