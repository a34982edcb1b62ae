// _Session: one session of a model. Every computing call runs with the GIL released. A Ctrl-C in
// the main thread stops a long call (the session's abort callback looks for it) and cancel() from
// another thread stops any call. A session runs one call at a time: a second thread's call fails
// instead of racing.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "capi.hpp"
#include "py_model.hpp"

namespace dsv4py {

struct GenerationState;

class PySession {
public:
    PySession(const PyModel& model, uint64_t ctx, uint32_t prefill_chunk);
    PySession(std::shared_ptr<ModelState> model, int vocab, uint64_t ctx, uint32_t prefill_chunk);
    ~PySession();
    PySession(const PySession&) = delete;
    PySession& operator=(const PySession&) = delete;

    dsv4_session* get() const;
    std::shared_ptr<ModelState> model_state() const { return model_; }
    int vocab() const { return vocab_; }

    void prefill(const std::vector<int32_t>& tokens);
    void decode(int32_t token);
    pybind11::array_t<float> logits() const;
    pybind11::array_t<float> mtp_logits(int32_t next_token);
    void reset();
    uint64_t position() const { return dsv4_session_position(get()); }
    pybind11::dict info() const;
    // dsv4_session_get_stats: tokens fed and weight bytes read, matrix-product time and bytes
    // by weight format ("bf16", "fp8", "fp4").
    pybind11::dict stats() const;
    // State operations (dsv4_session_snapshot / restore / truncate / verify).
    pybind11::bytes snapshot();
    void restore(pybind11::object data);
    void save(const std::string& path);
    void load(const std::string& path);
    // A new session of the same model and parameters with this one's state. Not
    // dsv4_session_fork: that copies the abort callback, whose user data is this object.
    std::unique_ptr<PySession> fork();
    void truncate(uint64_t position);
    pybind11::array_t<float> verify(const std::vector<int32_t>& tokens);
    void cancel() { cancel_ = true; }
    void close();

    // Runs a C call on the session with the GIL released, as a new operation: it ends the
    // generation reading from the session and forgets an earlier cancel(). Throws KeyboardInterrupt
    // when a Ctrl-C stopped the call, else StatusError for a failure.
    void run(const std::function<dsv4_status()>& call) { run_impl(call, false); }
    // The same for one step of the attached generation, which goes on, and for which a cancel()
    // made between steps still counts.
    void run_step(const std::function<dsv4_status()>& call) { run_impl(call, true); }

    // The generation reading from this session, if any: any other use of the session ends it
    // (the generator must not see tokens it did not feed).
    void attach(std::shared_ptr<GenerationState> gen);
    // Frees a generation's generator (not while the session runs a call in another thread).
    void close_generation(GenerationState& gen);

private:
    static bool abort_callback(void* self);
    void run_impl(const std::function<dsv4_status()>& call, bool generation_step);
    void end_generation();  // with the session marked busy

    std::shared_ptr<ModelState> model_;  // declared first: destroyed after the session
    SessionPtr session_;
    uint64_t ctx_ = 0;
    uint32_t prefill_chunk_ = 0;
    int vocab_ = 0;
    std::atomic<bool> cancel_{false};
    std::atomic<bool> busy_{false};
    bool signal_pending_ = false;
    bool poll_signals_ = true;  // whether the running call looks for Ctrl-C
    std::chrono::steady_clock::time_point last_signal_check_{};
    std::weak_ptr<GenerationState> generation_;
};

// A dsv4_session_info as the dict dsv4.SessionInfo is built from (Session.info and
// Model.estimate_session).
pybind11::dict session_info_dict(const dsv4_session_info& info);

void bind_session(pybind11::module_& m);

}  // namespace dsv4py
