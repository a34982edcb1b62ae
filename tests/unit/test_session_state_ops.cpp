// Session state operations: snapshots (buffer and file), forks and
// truncation reproduce exactly the logits of a session that got there
// directly; damaged or foreign snapshots are refused and change nothing.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <string>

#include "golden_check.h"
#include "session_helpers.h"
#include "test_support.h"

using namespace session_testing;

namespace {

bool contains(const char* haystack, const std::string& needle) {
    return std::string(haystack).find(needle) != std::string::npos;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::vector<float> mtp_of(dsv4_session* s, int32_t next, int V) {
    std::vector<float> out(static_cast<size_t>(V));
    REQUIRE(dsv4_session_mtp_logits(s, next, out.data(), out.size()) == DSV4_STATUS_OK);
    return out;
}

// Feeds tokens[from, to) one decode step at a time to both sessions and
// requires bitwise-identical logits and MTP logits after every step.
void same_from_here(dsv4_session* a, dsv4_session* b, const std::vector<int32_t>& tokens, size_t from, size_t to,
                    int V) {
    REQUIRE(dsv4_session_position(a) == dsv4_session_position(b));
    if (dsv4_session_position(a) > 0) CHECK(bitwise_equal(logits_of(a, V), logits_of(b, V)));
    for (size_t i = from; i < to; ++i) {
        INFO("after token index " << i);
        REQUIRE(dsv4_decode_step(a, tokens[i]) == DSV4_STATUS_OK);
        REQUIRE(dsv4_decode_step(b, tokens[i]) == DSV4_STATUS_OK);
        CHECK(bitwise_equal(logits_of(a, V), logits_of(b, V)));
        const int32_t next = tokens[(i + 1) % tokens.size()];
        CHECK(bitwise_equal(mtp_of(a, next, V), mtp_of(b, next, V)));
    }
}

std::vector<uint8_t> snapshot_of(dsv4_session* s) {
    size_t size = 0;
    REQUIRE(dsv4_session_snapshot_size(s, &size) == DSV4_STATUS_OK);
    std::vector<uint8_t> buf(size);
    size_t written = 0;
    REQUIRE(dsv4_session_snapshot(s, buf.data(), buf.size(), &written) == DSV4_STATUS_OK);
    REQUIRE(written == size);
    return buf;
}

SessionPtr fork_of(dsv4_session* s) {
    dsv4_session* f = nullptr;
    REQUIRE(dsv4_session_fork(s, &f) == DSV4_STATUS_OK);
    return SessionPtr(f);
}

void check_snapshot_and_fork(const std::string& name, const char* backend) {
    INFO(name << " on " << backend);
    auto model = open_golden_model(name, backend);
    const int V = vocab_size(model.get());
    auto tokens = golden_tokens(name);
    tokens.resize(200);

    // 150 tokens fed in uneven chunks (past the first ratio-128 block, the
    // window wrapped many times, mid ratio-4 block).
    auto a = make_session(model.get(), 512, 37);
    REQUIRE(dsv4_session_prefill(a.get(), tokens.data(), 150) == DSV4_STATUS_OK);
    const auto snap = snapshot_of(a.get());

    SECTION("restore into a fresh session (larger n_ctx) continues bit for bit") {
        auto b = make_session(model.get(), 1000);
        REQUIRE(dsv4_decode_step(b.get(), 7) == DSV4_STATUS_OK);  // state to be replaced
        REQUIRE(dsv4_session_restore(b.get(), snap.data(), snap.size()) == DSV4_STATUS_OK);
        CHECK(dsv4_session_position(b.get()) == 150);
        dsv4_session_info info;
        info.struct_size = sizeof info;
        REQUIRE(dsv4_session_get_info(b.get(), &info) == DSV4_STATUS_OK);
        CHECK(info.n_ctx == 1000);  // the session keeps its own parameters
        CHECK(bitwise_equal(mtp_of(a.get(), tokens[150], V), mtp_of(b.get(), tokens[150], V)));
        same_from_here(a.get(), b.get(), tokens, 150, 200, V);
        // A snapshot of the restored session is byte-identical to the original's.
        auto c = make_session(model.get(), 512);
        REQUIRE(dsv4_session_restore(c.get(), snap.data(), snap.size()) == DSV4_STATUS_OK);
        CHECK(snapshot_of(c.get()) == snap);
    }
    SECTION("restore into the same session after it moved on") {
        const auto want = logits_of(a.get(), V);
        REQUIRE(dsv4_session_prefill(a.get(), tokens.data() + 150, 30) == DSV4_STATUS_OK);
        const auto at180 = logits_of(a.get(), V);
        REQUIRE(dsv4_session_restore(a.get(), snap.data(), snap.size()) == DSV4_STATUS_OK);
        CHECK(dsv4_session_position(a.get()) == 150);
        CHECK(bitwise_equal(logits_of(a.get(), V), want));
        REQUIRE(dsv4_session_prefill(a.get(), tokens.data() + 150, 30) == DSV4_STATUS_OK);
        CHECK(bitwise_equal(logits_of(a.get(), V), at180));
    }
    SECTION("fork: an independent copy that continues bit for bit") {
        auto f = fork_of(a.get());
        CHECK(dsv4_session_position(f.get()) == 150);
        CHECK(snapshot_of(f.get()) == snap);
        // Branch: the fork goes elsewhere first, then comes back; the original is untouched.
        std::vector<int32_t> other(40, 3);
        REQUIRE(dsv4_session_prefill(f.get(), other.data(), other.size()) == DSV4_STATUS_OK);
        CHECK(snapshot_of(a.get()) == snap);
        REQUIRE(dsv4_session_truncate(f.get(), 150) == DSV4_STATUS_OK);
        same_from_here(a.get(), f.get(), tokens, 150, 180, V);
        auto g = fork_of(a.get());
        same_from_here(a.get(), g.get(), tokens, 180, 200, V);
    }
    SECTION("an empty session round-trips") {
        auto e = make_session(model.get(), 64);
        const auto empty = snapshot_of(e.get());
        auto b = make_session(model.get(), 64);
        REQUIRE(dsv4_session_prefill(b.get(), tokens.data(), 10) == DSV4_STATUS_OK);
        REQUIRE(dsv4_session_restore(b.get(), empty.data(), empty.size()) == DSV4_STATUS_OK);
        CHECK(dsv4_session_position(b.get()) == 0);
        CHECK(dsv4_session_logits(b.get()) == nullptr);
        auto f = fork_of(e.get());
        same_from_here(e.get(), b.get(), tokens, 0, 5, V);
        auto fresh = make_session(model.get(), 64);
        same_from_here(f.get(), fresh.get(), tokens, 0, 5, V);
    }
}

}  // namespace

TEST_CASE("snapshot/restore and fork reproduce identical logits (tiny-s4, reference)", "[session][snapshot]") {
    check_snapshot_and_fork("tiny-s4", "reference");
}

TEST_CASE("snapshot/restore and fork reproduce identical logits (tiny-pro-s4, cpu)", "[session][snapshot]") {
    check_snapshot_and_fork("tiny-pro-s4", "cpu");
}

namespace {

// Truncates a session that reached `top` to every position in [lo, top) and
// checks that the next tokens give the logits of a session that was fed only
// that prefix: the cheap kind (within the slack) against a session fed the
// same way (decode steps), the re-running kind against a one-call prefill of
// the prefix (what the re-run does). On the reference backend, which gives
// the same numbers for any batching, both kinds are also checked against
// the decode-built session.
void check_truncate(const std::string& name, const char* backend, size_t lo, size_t top) {
    INFO(name << " on " << backend);
    auto model = open_golden_model(name, backend);
    const int V = vocab_size(model.get());
    const auto tokens = golden_tokens(name);
    const size_t after = 5;
    const bool batch_invariant = std::string(backend) == "reference";

    auto master = make_session(model.get(), 512);
    for (size_t i = 0; i < top; ++i) REQUIRE(dsv4_decode_step(master.get(), tokens[i]) == DSV4_STATUS_OK);
    auto direct = make_session(model.get(), 512);  // walks up to each target by decode steps
    for (size_t i = 0; i < lo; ++i) REQUIRE(dsv4_decode_step(direct.get(), tokens[i]) == DSV4_STATUS_OK);

    for (size_t t = lo; t < top; ++t) {
        INFO("truncated from " << top << " to " << t);
        const bool cheap = top - t <= DSV4_SESSION_TRUNCATE_SLACK;
        auto cut = fork_of(master.get());
        REQUIRE(dsv4_session_truncate(cut.get(), t) == DSV4_STATUS_OK);
        REQUIRE(dsv4_session_position(cut.get()) == t);
        if (cheap || batch_invariant) {
            auto want = fork_of(direct.get());
            same_from_here(cut.get(), want.get(), tokens, t, t + after, V);
        }
        if (!cheap) {
            auto cut2 = fork_of(master.get());
            REQUIRE(dsv4_session_truncate(cut2.get(), t) == DSV4_STATUS_OK);
            auto want = make_session(model.get(), 512);
            REQUIRE(dsv4_session_prefill(want.get(), tokens.data(), t) == DSV4_STATUS_OK);
            same_from_here(cut2.get(), want.get(), tokens, t, t + after, V);
        }
        REQUIRE(dsv4_decode_step(direct.get(), tokens[t]) == DSV4_STATUS_OK);
    }
}

}  // namespace

// tiny-s4: window 16 (rings of 48 rows wrap at 96 and 144), ratios 4 and 128.
// From 150, positions 118..149 are the cheap kind, 110..117 re-run.
TEST_CASE("truncate to every position across block ends and the ring wrap (tiny-s4, reference)",
          "[session][truncate]") {
    check_truncate("tiny-s4", "reference", 110, 150);
}

TEST_CASE("truncate to every position across block ends and the ring wrap (tiny-pro-s4, cpu)",
          "[session][truncate]") {
    check_truncate("tiny-pro-s4", "cpu", 110, 150);
}

TEST_CASE("truncate: repeated cheap truncation, position 0, bounds and cancellation", "[session][truncate]") {
    auto model = open_golden_model("tiny-s4");
    const int V = vocab_size(model.get());
    const auto tokens = golden_tokens("tiny-s4");
    auto s = make_session(model.get(), 256);
    REQUIRE(dsv4_session_prefill(s.get(), tokens.data(), 60) == DSV4_STATUS_OK);
    const auto at60 = logits_of(s.get(), V);

    // Draft rejection over and over: go back 1..3 tokens, feed other tokens,
    // go back again; the furthest position reached bounds the cheap kind.
    for (int round = 0; round < 20; ++round) {
        const uint64_t p = dsv4_session_position(s.get());
        std::vector<int32_t> junk(size_t(1 + round % 4), int32_t(round + 2));
        REQUIRE(dsv4_session_prefill(s.get(), junk.data(), junk.size()) == DSV4_STATUS_OK);
        REQUIRE(dsv4_session_truncate(s.get(), p - uint64_t(round % 3)) == DSV4_STATUS_OK);
        const uint64_t q = dsv4_session_position(s.get());
        if (q < 60) REQUIRE(dsv4_session_prefill(s.get(), tokens.data() + q, size_t(60 - q)) == DSV4_STATUS_OK);
        REQUIRE(dsv4_session_position(s.get()) == 60);
        CHECK(bitwise_equal(logits_of(s.get(), V), at60));
    }
    auto fresh = make_session(model.get(), 256);
    REQUIRE(dsv4_session_prefill(fresh.get(), tokens.data(), 60) == DSV4_STATUS_OK);
    same_from_here(s.get(), fresh.get(), tokens, 60, 66, V);

    CHECK(dsv4_session_truncate(s.get(), 67) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(contains(dsv4_last_error(), "66"));
    CHECK(dsv4_session_truncate(nullptr, 0) == DSV4_STATUS_INVALID_ARGUMENT);
    REQUIRE(dsv4_session_truncate(s.get(), 66) == DSV4_STATUS_OK);  // no-op
    CHECK(dsv4_session_position(s.get()) == 66);
    REQUIRE(dsv4_session_truncate(s.get(), 0) == DSV4_STATUS_OK);
    CHECK(dsv4_session_position(s.get()) == 0);
    CHECK(dsv4_session_logits(s.get()) == nullptr);
    auto empty = make_session(model.get(), 256);
    same_from_here(s.get(), empty.get(), tokens, 0, 4, V);
}

namespace {
struct AbortFlag {
    bool on = false;
};
bool abort_when_on(void* ud) { return static_cast<AbortFlag*>(ud)->on; }
}  // namespace

TEST_CASE("a cancelled deep truncation leaves the session as it was", "[session][truncate]") {
    auto model = open_golden_model("tiny-s4");
    const int V = vocab_size(model.get());
    const auto tokens = golden_tokens("tiny-s4");
    AbortFlag flag;
    dsv4_session_params p;
    dsv4_session_params_init(&p);
    p.n_ctx = 256;
    p.abort_callback = abort_when_on;
    p.abort_user_data = &flag;
    auto s = make_session(model.get(), p);
    REQUIRE(dsv4_session_prefill(s.get(), tokens.data(), 100) == DSV4_STATUS_OK);
    const auto before = snapshot_of(s.get());
    flag.on = true;
    CHECK(dsv4_session_truncate(s.get(), 20) == DSV4_STATUS_CANCELLED);
    flag.on = false;
    CHECK(dsv4_session_position(s.get()) == 100);
    CHECK(snapshot_of(s.get()) == before);
    auto plain = make_session(model.get(), 256);
    REQUIRE(dsv4_session_prefill(plain.get(), tokens.data(), 100) == DSV4_STATUS_OK);
    same_from_here(s.get(), plain.get(), tokens, 100, 103, V);
}

TEST_CASE("damaged, foreign and oversized snapshots are refused and change nothing", "[session][snapshot]") {
    auto model = open_golden_model("tiny-s4");
    const int V = vocab_size(model.get());
    const auto tokens = golden_tokens("tiny-s4");
    auto src = make_session(model.get(), 256);
    REQUIRE(dsv4_session_prefill(src.get(), tokens.data(), 70) == DSV4_STATUS_OK);
    const auto snap = snapshot_of(src.get());

    auto victim = make_session(model.get(), 256);
    REQUIRE(dsv4_session_prefill(victim.get(), tokens.data() + 100, 33) == DSV4_STATUS_OK);
    const auto victim_snap = snapshot_of(victim.get());
    auto unchanged = [&] {
        CHECK(dsv4_session_position(victim.get()) == 33);
        CHECK(snapshot_of(victim.get()) == victim_snap);
    };
    auto refused = [&](const std::vector<uint8_t>& bytes, dsv4_status want, const std::string& why) {
        INFO("expecting: " << why);
        CHECK(dsv4_session_restore(victim.get(), bytes.data(), bytes.size()) == want);
        CHECK(contains(dsv4_last_error(), why));
        unchanged();
    };

    SECTION("a flipped byte anywhere") {
        // The header fields are checked by name; past them the checksum catches it.
        for (size_t at : {size_t(0), size_t(8), size_t(20), size_t(100), snap.size() / 3, snap.size() / 2,
                          snap.size() - 40, snap.size() - 1}) {
            INFO("byte " << at << " of " << snap.size());
            auto bad = snap;
            bad[at] ^= 0x10;
            CHECK(dsv4_session_restore(victim.get(), bad.data(), bad.size()) == DSV4_STATUS_FORMAT);
            unchanged();
        }
        auto bad = snap;
        bad[snap.size() / 2] ^= 1;
        refused(bad, DSV4_STATUS_FORMAT, "checksum");
        bad = snap;
        bad[0] = 'X';
        refused(bad, DSV4_STATUS_FORMAT, "not a dsv4 session snapshot");
        bad = snap;
        bad[8] = 99;  // the format version
        refused(bad, DSV4_STATUS_FORMAT, "format version 99");
    }
    SECTION("truncated, or with bytes appended") {
        for (size_t len : {size_t(0), size_t(10), size_t(79), size_t(80), snap.size() / 2, snap.size() - 1}) {
            INFO("first " << len << " bytes");
            const std::vector<uint8_t> cut(snap.begin(), snap.begin() + long(len));
            CHECK(dsv4_session_restore(victim.get(), len ? cut.data() : snap.data(), len) == DSV4_STATUS_FORMAT);
            CHECK(contains(dsv4_last_error(), "truncated"));
            unchanged();
        }
        auto longer = snap;
        longer.push_back(0);
        refused(longer, DSV4_STATUS_FORMAT, "extra bytes");
    }
    SECTION("another model") {
        auto other = open_golden_model("tiny-pro-s4");
        auto o = make_session(other.get(), 256);
        const auto other_tokens = golden_tokens("tiny-pro-s4");
        REQUIRE(dsv4_session_prefill(o.get(), other_tokens.data(), 70) == DSV4_STATUS_OK);
        refused(snapshot_of(o.get()), DSV4_STATUS_FORMAT, "another model");
        // And the other way round.
        CHECK(dsv4_session_restore(o.get(), snap.data(), snap.size()) == DSV4_STATUS_FORMAT);
        // The same checkpoint opened again (another run) is the same model.
        auto again = open_golden_model("tiny-s4", "cpu");
        auto s2 = make_session(again.get(), 256);
        REQUIRE(dsv4_session_restore(s2.get(), snap.data(), snap.size()) == DSV4_STATUS_OK);
        CHECK(dsv4_session_position(s2.get()) == 70);
    }
    SECTION("more tokens than the session's n_ctx") {
        auto small = make_session(model.get(), 64);
        CHECK(dsv4_session_restore(small.get(), snap.data(), snap.size()) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(contains(dsv4_last_error(), "n_ctx"));
        CHECK(dsv4_session_position(small.get()) == 0);
    }
    SECTION("argument checks") {
        size_t size = 0;
        CHECK(dsv4_session_snapshot_size(nullptr, &size) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(dsv4_session_snapshot_size(src.get(), nullptr) == DSV4_STATUS_INVALID_ARGUMENT);
        std::vector<uint8_t> small(snap.size() - 1);
        size_t written = 1234;
        CHECK(dsv4_session_snapshot(src.get(), small.data(), small.size(), &written) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(contains(dsv4_last_error(), std::to_string(snap.size())));
        CHECK(dsv4_session_snapshot(src.get(), nullptr, 10, &written) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(dsv4_session_restore(victim.get(), nullptr, 10) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(dsv4_session_restore(nullptr, snap.data(), snap.size()) == DSV4_STATUS_INVALID_ARGUMENT);
        dsv4_session* f = reinterpret_cast<dsv4_session*>(&f);
        CHECK(dsv4_session_fork(nullptr, &f) == DSV4_STATUS_INVALID_ARGUMENT);
        CHECK(dsv4_session_fork(src.get(), nullptr) == DSV4_STATUS_INVALID_ARGUMENT);
        unchanged();
    }
    // The original still restores, and then continues as the source does.
    REQUIRE(dsv4_session_restore(victim.get(), snap.data(), snap.size()) == DSV4_STATUS_OK);
    same_from_here(src.get(), victim.get(), tokens, 70, 73, V);
}

TEST_CASE("snapshot files round-trip; missing and damaged files are refused", "[session][snapshot]") {
    testing_support::TempDir dir("snapshot");
    auto model = open_golden_model("tiny-s4");
    const int V = vocab_size(model.get());
    const auto tokens = golden_tokens("tiny-s4");
    auto a = make_session(model.get(), 300);
    REQUIRE(dsv4_session_prefill(a.get(), tokens.data(), 133) == DSV4_STATUS_OK);
    const std::string path = dir / "a.dsv4snap";
    REQUIRE(dsv4_session_snapshot_file(a.get(), path.c_str()) == DSV4_STATUS_OK);
    const std::string bytes = testing_support::read_file(path);
    CHECK(std::vector<uint8_t>(bytes.begin(), bytes.end()) == snapshot_of(a.get()));
    CHECK_FALSE(std::ifstream(path + ".tmp").good());

    auto b = make_session(model.get(), 300);
    REQUIRE(dsv4_session_restore_file(b.get(), path.c_str()) == DSV4_STATUS_OK);
    same_from_here(a.get(), b.get(), tokens, 133, 140, V);

    CHECK(dsv4_session_restore_file(b.get(), (dir / "missing").c_str()) == DSV4_STATUS_IO);
    CHECK(contains(dsv4_last_error(), "missing"));
    testing_support::write_file(dir / "short", bytes.substr(0, bytes.size() - 7));
    CHECK(dsv4_session_restore_file(b.get(), (dir / "short").c_str()) == DSV4_STATUS_FORMAT);
    CHECK(contains(dsv4_last_error(), "truncated"));
    std::string flipped = bytes;
    flipped[bytes.size() / 2] = char(flipped[bytes.size() / 2] ^ 4);
    testing_support::write_file(dir / "flipped", flipped);
    CHECK(dsv4_session_restore_file(b.get(), (dir / "flipped").c_str()) == DSV4_STATUS_FORMAT);
    CHECK(contains(dsv4_last_error(), "checksum"));
    CHECK(dsv4_session_position(b.get()) == 140);
    CHECK(dsv4_session_snapshot_file(a.get(), (dir / "no/such/dir/x").c_str()) == DSV4_STATUS_IO);
}

TEST_CASE("snapshot size follows the position, not n_ctx", "[session][snapshot]") {
    auto model = open_golden_model("tiny-s4");
    const auto tokens = golden_tokens("tiny-s4");
    auto small = make_session(model.get(), 200);
    auto big = make_session(model.get(), 100000);
    REQUIRE(dsv4_session_prefill(small.get(), tokens.data(), 150) == DSV4_STATUS_OK);
    REQUIRE(dsv4_session_prefill(big.get(), tokens.data(), 150) == DSV4_STATUS_OK);
    size_t a = 0, b = 0;
    REQUIRE(dsv4_session_snapshot_size(small.get(), &a) == DSV4_STATUS_OK);
    REQUIRE(dsv4_session_snapshot_size(big.get(), &b) == DSV4_STATUS_OK);
    CHECK(a == b);
    // Header 80 + CRC 4 + tokens 600 + logits 4096 + 33 streams of 512 floats
    // + rings (48 rows of 321 bytes for 4 main layers and MTP) + compressor
    // rows (160 rows of a and g for ratio 128, 40 for each ratio-4 compressor)
    // + entries: under a megabyte for this tiny model.
    CHECK(a < 1024 * 1024);
    CHECK(a > 80 + 4 + 600 + 4096 + 33 * 2048);
}

TEST_CASE("a fork keeps the model alive after dsv4_model_close", "[session][snapshot]") {
    auto model = open_golden_model("tiny-s4");
    const int V = vocab_size(model.get());
    const auto tokens = golden_tokens("tiny-s4");
    auto s = make_session(model.get(), 64);
    REQUIRE(dsv4_session_prefill(s.get(), tokens.data(), 10) == DSV4_STATUS_OK);
    auto f = fork_of(s.get());
    s.reset();
    dsv4_model_close(model.release());
    REQUIRE(dsv4_decode_step(f.get(), tokens[10]) == DSV4_STATUS_OK);
    CHECK(logits_of(f.get(), V).size() == size_t(V));
}
