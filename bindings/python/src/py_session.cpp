#include "py_session.hpp"

#include <pybind11/stl.h>

#include <cstring>

#include "py_generate.hpp"

namespace py = pybind11;

namespace dsv4py {

namespace {

// Python runs signal handlers in the main thread only, so only there can a Ctrl-C be pending.
unsigned long g_main_thread = 0;

bool on_main_thread() {
    return PyThread_get_thread_ident() == g_main_thread;
}

// How often a long call looks for a pending Ctrl-C: each look takes the GIL, which other Python
// threads may hold for a while (up to the interpreter's switch interval).
constexpr std::chrono::milliseconds kSignalPollInterval{20};

// Marks the session busy for one call; a concurrent call from another thread fails.
class BusyGuard {
public:
    explicit BusyGuard(std::atomic<bool>& busy) : busy_(busy) {
        if (busy_.exchange(true)) invalid("the session is in use by another thread");
    }
    ~BusyGuard() { busy_ = false; }

private:
    std::atomic<bool>& busy_;
};

}  // namespace

PySession::PySession(const PyModel& model, uint64_t ctx, uint32_t prefill_chunk)
    : PySession(model.state(), model.info()["vocab_size"].cast<int>(), ctx, prefill_chunk) {}

PySession::PySession(std::shared_ptr<ModelState> model, int vocab, uint64_t ctx, uint32_t prefill_chunk)
    : model_(std::move(model)), vocab_(vocab), prefill_chunk_(prefill_chunk) {
    dsv4_session_params p;
    dsv4_session_params_init(&p);
    p.n_ctx = ctx;
    p.prefill_chunk = prefill_chunk;
    p.abort_callback = abort_callback;
    p.abort_user_data = this;
    dsv4_session* raw = nullptr;
    check(dsv4_session_create(model_->model.get(), &p, &raw));
    session_.reset(raw);
    dsv4_session_info i;
    std::memset(&i, 0, sizeof i);
    i.struct_size = sizeof i;
    check(dsv4_session_get_info(raw, &i));
    ctx_ = i.n_ctx;  // ctx 0 lets the library choose
}

PySession::~PySession() {
    if (auto g = generation_.lock()) g->close();
}

bool PySession::abort_callback(void* ud) {
    auto* self = static_cast<PySession*>(ud);
    if (self->cancel_.load()) return true;
    if (!self->poll_signals_ || !on_main_thread()) return false;
    const auto now = std::chrono::steady_clock::now();
    if (now - self->last_signal_check_ < kSignalPollInterval) return false;
    self->last_signal_check_ = now;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) {
        self->signal_pending_ = true;  // the exception stays set until run() raises it
        return true;
    }
    return false;
}

dsv4_session* PySession::get() const {
    if (!session_) invalid("the session is closed");
    return session_.get();
}

void PySession::run_impl(const std::function<dsv4_status()>& call, bool generation_step) {
    BusyGuard busy(busy_);
    if (!generation_step) {
        end_generation();
        cancel_ = false;
    }
    signal_pending_ = false;
    // A generation step is short: a Ctrl-C during it surfaces right after it, in Python, and the
    // step does not contend for the GIL with other threads.
    poll_signals_ = !generation_step;
    last_signal_check_ = {};
    dsv4_status st;
    {
        py::gil_scoped_release nogil;
        st = call();
    }
    if (signal_pending_) throw py::error_already_set();
    check(st);
}

void PySession::attach(std::shared_ptr<GenerationState> gen) {
    BusyGuard busy(busy_);
    end_generation();
    generation_ = gen;
}

void PySession::close_generation(GenerationState& gen) {
    BusyGuard busy(busy_);
    gen.close();
}

void PySession::end_generation() {
    if (auto g = generation_.lock()) g->close();
    generation_.reset();
}

void PySession::prefill(const std::vector<int32_t>& tokens) {
    dsv4_session* s = get();
    run([&] { return dsv4_session_prefill(s, tokens.data(), tokens.size()); });
}

void PySession::decode(int32_t token) {
    dsv4_session* s = get();
    run([&] { return dsv4_decode_step(s, token); });
}

py::array_t<float> PySession::logits() const {
    const float* p = dsv4_session_logits(get());
    if (!p) invalid("no logits yet: feed at least one token first");
    py::array_t<float> out(vocab_);
    std::memcpy(out.mutable_data(), p, sizeof(float) * size_t(vocab_));
    return out;
}

py::array_t<float> PySession::mtp_logits(int32_t next_token) {
    py::array_t<float> out(vocab_);
    float* dst = out.mutable_data();
    dsv4_session* s = get();
    run([&] { return dsv4_session_mtp_logits(s, next_token, dst, size_t(vocab_)); });
    return out;
}

void PySession::reset() {
    dsv4_session* s = get();
    BusyGuard busy(busy_);
    end_generation();
    check(dsv4_session_reset(s));
}

