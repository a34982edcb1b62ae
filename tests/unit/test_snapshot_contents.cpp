// Snapshots are files a user may be handed, so their contents are untrusted
// even when the checksum holds: a snapshot whose header and token ids are
// valid but whose state bytes are anything at all (NaN and infinite floats,
// NaN and extreme block scales, random codes) must restore byte for byte and
// leave a session that every call can use without crashing. Decoding from
// such a state gives whatever numbers it gives (NaN logits included: the
// reference computes the same), and the calls that cannot use them fail with
// a status. Run under ASan/UBSan (the DSV4_SANITIZE build) this is where a
// read outside a table or an undefined conversion would show.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <vector>

#include "session_helpers.h"
#include "session_snapshot.h"

using namespace session_testing;

namespace {

// The snapshot header (session_snapshot.h) is 80 bytes; the token ids follow.
constexpr size_t kHeaderBytes = 80;

std::vector<uint8_t> snapshot_of(dsv4_session* s) {
    size_t size = 0;
    REQUIRE(dsv4_session_snapshot_size(s, &size) == DSV4_STATUS_OK);
    std::vector<uint8_t> buf(size);
    REQUIRE(dsv4_session_snapshot(s, buf.data(), buf.size(), nullptr) == DSV4_STATUS_OK);
    return buf;
}

// Rewrites the trailing CRC-32 so the bytes pass the checksum.
void reseal(std::vector<uint8_t>& snap) {
    const uint32_t crc = dsv4::crc32_update(0, snap.data(), snap.size() - 4);
    std::memcpy(snap.data() + snap.size() - 4, &crc, 4);
}

// Every call a user might make next; each must return a status, and a
// successful one must leave the session consistent for the next.
void exercise(dsv4_session* s, const std::vector<int32_t>& tokens, int V) {
    std::vector<float> logits(static_cast<size_t>(V));
    REQUIRE(dsv4_session_copy_logits(s, logits.data(), logits.size()) == DSV4_STATUS_OK);
    dsv4_sampler* sampler = nullptr;
    REQUIRE(dsv4_sampler_create(nullptr, &sampler) == DSV4_STATUS_OK);
    int32_t next = -1;
    const dsv4_status sampled = dsv4_sampler_sample(sampler, logits.data(), logits.size(), &next);
    // A NaN logit is refused by name; otherwise the pick is a valid id.
    CHECK((sampled == DSV4_STATUS_INVALID_ARGUMENT || (sampled == DSV4_STATUS_OK && next >= 0 && next < V)));
    dsv4_sampler_free(sampler);

    std::vector<float> mtp(static_cast<size_t>(V));
    CHECK(dsv4_session_mtp_logits(s, tokens[1], mtp.data(), mtp.size()) == DSV4_STATUS_OK);
    const uint64_t p = dsv4_session_position(s);
    for (int i = 0; i < 6; ++i) REQUIRE(dsv4_decode_step(s, tokens[static_cast<size_t>(i)]) == DSV4_STATUS_OK);
    std::vector<float> verified(static_cast<size_t>(3 * V));
    REQUIRE(dsv4_session_verify(s, tokens.data() + 6, 3, verified.data(), verified.size()) == DSV4_STATUS_OK);
    // Back into the restored history (cheap) and past the ring (re-run).
    REQUIRE(dsv4_session_truncate(s, p + 2) == DSV4_STATUS_OK);
    REQUIRE(dsv4_session_truncate(s, p / 2) == DSV4_STATUS_OK);
    REQUIRE(dsv4_decode_step(s, tokens[0]) == DSV4_STATUS_OK);
}

}  // namespace

