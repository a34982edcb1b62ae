// The _dsv4 extension: low-level classes over the C ABI. The public Python
// API (dsv4/__init__.py) wraps these with docs, dataclasses and iterators.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <cstring>
#include <vector>

#include "capi.hpp"

namespace py = pybind11;
using namespace dsv4py;

namespace {

// The model stays open while the Python Model or any of its sessions holds it.
struct ModelState {
    ModelPtr model;
};

class PyModel {
public:
    PyModel(const std::string& path, const std::string& backend, int threads, bool use_mmap, py::object progress) {
        dsv4_model_params p;
        dsv4_model_params_init(&p);
        if (!backend.empty()) p.backend = backend.c_str();
        p.n_threads = threads;
        p.use_mmap = use_mmap;
        struct Ctx {
            py::object fn;
            bool raised = false;
        } ctx{progress};
        if (!progress.is_none()) {
            p.progress = [](uint64_t done, uint64_t total, void* ud) -> bool {
                auto* c = static_cast<Ctx*>(ud);
                py::gil_scoped_acquire gil;
                try {
                    py::object r = c->fn(done, total);
                    return r.is_none() || r.cast<bool>();
                } catch (py::error_already_set& e) {
                    e.restore();  // re-raised after the C call returns
                    c->raised = true;
                    return false;
                }
            };
            p.progress_user_data = &ctx;
        }
        dsv4_model* raw = nullptr;
        dsv4_status st;
        {
            py::gil_scoped_release nogil;
            st = dsv4_model_open(path.c_str(), &p, &raw);
        }
        if (ctx.raised) throw py::error_already_set();
        check(st);
        state_ = std::make_shared<ModelState>();
        state_->model.reset(raw);
    }

    dsv4_model* get() const {
        if (!state_) throw StatusError(DSV4_STATUS_INVALID_ARGUMENT, "the model is closed");
        return state_->model.get();
    }
    std::shared_ptr<ModelState> state() const {
        get();
        return state_;
    }
    void close() { state_.reset(); }
    bool closed() const { return !state_; }

    py::dict info() const {
        dsv4_model_info i;
        std::memset(&i, 0, sizeof i);
        i.struct_size = sizeof i;
        check(dsv4_model_get_info(get(), &i));
        py::dict d;
        d["n_layers"] = i.n_layers;
        d["n_mtp_layers"] = i.n_mtp_layers;
        d["hidden_size"] = i.hidden_size;
        d["n_heads"] = i.n_heads;
        d["head_dim"] = i.head_dim;
        d["rope_head_dim"] = i.rope_head_dim;
        d["q_lora_rank"] = i.q_lora_rank;
        d["o_groups"] = i.o_groups;
        d["o_lora_rank"] = i.o_lora_rank;
        d["sliding_window"] = i.sliding_window;
        d["n_routed_experts"] = i.n_routed_experts;
        d["n_experts_per_tok"] = i.n_experts_per_tok;
        d["n_shared_experts"] = i.n_shared_experts;
        d["moe_intermediate_size"] = i.moe_intermediate_size;
        d["n_hash_layers"] = i.n_hash_layers;
        d["index_n_heads"] = i.index_n_heads;
        d["index_head_dim"] = i.index_head_dim;
        d["index_topk"] = i.index_topk;
        d["hc_mult"] = i.hc_mult;
        d["vocab_size"] = i.vocab_size;
        d["bos_token_id"] = i.bos_token_id;
        d["eos_token_id"] = i.eos_token_id;
        d["max_context"] = i.max_context;
        d["total_params"] = i.total_params;
        d["active_params"] = i.active_params;
        d["total_bytes"] = i.total_bytes;
        d["experts_fp4"] = i.experts_fp4;
        py::dict by;
        for (int t = 0; t < DSV4_DTYPE_COUNT; ++t)
            if (i.bytes_by_dtype[t]) by[dsv4_dtype_name(dsv4_dtype(t))] = i.bytes_by_dtype[t];
        d["bytes_by_dtype"] = by;
        std::vector<int> ratios;
        for (int l = 0; l < i.n_layers + i.n_mtp_layers; ++l) {
            int r = 0;
            check(dsv4_model_layer_ratio(get(), l, &r));
            ratios.push_back(r);
        }
        d["compress_ratios"] = ratios;
        d["backend"] = std::string(dsv4_model_backend(get()));
        return d;
    }

private:
    std::shared_ptr<ModelState> state_;
};

class PySession {
public:
    PySession(const PyModel& model, uint64_t ctx, uint32_t prefill_chunk) : model_(model.state()) {
        dsv4_session_params p;
        dsv4_session_params_init(&p);
        p.n_ctx = ctx;
        p.prefill_chunk = prefill_chunk;
        // Polled between layers: a pending Ctrl-C (or cancel()) stops the call.
        p.abort_callback = [](void* ud) -> bool {
            auto* self = static_cast<PySession*>(ud);
            if (self->cancel_.load()) return true;
            py::gil_scoped_acquire gil;
            if (PyErr_CheckSignals() != 0) {
                self->signal_pending_ = true;
                return true;
            }
            return false;
        };
        p.abort_user_data = this;
        dsv4_session* raw = nullptr;
        check(dsv4_session_create(model_->model.get(), &p, &raw));
        session_.reset(raw);
        vocab_ = model.info()["vocab_size"].cast<int>();
    }

    dsv4_session* get() const {
        if (!session_) throw StatusError(DSV4_STATUS_INVALID_ARGUMENT, "the session is closed");
        return session_.get();
    }

