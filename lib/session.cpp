#include "session.h"

#include <algorithm>

#include "error.h"
#include "forward/block.h"
#include "forward/head.h"
#include "forward/mtp.h"

namespace dsv4 {

namespace {

// Defaults filled in and limits checked before anything is allocated.
SessionOptions checked(const ModelConfig& c, SessionOptions o) {
    if (o.n_ctx == 0) o.n_ctx = 4096;
    // 512 tokens a chunk: each expert then gets about 2 x as many tokens
    // per product as at 256, so where its weights are decoded for the f64
    // GEMM (FP4 without the integer route, FP8 experts) they serve twice the
    // products (flash-shape, 512-token prefill, 2 threads, alternating:
    // 14.87-15.90 s against 15.46-16.00; thirteenth session). With the FP4
    // experts in integers (AVX512-VNNI) the two sizes measured the same
    // (12.43-12.54 s against 12.30-12.68; docs/PERFORMANCE.md).
    if (o.prefill_chunk == 0) o.prefill_chunk = 512;
    if (o.n_ctx > uint64_t(c.max_position_embeddings))
        fail(DSV4_STATUS_INVALID_ARGUMENT, "n_ctx " + std::to_string(o.n_ctx) +
                                               " exceeds the model's context limit of " +
                                               std::to_string(c.max_position_embeddings) + " tokens");
    return o;
}

// Books the weight traffic of one prefill / verify call when it ends, also
// when a chunk fails or is cancelled part way.
class CallTraffic {
public:
    CallTraffic(WeightTraffic& t, const int64_t& position)
        : t_(t), position_(position), bytes0_(t.bytes), position0_(position) {}
    CallTraffic(const CallTraffic&) = delete;
    CallTraffic& operator=(const CallTraffic&) = delete;
    ~CallTraffic() {
        t_.last_call_bytes = t_.bytes - bytes0_;
        t_.last_call_tokens = uint64_t(position_ - position0_);
        t_.tokens += uint64_t(position_ - position0_);
    }

private:
    WeightTraffic& t_;
    const int64_t& position_;
    uint64_t bytes0_;
    int64_t position0_;
};

}  // namespace

Session::Session(const Model& model, const SessionOptions& opts)
    : model_(model),
      opts_(checked(model.config(), opts)),
      counting_(model.backend(), traffic_),
      ctx_(model.config(), model.weights(), counting_),
      state_(model.config(), opts_.n_ctx),
      logits_(size_t(model.config().vocab_size)) {}

void Session::check_token(int32_t token, const char* what) const {
    if (token < 0 || token >= model_.config().vocab_size)
        fail(DSV4_STATUS_INVALID_ARGUMENT, std::string(what) + " " + std::to_string(token) + " is out of range [0, " +
                                               std::to_string(model_.config().vocab_size) + ")");
}

void Session::poll_abort() const {
    if (opts_.abort && opts_.abort()) fail(DSV4_STATUS_CANCELLED, "cancelled by the abort callback");
}

void Session::check_feed(const int32_t* tokens, size_t n) const {
    if (n == 0) fail(DSV4_STATUS_INVALID_ARGUMENT, "no tokens to feed (n_tokens is 0)");
    for (size_t i = 0; i < n; ++i) check_token(tokens[i], ("token id at index " + std::to_string(i) + ":").c_str());
    if (uint64_t(state_.position) + n > opts_.n_ctx)
        fail(DSV4_STATUS_CONTEXT_FULL, "feeding " + std::to_string(n) + " token(s) at position " +
                                           std::to_string(state_.position) + " exceeds the context of " +
                                           std::to_string(opts_.n_ctx) + " tokens");
}

void Session::prefill(const int32_t* tokens, size_t n) {
    check_feed(tokens, n);
    recent_rows_ = 0;
    const CallTraffic account(traffic_, state_.position);
    try {
        for (size_t done = 0; done < n;) {
            const int64_t m = int64_t(std::min<size_t>(opts_.prefill_chunk, n - done));
            run_chunk(tokens + done, m);
            done += size_t(m);
            if (opts_.progress && !opts_.progress(done, n))
                if (done < n) fail(DSV4_STATUS_CANCELLED, "cancelled by the progress callback");
        }
    } catch (...) {
        refresh_logits();
        throw;
    }
    refresh_logits();
}

void Session::run_chunk(SessionState& st, const int32_t* tokens, int64_t n, std::vector<float>* h_out) {
    const ModelConfig& c = model_.config();
    const int hc = c.hc_mult;
    const int64_t D = c.hidden_size, hw = hc * D, p0 = st.position;
    // Rollback: a chunk of at most kTruncateSlack tokens only overwrites ring
    // slots no position within the slack needs, so going back is setting the
    // position back (as truncate does); a longer chunk copies the rings and
    // carries first.
    const bool small = n <= kTruncateSlack;
    SessionState::Snapshot snap;
    if (!small) snap = st.snapshot();
    st.written = std::max(st.written, p0 + n);
    try {
        std::vector<float> h(size_t(n * hw));
        embed_tokens(ctx_, tokens, n, h.data());
        traffic_.bytes += uint64_t(n) * uint64_t(D) * 2;  // BF16 embedding rows
        for (int l = 0; l < c.n_layers; ++l) {
            poll_abort();
            block_forward(ctx_, model_.weights().layers[size_t(l)], st.layers[size_t(l)], p0, n, tokens, h.data());
        }
        // The MTP block's ring is not kept up here: catch_up_mtp fills it
        // from the streams when a draft needs it.
        for (int64_t i = std::max<int64_t>(0, n - st.stream_slots()); i < n; ++i)
            std::copy_n(h.data() + i * hw, size_t(hw), st.streams(p0 + i));
        st.tokens.insert(st.tokens.end(), tokens, tokens + n);
        st.position = p0 + n;
        if (h_out) *h_out = std::move(h);
    } catch (...) {
        if (small) {
            st.position = p0;
            st.tokens.resize(size_t(p0));
        } else {
            st.restore(std::move(snap));
        }
        throw;
    }
}

void Session::verify(const int32_t* tokens, size_t n, float* out) {
    check_feed(tokens, n);
    recent_rows_ = 0;
    const ModelConfig& c = model_.config();
    const size_t V = size_t(c.vocab_size);
    const int64_t p_start = state_.position;
    const CallTraffic account(traffic_, state_.position);
    std::vector<float> h;
    try {
        for (size_t done = 0; done < n;) {
            const int64_t m = int64_t(std::min<size_t>(opts_.prefill_chunk, n - done));
            run_chunk(state_, tokens + done, m, &h);
            lm_head(ctx_, model_.weights().hc_head, model_.weights().norm, h.data(), m, out + done * V);
            done += size_t(m);
        }
    } catch (...) {
        refresh_logits();
        throw;
    }
    std::copy_n(out + (n - 1) * V, V, logits_.begin());
    logits_position_ = state_.position;
    // Keep the last rows for a truncation back into this batch.
    const int64_t keep = std::min<int64_t>(int64_t(n), kTruncateSlack + 1);
    recent_logits_.assign(out + (n - size_t(keep)) * V, out + n * V);
    recent_p0_ = p_start + int64_t(n) - keep;
    recent_rows_ = keep;
}

bool Session::truncate_is_cheap(int64_t position) const {
    return position >= 0 && position <= state_.position && state_.written - position <= kTruncateSlack;
}

void Session::truncate(int64_t position) {
    if (position < 0 || position > state_.position)
        fail(DSV4_STATUS_INVALID_ARGUMENT, "truncate: position " + std::to_string(position) +
                                               " is not between 0 and the current position " +
                                               std::to_string(state_.position));
    if (position == state_.position) return;
    if (position == 0) {
        reset();
        return;
    }
    if (truncate_is_cheap(position)) {
        // Rows, carries and streams of the positions kept are all still in
        // the rings; entries of completed blocks are unchanged.
        state_.position = position;
        state_.tokens.resize(size_t(position));
        state_.mtp_keys = std::min(state_.mtp_keys, position - 1);
    } else {
        // Re-run the kept tokens into a fresh state, chunk by chunk as a
        // prefill would, and swap it in only once complete.
        SessionState fresh(model_.config(), opts_.n_ctx);
        const std::vector<int32_t> kept(state_.tokens.begin(), state_.tokens.begin() + position);
        for (int64_t done = 0; done < position;) {
            const int64_t m = std::min<int64_t>(opts_.prefill_chunk, position - done);
            run_chunk(fresh, kept.data() + done, m);
            done += m;
        }
        state_ = std::move(fresh);
    }
    if (position > recent_p0_ && position <= recent_p0_ + recent_rows_) {
        const size_t V = logits_.size();
        std::copy_n(recent_logits_.begin() + size_t(position - recent_p0_ - 1) * V, V, logits_.begin());
        logits_position_ = position;
    } else {
        logits_position_ = -1;
        refresh_logits();
    }
}

std::unique_ptr<Session> Session::fork() const {
    auto s = std::make_unique<Session>(model_, opts_);
    s->state_.copy_from(state_);
    s->logits_ = logits_;
    s->logits_position_ = logits_position_;
    s->recent_logits_ = recent_logits_;
    s->recent_p0_ = recent_p0_;
    s->recent_rows_ = recent_rows_;
    return s;
}

void Session::refresh_logits() {
    if (state_.position == 0 || logits_position_ == state_.position) return;
    lm_head(ctx_, model_.weights().hc_head, model_.weights().norm, state_.streams(state_.position - 1), logits_.data());
    logits_position_ = state_.position;
}

void Session::catch_up_mtp() {
    SessionState& st = state_;
    const int64_t q = st.position - 1;  // the last position: its key needs the next token
    if (!st.has_mtp || q <= st.mtp_keys) return;
    // Only the keys a draft at q reads: the window before it.
    const int64_t from = std::max(st.mtp_keys, q - st.mtp.window + 1), m = q - from;
    if (m > 0) {
        const int64_t hw = st.stream_width(), D = model_.config().hidden_size;
        std::vector<float> in(size_t(m * hw));
        for (int64_t i = 0; i < m; ++i) std::copy_n(st.streams(from + i), hw, in.data() + i * hw);
        traffic_.bytes += uint64_t(m) * uint64_t(D) * 2;  // the MTP block's embedding rows
        mtp_store_keys(ctx_, model_.weights().mtp[0], st.mtp, from, m, in.data(), st.tokens.data() + from + 1);
    }
    st.mtp_keys = q;
}

void Session::mtp_logits(int32_t next_token, float* out) {
    check_token(next_token, "next_token");
    if (!state_.has_mtp) fail(DSV4_STATUS_UNSUPPORTED, "the model has no MTP block");
    if (state_.position == 0) fail(DSV4_STATUS_INVALID_ARGUMENT, "no token fed yet: MTP logits need a position");
    catch_up_mtp();
    const ModelConfig& c = model_.config();
    const int64_t hw = int64_t(c.hc_mult) * c.hidden_size;
    // A scratch copy of the MTP ring: the real one gets this position only
    // once the next token is actually fed.
    LayerState scratch = state_.mtp;
    std::vector<float> h_out(static_cast<size_t>(hw));
    mtp_forward(ctx_, model_.weights().mtp[0], scratch, state_.position - 1, 1, state_.streams(state_.position - 1),
                &next_token, h_out.data());
    dsv4::mtp_logits(ctx_, model_.weights().mtp[0], h_out.data(), out);
}

std::vector<int32_t> Session::mtp_draft(int32_t next_token, int k,
                                        const std::function<int32_t(const float*, int)>& pick) {
    check_token(next_token, "next_token");
    if (!state_.has_mtp) fail(DSV4_STATUS_UNSUPPORTED, "the model has no MTP block");
    if (state_.position == 0) fail(DSV4_STATUS_INVALID_ARGUMENT, "no token fed yet: MTP drafts need a position");
    catch_up_mtp();
    const ModelConfig& c = model_.config();
    const int64_t hw = int64_t(c.hc_mult) * c.hidden_size;
    // A scratch copy of the MTP ring, extended by one position per draft.
    LayerState scratch = state_.mtp;
    const float* last = state_.streams(state_.position - 1);
    std::vector<float> h(last, last + hw), h_out(static_cast<size_t>(hw)), logits(static_cast<size_t>(c.vocab_size));
    std::vector<int32_t> drafts;
    int32_t token = next_token;
    for (int i = 0; i < k; ++i) {
        traffic_.bytes += uint64_t(c.hidden_size) * 2;  // the MTP block's embedding row
        mtp_forward(ctx_, model_.weights().mtp[0], scratch, state_.position - 1 + i, 1, h.data(), &token, h_out.data());
        dsv4::mtp_logits(ctx_, model_.weights().mtp[0], h_out.data(), logits.data());
        token = pick(logits.data(), i);
        check_token(token, "draft token");
        drafts.push_back(token);
        h.swap(h_out);
    }
    return drafts;
}

void Session::reset() {
    state_.clear();
    logits_position_ = 0;
    recent_rows_ = 0;
}

}  // namespace dsv4