TEST_CASE("checksummed snapshots with arbitrary state bytes restore faithfully and stay usable",
          "[session][snapshot]") {
    const char* backend = GENERATE("cpu", "reference");
    INFO("backend " << backend);
    auto model = open_golden_model("tiny-s4", backend);
    const int V = vocab_size(model.get());
    const auto tokens = golden_tokens("tiny-s4");
    auto src = make_session(model.get(), 256);
    // 70 tokens: past ratio-4 block ends and the window's wrap.
    REQUIRE(dsv4_session_prefill(src.get(), tokens.data(), 70) == DSV4_STATUS_OK);
    const auto snap = snapshot_of(src.get());
    const size_t state_begin = kHeaderBytes + 70 * sizeof(int32_t), state_end = snap.size() - 4;
    REQUIRE(state_begin < state_end);

    std::mt19937_64 rng(20261207);
    auto crafted = [&](int kind) {
        auto s = snap;
        switch (kind) {
            case 0:  // every state byte random
                for (size_t i = state_begin; i < state_end; ++i) s[i] = uint8_t(rng());
                break;
            case 1:  // every byte 0xFF: NaN floats, NaN codes, scale byte 255 (NaN)
                std::fill(s.begin() + long(state_begin), s.begin() + long(state_end), uint8_t(0xFF));
                break;
            case 2: {  // every aligned word +infinity, then -infinity
                const float inf = (rng() & 1) ? 1.0f / 0.0f : -1.0f / 0.0f;
                for (size_t i = state_begin; i + 4 <= state_end; i += 4) std::memcpy(&s[i], &inf, 4);
                break;
            }
            case 3:  // every byte 0: zero floats, zero codes, scale byte 0 (2^-127)
                std::fill(s.begin() + long(state_begin), s.begin() + long(state_end), uint8_t(0));
                break;
            case 4:  // every byte 0x7F / 0xFE / 0x01: huge floats, NaN codes, extreme scales
            {
                const uint8_t b = std::vector<uint8_t>{0x7F, 0xFE, 0x01}[rng() % 3];
                std::fill(s.begin() + long(state_begin), s.begin() + long(state_end), b);
                break;
            }
            default:  // a few random spans
                for (int k = 0; k < 8; ++k) {
                    const size_t at = state_begin + rng() % (state_end - state_begin);
                    const size_t n = std::min<size_t>(1 + rng() % 256, state_end - at);
                    for (size_t i = 0; i < n; ++i) s[at + i] = uint8_t(rng());
                }
        }
        reseal(s);
        return s;
    };

    for (int round = 0; round < 16; ++round) {
        const int kind = round < 6 ? round : 5;
        INFO("round " << round << ", kind " << kind);
        const auto bytes = crafted(kind);
        auto s = make_session(model.get(), 256);
        REQUIRE(dsv4_session_restore(s.get(), bytes.data(), bytes.size()) == DSV4_STATUS_OK);
        CHECK(dsv4_session_position(s.get()) == 70);
        // The state is what the file says, byte for byte.
        CHECK(snapshot_of(s.get()) == bytes);
        exercise(s.get(), tokens, V);
    }
}

TEST_CASE("checksummed snapshots with token ids out of range are refused", "[session][snapshot]") {
    auto model = open_golden_model("tiny-s4", "cpu");
    const int V = vocab_size(model.get());
    const auto tokens = golden_tokens("tiny-s4");
    auto src = make_session(model.get(), 256);
    REQUIRE(dsv4_session_prefill(src.get(), tokens.data(), 20) == DSV4_STATUS_OK);
    const auto snap = snapshot_of(src.get());
    for (int32_t bad : {-1, V, 0x7FFFFFFF, int32_t(0x80000000)}) {
        INFO("id " << bad);
        auto s = snap;
        std::memcpy(&s[kHeaderBytes + 7 * sizeof(int32_t)], &bad, 4);
        reseal(s);
        auto victim = make_session(model.get(), 256);
        CHECK(dsv4_session_restore(victim.get(), s.data(), s.size()) == DSV4_STATUS_FORMAT);
        CHECK(std::string(dsv4_last_error()).find("token 7") != std::string::npos);
        CHECK(dsv4_session_position(victim.get()) == 0);
    }
}