    // Runs a C call with the GIL released; turns a Ctrl-C seen by the abort
    // callback back into KeyboardInterrupt.
    template <class F>
    void run(F&& f) {
        cancel_ = false;
        signal_pending_ = false;
        dsv4_status st;
        {
            py::gil_scoped_release nogil;
            st = f();
        }
        if (signal_pending_) throw py::error_already_set();
        check(st);
    }

    void prefill(const std::vector<int32_t>& tokens) {
        dsv4_session* s = get();
        run([&] { return dsv4_session_prefill(s, tokens.data(), tokens.size()); });
    }
    void decode(int32_t token) {
        dsv4_session* s = get();
        run([&] { return dsv4_decode_step(s, token); });
    }
    py::array_t<float> logits() const {
        const float* p = dsv4_session_logits(get());
        if (!p) throw StatusError(DSV4_STATUS_INVALID_ARGUMENT, "no logits yet: feed at least one token first");
        py::array_t<float> out(vocab_);
        std::memcpy(out.mutable_data(), p, sizeof(float) * size_t(vocab_));
        return out;
    }
    py::array_t<float> mtp_logits(int32_t next_token) {
        py::array_t<float> out(vocab_);
        float* dst = out.mutable_data();
        dsv4_session* s = get();
        run([&] { return dsv4_session_mtp_logits(s, next_token, dst, size_t(vocab_)); });
        return out;
    }
    void reset() { check(dsv4_session_reset(get())); }
    uint64_t position() const { return dsv4_session_position(get()); }
    py::dict info() const {
        dsv4_session_info i;
        std::memset(&i, 0, sizeof i);
        i.struct_size = sizeof i;
        check(dsv4_session_get_info(get(), &i));
        py::dict d;
        d["n_ctx"] = i.n_ctx;
        d["position"] = i.position;
        d["state_bytes"] = i.state_bytes;
        d["window_bytes"] = i.window_bytes;
        d["compressed_bytes"] = i.compressed_bytes;
        d["indexer_bytes"] = i.indexer_bytes;
        d["carry_bytes"] = i.carry_bytes;
        return d;
    }
    void cancel() { cancel_ = true; }
    void close() { session_.reset(); }
    int vocab() const { return vocab_; }

private:
    std::shared_ptr<ModelState> model_;  // declared first: destroyed after the session
    SessionPtr session_;
    int vocab_ = 0;
    std::atomic<bool> cancel_{false};
    bool signal_pending_ = false;
};

std::string chat_encode(const std::string& messages_json, int mode, bool drop_thinking, py::object effort, bool add_bos) {
    dsv4_chat_params p;
    dsv4_chat_params_init(&p);
    p.mode = dsv4_chat_mode(mode);
    p.drop_thinking = drop_thinking;
    p.add_bos = add_bos;
    std::string e;
    if (!effort.is_none()) {
        e = effort.cast<std::string>();
        p.reasoning_effort = e.c_str();
    }
    char* out = nullptr;
    check(dsv4_chat_encode(messages_json.c_str(), &p, &out));
    StringPtr keep(out);
    return out;
}

std::string chat_parse(const std::string& text, int mode) {
    char* out = nullptr;
    check(dsv4_chat_parse(text.data(), text.size(), dsv4_chat_mode(mode), &out));
    StringPtr keep(out);
    return out;
}

}  // namespace

PYBIND11_MODULE(_dsv4, m) {
    m.doc() = "Low-level bindings of the dsv4 C ABI; use the dsv4 package instead.";

    // StatusError -> the dsv4.Error subclass for its status (dsv4/_errors.py).
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const StatusError& e) {
            py::object raise_for = py::module_::import("dsv4._errors").attr("error_for_status");
            py::object exc = raise_for(int(e.status), e.what());
            PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
        }
    });

    m.def("version", [] { return std::string(dsv4_version()); });
    m.def("abi_version", &dsv4_abi_version);
    m.def("backends", [] {
        std::vector<std::string> out;
        for (int i = 0; const char* n = dsv4_backend_name(i); ++i) out.push_back(n);
        return out;
    });

    py::class_<PyModel>(m, "_Model")
        .def(py::init<const std::string&, const std::string&, int, bool, py::object>(), py::arg("path"),
             py::arg("backend") = "", py::arg("threads") = 0, py::arg("use_mmap") = true,
             py::arg("progress") = py::none())
        .def("info", &PyModel::info)
        .def("close", &PyModel::close)
        .def_property_readonly("closed", &PyModel::closed);

    py::class_<PySession>(m, "_Session")
        .def(py::init<const PyModel&, uint64_t, uint32_t>(), py::arg("model"), py::arg("ctx") = 0,
             py::arg("prefill_chunk") = 0)
        .def("prefill", &PySession::prefill)
        .def("decode", &PySession::decode)
        .def("logits", &PySession::logits)
        .def("mtp_logits", &PySession::mtp_logits)
        .def("reset", &PySession::reset)
        .def("position", &PySession::position)
        .def("info", &PySession::info)
        .def("cancel", &PySession::cancel)
        .def("close", &PySession::close)
        .def_property_readonly("vocab_size", &PySession::vocab);

    m.def("chat_encode", &chat_encode, py::arg("messages_json"), py::arg("mode"), py::arg("drop_thinking"),
          py::arg("reasoning_effort"), py::arg("add_bos"));
    m.def("chat_parse", &chat_parse, py::arg("text"), py::arg("mode"));
}
