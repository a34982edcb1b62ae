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

struct SessionOptions {
    uint64_t n_ctx = 4096;
    uint32_t prefill_chunk = 256;
    std::function<bool()> abort;                          // true: cancel (polled between layers)
    std::function<bool(uint64_t, uint64_t)> progress;     // (done, total) per prefill chunk; false: cancel
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

    void reset();
    int64_t position() const { return state_.position; }
    uint64_t n_ctx() const { return opts_.n_ctx; }
    SessionBytes bytes() const { return session_bytes(model_.config(), opts_.n_ctx); }
    const Model& model() const { return model_; }
    // Checkpoint bytes read by this session's calls (weight_traffic.h).
    const WeightTraffic& traffic() const { return traffic_; }

private:
    void check_token(int32_t token, const char* what) const;
    void run_chunk(const int32_t* tokens, int64_t n);
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
};

}  // namespace dsv4
