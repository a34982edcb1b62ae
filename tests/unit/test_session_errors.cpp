// Session errors leave the session as it was; cancellation leaves it at the
// last complete chunk, from where it continues as if never interrupted.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "golden_check.h"
#include "session_helpers.h"

using namespace session_testing;

namespace {

bool contains(const char* haystack, const std::string& needle) { return std::string(haystack).find(needle) != std::string::npos; }

struct AbortAfter {
    int polls_left = 0;  // cancel when it reaches zero; negative: never
    int polls = 0;
};
bool abort_after(void* ud) {
    auto* a = static_cast<AbortAfter*>(ud);
    ++a->polls;
    if (a->polls_left < 0) return false;
    return a->polls_left-- == 0;
}

struct ProgressLog {
    std::vector<std::pair<uint64_t, uint64_t>> calls;
    int stop_after = -1;  // return false on this call (0-based); -1: never
};
bool log_progress(uint64_t done, uint64_t total, void* ud) {
    auto* p = static_cast<ProgressLog*>(ud);
    p->calls.emplace_back(done, total);
    return int(p->calls.size()) - 1 != p->stop_after;
}

}  // namespace

TEST_CASE("session arguments are validated before any state changes", "[session][errors]") {
    auto model = open_golden_model("tiny-s4");
    const int V = vocab_size(model.get());
    auto s = make_session(model.get(), 16);
    const int32_t good[3] = {5, 6, 7};
    REQUIRE(dsv4_session_prefill(s.get(), good, 3) == DSV4_STATUS_OK);
    const auto before = logits_of(s.get(), V);

    SECTION("token ids out of range") {
        const int32_t bad[3] = {1, V, 2};
        CHECK(dsv4_session_prefill(s.get(), bad, 3) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(contains(dsv4_last_error(), std::to_string(V)));
        CHECK(dsv4_decode_step(s.get(), -1) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(dsv4_decode_step(s.get(), V) == DSV4_STATUS_INVALID_ARGUMENT);
        std::vector<float> out(static_cast<size_t>(V));
        CHECK(dsv4_session_mtp_logits(s.get(), V + 5, out.data(), out.size()) == DSV4_STATUS_INVALID_ARGUMENT);
    }
    SECTION("context full") {
        std::vector<int32_t> many(14, 3);
        CHECK(dsv4_session_prefill(s.get(), many.data(), many.size()) == DSV4_STATUS_CONTEXT_FULL);
        CHECK(contains(dsv4_last_error(), "16"));
        many.resize(13);
        REQUIRE(dsv4_session_prefill(s.get(), many.data(), many.size()) == DSV4_STATUS_OK);
        CHECK(dsv4_session_position(s.get()) == 16);
        CHECK(dsv4_decode_step(s.get(), 1) == DSV4_STATUS_CONTEXT_FULL);
        CHECK(dsv4_session_position(s.get()) == 16);
        REQUIRE(dsv4_session_reset(s.get()) == DSV4_STATUS_OK);
        REQUIRE(dsv4_session_prefill(s.get(), good, 3) == DSV4_STATUS_OK);
    }
    SECTION("NULL and undersized arguments") {
        float out[4];
        CHECK(dsv4_session_prefill(nullptr, good, 3) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(dsv4_session_prefill(s.get(), nullptr, 3) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(contains(dsv4_last_error(), "tokens"));
        CHECK(dsv4_session_prefill(s.get(), good, 0) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(dsv4_decode_step(nullptr, 1) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(dsv4_session_copy_logits(s.get(), nullptr, size_t(V)) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(dsv4_session_copy_logits(s.get(), out, 4) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(dsv4_session_mtp_logits(s.get(), 1, out, 4) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(dsv4_session_mtp_logits(s.get(), 1, nullptr, size_t(V)) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(dsv4_session_reset(nullptr) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(dsv4_session_logits(nullptr) == nullptr);
        CHECK(dsv4_session_position(nullptr) == 0);
        dsv4_session_info info;
        info.struct_size = 0;
        CHECK(dsv4_session_get_info(s.get(), &info) == DSV4_STATUS_INVALID_ARGUMENT);
        info.struct_size = sizeof info + 8;
        CHECK(dsv4_session_get_info(s.get(), &info) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(dsv4_session_get_info(s.get(), nullptr) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(dsv4_model_estimate_session_bytes(nullptr, 10, &info) == DSV4_STATUS_INVALID_ARGUMENT);
        dsv4_session_destroy(nullptr);  // accepted
    }
    CHECK(dsv4_session_position(s.get()) == 3);
    const auto after = logits_of(s.get(), V);
    CHECK(std::memcmp(before.data(), after.data(), before.size() * sizeof(float)) == 0);
}

TEST_CASE("session creation checks its parameters", "[session][errors]") {
    auto model = open_golden_model("tiny-s4");
    dsv4_session* s = reinterpret_cast<dsv4_session*>(&s);  // must be reset to NULL on failure
    dsv4_session_params p;
    dsv4_session_params_init(&p);
    CHECK(p.struct_size == sizeof p);
    CHECK(p.n_ctx == 4096);
    CHECK(dsv4_session_create(nullptr, &p, &s) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(dsv4_session_create(model.get(), &p, nullptr) == DSV4_STATUS_INVALID_ARGUMENT);
    p.struct_size = 3;
    CHECK(dsv4_session_create(model.get(), &p, &s) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(s == nullptr);
    CHECK(contains(dsv4_last_error(), "struct_size"));
    dsv4_session_params_init(&p);
    p.n_ctx = (uint64_t(1) << 20) + 1;  // tiny-s4's max_position_embeddings is 2^20
    CHECK(dsv4_session_create(model.get(), &p, &s) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(contains(dsv4_last_error(), "n_ctx"));
    REQUIRE(dsv4_session_create(model.get(), nullptr, &s) == DSV4_STATUS_OK);  // NULL params: defaults
    dsv4_session_info info;
    info.struct_size = sizeof info;
    REQUIRE(dsv4_session_get_info(s, &info) == DSV4_STATUS_OK);
    CHECK(info.n_ctx == 4096);
    CHECK(info.position == 0);
    CHECK(dsv4_session_logits(s) == nullptr);  // nothing fed yet
    float out[2048];
    CHECK(dsv4_session_copy_logits(s, out, 2048) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(dsv4_session_mtp_logits(s, 1, out, 2048) == DSV4_STATUS_INVALID_ARGUMENT);
    dsv4_session_destroy(s);
}

TEST_CASE("an abort callback cancels between layers; the session continues from the last complete chunk",
          "[session][cancel]") {
    auto model = open_golden_model("tiny-s4");
    const int V = vocab_size(model.get());
    auto tokens = golden_tokens("tiny-s4");
    tokens.resize(40);

    auto plain = make_session(model.get(), 0, 8);
    REQUIRE(dsv4_session_prefill(plain.get(), tokens.data(), tokens.size()) == DSV4_STATUS_OK);
    const auto want = logits_of(plain.get(), V);
    auto eight = make_session(model.get());
    REQUIRE(dsv4_session_prefill(eight.get(), tokens.data(), 8) == DSV4_STATUS_OK);
    const auto want8 = logits_of(eight.get(), V);

    AbortAfter ab;
    dsv4_session_params p;
    dsv4_session_params_init(&p);
    p.prefill_chunk = 8;
    p.abort_callback = abort_after;
    p.abort_user_data = &ab;
    auto s = make_session(model.get(), p);
    // Count the polls of one chunk, then cancel a few polls into the second.
    ab.polls_left = -1;
    REQUIRE(dsv4_session_prefill(s.get(), tokens.data(), 8) == DSV4_STATUS_OK);
    const int per_chunk = ab.polls;
    REQUIRE(per_chunk >= 4);  // at least once per layer
    REQUIRE(dsv4_session_reset(s.get()) == DSV4_STATUS_OK);
    ab.polls = 0;
    ab.polls_left = per_chunk + 2;
    CHECK(dsv4_session_prefill(s.get(), tokens.data(), tokens.size()) == DSV4_STATUS_CANCELLED);
    CHECK(contains(dsv4_last_error(), "cancel"));
    CHECK(dsv4_session_position(s.get()) == 8);
    RowDiff d8 = compare_rows(logits_of(s.get(), V).data(), want8.data(), size_t(V));
    CHECK(d8.max_abs == 0.0);

    ab.polls_left = -1;
    REQUIRE(dsv4_session_prefill(s.get(), tokens.data() + 8, tokens.size() - 8) == DSV4_STATUS_OK);
    CHECK(dsv4_session_position(s.get()) == tokens.size());
    RowDiff d = compare_rows(logits_of(s.get(), V).data(), want.data(), size_t(V));
    CHECK(d.max_abs == 0.0);

    // Cancelling a single decode step changes nothing.
    ab.polls_left = 1;
    CHECK(dsv4_decode_step(s.get(), 9) == DSV4_STATUS_CANCELLED);
    CHECK(dsv4_session_position(s.get()) == tokens.size());
    d = compare_rows(logits_of(s.get(), V).data(), want.data(), size_t(V));
    CHECK(d.max_abs == 0.0);
}

TEST_CASE("prefill reports progress per chunk and stops when asked", "[session][progress]") {
    auto model = open_golden_model("tiny-s4");
    auto tokens = golden_tokens("tiny-s4");
    tokens.resize(20);
    ProgressLog log;
    dsv4_session_params p;
    dsv4_session_params_init(&p);
    p.prefill_chunk = 8;
    p.progress = log_progress;
    p.progress_user_data = &log;
    auto s = make_session(model.get(), p);
    REQUIRE(dsv4_session_prefill(s.get(), tokens.data(), tokens.size()) == DSV4_STATUS_OK);
    REQUIRE(log.calls.size() == 3);
    CHECK(log.calls[0] == std::make_pair(uint64_t(8), uint64_t(20)));
    CHECK(log.calls[1] == std::make_pair(uint64_t(16), uint64_t(20)));
    CHECK(log.calls[2] == std::make_pair(uint64_t(20), uint64_t(20)));

    REQUIRE(dsv4_session_reset(s.get()) == DSV4_STATUS_OK);
    CHECK(dsv4_session_position(s.get()) == 0);
    CHECK(dsv4_session_logits(s.get()) == nullptr);
    log.calls.clear();
    log.stop_after = 0;
    CHECK(dsv4_session_prefill(s.get(), tokens.data(), tokens.size()) == DSV4_STATUS_CANCELLED);
    CHECK(dsv4_session_position(s.get()) == 8);
}