py::dict session_info_dict(const dsv4_session_info& i) {
    py::dict d;
    d["n_ctx"] = i.n_ctx;
    d["position"] = i.position;
    d["state_bytes"] = i.state_bytes;
    d["window_bytes"] = i.window_bytes;
    d["compressed_bytes"] = i.compressed_bytes;
    d["indexer_bytes"] = i.indexer_bytes;
    d["carry_bytes"] = i.carry_bytes;
    d["history_bytes"] = i.history_bytes;
    d["kv_row_bytes"] = i.kv_row_bytes;
    d["index_key_bytes"] = i.index_key_bytes;
    return d;
}

py::dict PySession::info() const {
    dsv4_session_info i;
    std::memset(&i, 0, sizeof i);
    i.struct_size = sizeof i;
    check(dsv4_session_get_info(get(), &i));
    return session_info_dict(i);
}

py::dict PySession::stats() const {
    dsv4_session_stats st;
    std::memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    check(dsv4_session_get_stats(get(), &st));
    py::dict d, seconds, bytes;
    d["tokens"] = st.tokens;
    d["weight_bytes"] = st.weight_bytes;
    d["last_tokens"] = st.last_tokens;
    d["last_weight_bytes"] = st.last_weight_bytes;
    for (int f = 0; f < DSV4_WEIGHT_FORMAT_COUNT; ++f) {
        seconds[weight_format_name(dsv4_weight_format(f))] = st.matmul_seconds[f];
        bytes[weight_format_name(dsv4_weight_format(f))] = st.matmul_bytes[f];
    }
    d["matmul_seconds"] = seconds;
    d["matmul_bytes"] = bytes;
    return d;
}

py::bytes PySession::snapshot() {
    dsv4_session* s = get();
    size_t size = 0;
    check(dsv4_session_snapshot_size(s, &size));
    // Written in place into a new bytes object (no other reference to it exists yet).
    py::bytes out(py::reinterpret_steal<py::bytes>(PyBytes_FromStringAndSize(nullptr, Py_ssize_t(size))));
    if (!out) throw py::error_already_set();
    char* dst = PyBytes_AS_STRING(out.ptr());
    size_t written = 0;
    run([&] { return dsv4_session_snapshot(s, dst, size, &written); });
    if (written != size) invalid("the session changed while its snapshot was written");
    return out;
}

void PySession::restore(py::object data) {
    // Any contiguous bytes-like object (bytes, bytearray, memoryview, a numpy uint8 array), read
    // in place: the view keeps it alive and unchanged-size while the GIL is released.
    Py_buffer view;
    if (PyObject_GetBuffer(data.ptr(), &view, PyBUF_SIMPLE) != 0) throw py::error_already_set();
    struct Release {
        Py_buffer* v;
        ~Release() { PyBuffer_Release(v); }
    } release{&view};
    dsv4_session* s = get();
    const void* src = view.buf;
    const size_t len = size_t(view.len);
    run([&] { return dsv4_session_restore(s, src, len); });
}

void PySession::save(const std::string& path) {
    dsv4_session* s = get();
    run([&] { return dsv4_session_snapshot_file(s, path.c_str()); });
}

void PySession::load(const std::string& path) {
    dsv4_session* s = get();
    run([&] { return dsv4_session_restore_file(s, path.c_str()); });
}

std::unique_ptr<PySession> PySession::fork() {
    auto child = std::make_unique<PySession>(model_, vocab_, ctx_, prefill_chunk_);
    child->restore(snapshot());
    return child;
}

void PySession::truncate(uint64_t position) {
    dsv4_session* s = get();
    run([&] { return dsv4_session_truncate(s, position); });
}

py::array_t<float> PySession::verify(const std::vector<int32_t>& tokens) {
    dsv4_session* s = get();
    py::array_t<float> out({py::ssize_t(tokens.size()), py::ssize_t(vocab_)});
    float* dst = out.mutable_data();
    const size_t n = tokens.size() * size_t(vocab_);
    run([&] { return dsv4_session_verify(s, tokens.data(), tokens.size(), dst, n); });
    return out;
}

void PySession::close() {
    BusyGuard busy(busy_);
    end_generation();
    session_.reset();
}

void bind_session(py::module_& m) {
    g_main_thread = py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
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
        .def("stats", &PySession::stats)
        .def("snapshot", &PySession::snapshot)
        .def("restore", &PySession::restore)
        .def("save", &PySession::save)
        .def("load", &PySession::load)
        .def("fork", &PySession::fork)
        .def("truncate", &PySession::truncate)
        .def("verify", &PySession::verify)
        .def("cancel", &PySession::cancel)
        .def("close", &PySession::close)
        .def_property_readonly("vocab_size", &PySession::vocab);
}

}  // namespace dsv4py
