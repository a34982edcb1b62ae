// Session functions of the C ABI.
#include <cstring>

#include "guard.h"
#include "handles.h"

using namespace dsv4;

namespace {

void fill_info(const SessionBytes& b, uint64_t n_ctx, uint64_t position, dsv4_session_info* info, const char* fn) {
    if (info->struct_size == 0 || info->struct_size > sizeof(dsv4_session_info))
        fail(DSV4_STATUS_INVALID_ARGUMENT, std::string(fn) + ": info->struct_size must be set to sizeof(dsv4_session_info)");
    const size_t caller_size = info->struct_size;
    dsv4_session_info i;
    std::memset(&i, 0, sizeof i);
    i.struct_size = caller_size;
    i.n_ctx = n_ctx;
    i.position = position;
    i.state_bytes = b.total();
    i.window_bytes = b.window;
    i.compressed_bytes = b.compressed;
    i.indexer_bytes = b.indexer;
    i.carry_bytes = b.carry;
    i.history_bytes = b.history;
    i.kv_row_bytes = b.kv_row;
    i.index_key_bytes = b.index_key;
    std::memcpy(info, &i, caller_size);
}

}  // namespace

extern "C" {

DSV4_API void dsv4_session_params_init(dsv4_session_params* p) {
    if (!p) return;
    std::memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->n_ctx = 4096;
    p->prefill_chunk = 256;
}

DSV4_API dsv4_status dsv4_session_create(dsv4_model* model, const dsv4_session_params* params,
                                         dsv4_session** out_session) {
    return guarded([&] {
        require_arg(model, "dsv4_session_create", "model");
        require_arg(out_session, "dsv4_session_create", "out_session");
        *out_session = nullptr;
        dsv4_session_params p;
        dsv4_session_params_init(&p);
        if (params) {
            if (params->struct_size < offsetof(dsv4_session_params, progress_user_data) + sizeof(void*) ||
                params->struct_size > sizeof p)
                fail(DSV4_STATUS_INVALID_ARGUMENT, "dsv4_session_create: params->struct_size " +
                                                       std::to_string(params->struct_size) +
                                                       " is not a known size (call dsv4_session_params_init)");
            std::memcpy(&p, params, params->struct_size);
        }
        SessionOptions o;
        o.n_ctx = p.n_ctx;
        o.prefill_chunk = p.prefill_chunk;
        if (p.abort_callback) {
            auto fn = p.abort_callback;
            void* ud = p.abort_user_data;
            o.abort = [fn, ud] { return fn(ud); };
        }
        if (p.progress) {
            auto fn = p.progress;
            void* ud = p.progress_user_data;
            o.progress = [fn, ud](uint64_t done, uint64_t total) { return fn(done, total, ud); };
        }
        auto h = std::make_unique<dsv4_session>();
        h->model = model->model;
        h->session = std::make_unique<Session>(*model->model, o);
        *out_session = h.release();
    });
}

DSV4_API void dsv4_session_destroy(dsv4_session* session) { delete session; }

DSV4_API dsv4_status dsv4_session_get_info(const dsv4_session* session, dsv4_session_info* info) {
    return guarded([&] {
        require_arg(session, "dsv4_session_get_info", "session");
        require_arg(info, "dsv4_session_get_info", "info");
        const Session& s = *session->session;
        fill_info(s.bytes(), s.n_ctx(), uint64_t(s.position()), info, "dsv4_session_get_info");
    });
}

DSV4_API dsv4_status dsv4_model_estimate_session_bytes(const dsv4_model* model, uint64_t n_ctx,
                                                       dsv4_session_info* info) {
    return guarded([&] {
        require_arg(model, "dsv4_model_estimate_session_bytes", "model");
        require_arg(info, "dsv4_model_estimate_session_bytes", "info");
        const ModelConfig& c = model->model->config();
        if (n_ctx == 0) n_ctx = 4096;
        if (n_ctx > uint64_t(c.max_position_embeddings))
            fail(DSV4_STATUS_INVALID_ARGUMENT, "dsv4_model_estimate_session_bytes: n_ctx " + std::to_string(n_ctx) +
                                                   " exceeds the model's context limit of " +
                                                   std::to_string(c.max_position_embeddings));
        fill_info(session_bytes(c, n_ctx), n_ctx, 0, info, "dsv4_model_estimate_session_bytes");
    });
}

DSV4_API dsv4_status dsv4_session_prefill(dsv4_session* session, const int32_t* tokens, size_t n_tokens) {
    return guarded([&] {
        require_arg(session, "dsv4_session_prefill", "session");
        require_arg(tokens, "dsv4_session_prefill", "tokens");
        session->session->prefill(tokens, n_tokens);
    });
}

DSV4_API dsv4_status dsv4_decode_step(dsv4_session* session, int32_t token) {
    return guarded([&] {
        require_arg(session, "dsv4_decode_step", "session");
        session->session->decode(token);
    });
}

DSV4_API const float* dsv4_session_logits(const dsv4_session* session) {
    return session ? session->session->logits() : nullptr;
}

DSV4_API dsv4_status dsv4_session_copy_logits(const dsv4_session* session, float* out, size_t n) {
    return guarded([&] {
        require_arg(session, "dsv4_session_copy_logits", "session");
        require_arg(out, "dsv4_session_copy_logits", "out");
        const Session& s = *session->session;
        const size_t V = size_t(s.model().config().vocab_size);
        if (n < V)
            fail(DSV4_STATUS_INVALID_ARGUMENT, "dsv4_session_copy_logits: n = " + std::to_string(n) +
                                                   " is less than vocab_size " + std::to_string(V));
        const float* l = s.logits();
        if (!l) fail(DSV4_STATUS_INVALID_ARGUMENT, "dsv4_session_copy_logits: no token has been fed yet");
        std::memcpy(out, l, V * sizeof(float));
    });
}

DSV4_API uint64_t dsv4_session_position(const dsv4_session* session) {
    return session ? uint64_t(session->session->position()) : 0;
}

DSV4_API dsv4_status dsv4_session_reset(dsv4_session* session) {
    return guarded([&] {
        require_arg(session, "dsv4_session_reset", "session");
        session->session->reset();
    });
}

DSV4_API dsv4_status dsv4_session_mtp_logits(dsv4_session* session, int32_t next_token, float* out, size_t n) {
    return guarded([&] {
        require_arg(session, "dsv4_session_mtp_logits", "session");
        require_arg(out, "dsv4_session_mtp_logits", "out");
        Session& s = *session->session;
        const size_t V = size_t(s.model().config().vocab_size);
        if (n < V)
            fail(DSV4_STATUS_INVALID_ARGUMENT, "dsv4_session_mtp_logits: n = " + std::to_string(n) +
                                                   " is less than vocab_size " + std::to_string(V));
        s.mtp_logits(next_token, out);
    });
}

}  // extern "C"
