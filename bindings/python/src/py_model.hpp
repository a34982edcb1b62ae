// _Model: an open checkpoint. Its state is shared with its sessions and tokenizer, which keep it
// open after close().
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <string>

#include "capi.hpp"

namespace dsv4py {

struct ModelState {
    ModelPtr model;
};

class PyModel {
public:
    PyModel(const std::string& path, const std::string& backend, int threads, bool use_mmap, uint64_t memory_budget,
            pybind11::object progress);

    dsv4_model* get() const;
    std::shared_ptr<ModelState> state() const;
    void close() { state_.reset(); }
    bool closed() const { return !state_; }
    pybind11::dict info() const;
    // The state a session of ctx tokens would hold (dsv4_model_estimate_session_bytes), as
    // Session.info's dict, position 0 (ctx 0: the library's default); nothing is allocated.
    pybind11::dict estimate_session(long long ctx) const;
    // The model's tokenizer (a _Tokenizer keeping the model open), or None.
    pybind11::object tokenizer() const;

private:
    std::shared_ptr<ModelState> state_;
};

void bind_model(pybind11::module_& m);

}  // namespace dsv4py
