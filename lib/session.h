// A session: one sequence's state on a shared, immutable model, fed in
// chunks. Every call validates its arguments before touching state, and a
// chunk that fails or is cancelled is rolled back, so the session always
// sits at the last complete token.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "forward/context.h"
#include "model.h"
#include "session_state.h"
#include "weight_traffic.h"

namespace dsv4 {

class ByteSink;
class ByteSource;

struct SessionOptions {
    uint64_t n_ctx = 4096;
    uint32_t prefill_chunk = 512;
    std::function<bool()> abort;                       // true: cancel (polled between layers)
    std::function<bool(uint64_t, uint64_t)> progress;  // (done, total) per prefill chunk; false: cancel
};

class Session {
public:
    Session(const Model& model, const SessionOptions& opts);

    // Feeds n >= 1 tokens after the current position. Throws dsv4::Error:
    // INVALID_ARGUMENT (bad id), CONTEXT_FULL, CANCELLED (the tokens of the
    // chunks completed before the cancel stay fed).
    void prefill(const int32_t* tokens, size_t n);
    void decode(int32_t token) { prefill(&token, 1); }

    // The logits after the last token fed; NULL before any.
    const float* logits() const { return state_.position > 0 ? logits_.data() : nullptr; }
    // MTP logits at the last position given the following token; does not
    // change the position.
    void mtp_logits(int32_t next_token, float* out);
    // Drafts up to k tokens to follow `next_token` (the token after the last
    // position, not fed yet) with the MTP block: its logits for the token
    // after next_token, then, feeding the block its own output streams and
    // the token just drafted, for the ones after that. pick(logits, i)
    // chooses draft i from its logits. Changes nothing in the session.
    std::vector<int32_t> mtp_draft(int32_t next_token, int k,
                                   const std::function<int32_t(const float* logits, int i)>& pick);
    bool has_mtp() const { return state_.has_mtp; }
    // Computes the MTP ring's keys of the positions a draft at the last
    // position reads and decoding skipped (see SessionState::mtp_keys).
    void catch_up_mtp();

    // Feeds n >= 1 tokens as one batch (each weight read once for all of
    // them) and writes the logits after each token: out[i * vocab_size ...]
    // follows tokens[i]. Afterwards the session is as after prefill(tokens,
    // n). Batches longer than the prefill chunk run in chunks.
    void verify(const int32_t* tokens, size_t n, float* out);

    // Back to an earlier position (0 <= position <= the current one): the
    // session is then as if only its first `position` tokens had been fed.
    // Within kTruncateSlack tokens of the furthest position reached it moves
    // the position (the rings keep that much history) and recomputes the
    // logits from the kept final streams, or takes them from the last verify;
    // deeper, it re-runs the first `position` tokens from the token history
    // into a fresh state that replaces the current one only on success.
    void truncate(int64_t position);
    // Whether truncate(position) is the cheap kind.
    bool truncate_is_cheap(int64_t position) const;

    // A new session of the same model and options holding a copy of this
    // one's state (rings whole, tables up to their use). Weight-traffic
    // counts start at zero.
    std::unique_ptr<Session> fork() const;

    // Every token fed so far, in order.
    const std::vector<int32_t>& tokens() const { return state_.tokens; }

    void reset();
    int64_t position() const { return state_.position; }
    uint64_t n_ctx() const { return opts_.n_ctx; }
    SessionBytes bytes() const { return session_bytes(model_.config(), opts_.n_ctx); }
    const Model& model() const { return model_; }
    // Checkpoint bytes read by this session's calls (weight_traffic.h).
    const WeightTraffic& traffic() const { return traffic_; }

    // Snapshots (session_snapshot.cpp): the serialized size, writing, and
    // reading (all or nothing: on any error the session is unchanged).
    uint64_t snapshot_size() const;
    void write_snapshot(ByteSink& out) const;
    void read_snapshot(ByteSource& in);

private:
    void check_token(int32_t token, const char* what) const;
    void check_feed(const int32_t* tokens, size_t n) const;
    // Runs one chunk on `st` (rolled back on failure); h_out, when given,
    // receives the final streams of every token [n, hc, D].
    void run_chunk(SessionState& st, const int32_t* tokens, int64_t n, std::vector<float>* h_out = nullptr);
    void run_chunk(const int32_t* tokens, int64_t n) { run_chunk(state_, tokens, n); }
    void poll_abort() const;
    void refresh_logits();

    const Model& model_;
    SessionOptions opts_;
    WeightTraffic traffic_;
    CountingBackend counting_;  // the model's backend, counting weight bytes into traffic_
    ForwardContext ctx_;
    SessionState state_;
    std::vector<float> logits_;
    int64_t logits_position_ = 0;  // the position logits_ belong to
    // The last verify's logits rows (at most kTruncateSlack + 1): row i
    // belongs to position recent_p0_ + 1 + i. Cleared by anything else that
    // feeds tokens.
    std::vector<float> recent_logits_;
    int64_t recent_p0_ = 0, recent_rows_ = 0;
};

}  // namespace dsv4
