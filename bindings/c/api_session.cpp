// Session functions of the C ABI.
#include <cstdio>
#include <cstring>

#include "guard.h"
#include "handles.h"
#include "session_snapshot.h"

using namespace dsv4;

namespace {

void fill_info(const SessionBytes& b, uint64_t n_ctx, uint64_t position, dsv4_session_info* info, const char* fn) {
    const size_t caller_size = out_struct_size(info, fn, "info", "dsv4_session_info");
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

struct File {
    std::FILE* f = nullptr;
    ~File() {
        if (f) std::fclose(f);
    }
};

}  // namespace

extern "C" {

DSV4_API void dsv4_session_params_init(dsv4_session_params* p) {
    if (!p) return;
    std::memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->n_ctx = 4096;
    p->prefill_chunk = 512;
}

DSV4_API dsv4_status dsv4_session_create(dsv4_model* model, const dsv4_session_params* params,
                                         dsv4_session** out_session) {
    return guarded([&] {
        require_arg(model, "dsv4_session_create", "model");
        require_arg(out_session, "dsv4_session_create", "out_session");
        *out_session = nullptr;
        dsv4_session_params p;
        dsv4_session_params_init(&p);
        copy_params(params, offsetof(dsv4_session_params, progress_user_data) + sizeof(void*), p, "dsv4_session_create",
                    "dsv4_session_params_init");
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

DSV4_API void dsv4_session_destroy(dsv4_session* session) {
    delete session;
}

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
            fail(DSV4_STATUS_INVALID_ARGUMENT,
                 "dsv4_session_mtp_logits: n = " + std::to_string(n) + " is less than vocab_size " + std::to_string(V));
        s.mtp_logits(next_token, out);
    });
}

DSV4_API dsv4_status dsv4_session_snapshot_size(const dsv4_session* session, size_t* out_bytes) {
    return guarded([&] {
        require_arg(session, "dsv4_session_snapshot_size", "session");
        require_arg(out_bytes, "dsv4_session_snapshot_size", "out_bytes");
        *out_bytes = size_t(session->session->snapshot_size());
    });
}

DSV4_API dsv4_status dsv4_session_snapshot(const dsv4_session* session, void* buf, size_t cap, size_t* out_written) {
    return guarded([&] {
        require_arg(session, "dsv4_session_snapshot", "session");
        require_arg(buf, "dsv4_session_snapshot", "buf");
        const Session& s = *session->session;
        const uint64_t need = s.snapshot_size();
        if (cap < need)
            fail(DSV4_STATUS_INVALID_ARGUMENT, "dsv4_session_snapshot: cap = " + std::to_string(cap) +
                                                   " bytes is less than the snapshot's " + std::to_string(need));
        BufferSink sink(buf, cap);
        s.write_snapshot(sink);
        if (out_written) *out_written = size_t(sink.bytes());
    });
}

DSV4_API dsv4_status dsv4_session_snapshot_file(const dsv4_session* session, const char* path) {
    return guarded([&] {
        require_arg(session, "dsv4_session_snapshot_file", "session");
        require_arg(path, "dsv4_session_snapshot_file", "path");
        const std::string final_path = path, tmp = final_path + ".tmp";
        std::FILE* f = std::fopen(tmp.c_str(), "wb");
        if (!f) fail(DSV4_STATUS_IO, "cannot create session snapshot '" + tmp + "'");
        try {
            FileSink sink(f, tmp);
            session->session->write_snapshot(sink);
        } catch (...) {
            std::fclose(f);
            std::remove(tmp.c_str());
            throw;
        }
        if (std::fclose(f) != 0) {
            std::remove(tmp.c_str());
            fail(DSV4_STATUS_IO, "cannot write session snapshot '" + tmp + "'");
        }
        if (std::rename(tmp.c_str(), final_path.c_str()) != 0) {
            std::remove(tmp.c_str());
            fail(DSV4_STATUS_IO, "cannot rename '" + tmp + "' to '" + final_path + "'");
        }
    });
}

DSV4_API dsv4_status dsv4_session_restore(dsv4_session* session, const void* buf, size_t len) {
    return guarded([&] {
        require_arg(session, "dsv4_session_restore", "session");
        require_arg(buf, "dsv4_session_restore", "buf");
        BufferSource src(buf, len);
        session->session->read_snapshot(src);
    });
}

DSV4_API dsv4_status dsv4_session_restore_file(dsv4_session* session, const char* path) {
    return guarded([&] {
        require_arg(session, "dsv4_session_restore_file", "session");
        require_arg(path, "dsv4_session_restore_file", "path");
        File f;
        f.f = std::fopen(path, "rb");
        if (!f.f) fail(DSV4_STATUS_IO, "cannot open session snapshot '" + std::string(path) + "'");
        if (std::fseek(f.f, 0, SEEK_END) != 0) fail(DSV4_STATUS_IO, "cannot seek in '" + std::string(path) + "'");
        const long size = std::ftell(f.f);
        if (size < 0 || std::fseek(f.f, 0, SEEK_SET) != 0)
            fail(DSV4_STATUS_IO, "cannot read the size of '" + std::string(path) + "'");
        FileSource src(f.f, uint64_t(size), path);
        session->session->read_snapshot(src);
    });
}

DSV4_API dsv4_status dsv4_session_fork(const dsv4_session* session, dsv4_session** out_session) {
    return guarded([&] {
        require_arg(session, "dsv4_session_fork", "session");
        require_arg(out_session, "dsv4_session_fork", "out_session");
        *out_session = nullptr;
        auto h = std::make_unique<dsv4_session>();
        h->model = session->model;  // the fork keeps the model alive too
        h->session = session->session->fork();
        *out_session = h.release();
    });
}

DSV4_API dsv4_status dsv4_session_truncate(dsv4_session* session, uint64_t position) {
    return guarded([&] {
        require_arg(session, "dsv4_session_truncate", "session");
        Session& s = *session->session;
        if (position > uint64_t(s.position()))
            fail(DSV4_STATUS_INVALID_ARGUMENT, "dsv4_session_truncate: position " + std::to_string(position) +
                                                   " is past the current position " + std::to_string(s.position()));
        s.truncate(int64_t(position));
    });
}

DSV4_API dsv4_status dsv4_session_verify(dsv4_session* session, const int32_t* tokens, size_t n_tokens, float* out,
                                         size_t n_out) {
    return guarded([&] {
        require_arg(session, "dsv4_session_verify", "session");
        require_arg(tokens, "dsv4_session_verify", "tokens");
        require_arg(out, "dsv4_session_verify", "out");
        Session& s = *session->session;
        const size_t V = size_t(s.model().config().vocab_size);
        if (n_tokens > 0 && n_out / n_tokens < V)
            fail(DSV4_STATUS_INVALID_ARGUMENT, "dsv4_session_verify: n_out = " + std::to_string(n_out) +
                                                   " floats is less than n_tokens x vocab_size = " +
                                                   std::to_string(n_tokens) + " x " + std::to_string(V));
        s.verify(tokens, n_tokens, out);
    });
}

}  // extern "C"
