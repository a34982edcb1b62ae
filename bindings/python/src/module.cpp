// The _dsv4 extension: low-level classes over the C ABI. The public Python
// API (dsv4/__init__.py) wraps these with docs, dataclasses and iterators.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "capi.hpp"
#include "py_generate.hpp"
#include "py_model.hpp"
#include "py_perf.hpp"
#include "py_session.hpp"
#include "py_tokenizer.hpp"

namespace py = pybind11;
using namespace dsv4py;

namespace {

// An int from Python as a dsv4_chat_mode: only the enumerators (converting any other int to the
// enum type would be undefined behaviour in C++).
dsv4_chat_mode chat_mode(int mode) {
    if (mode == DSV4_CHAT_MODE_CHAT) return DSV4_CHAT_MODE_CHAT;
    if (mode == DSV4_CHAT_MODE_THINKING) return DSV4_CHAT_MODE_THINKING;
    invalid("chat mode " + std::to_string(mode) + " is not 0 (chat) or 1 (thinking)");
}

std::string chat_encode(const std::string& messages_json, int mode, bool drop_thinking, py::object effort,
                        bool add_bos) {
    dsv4_chat_params p;
    dsv4_chat_params_init(&p);
    p.mode = chat_mode(mode);
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
    check(dsv4_chat_parse(text.data(), text.size(), chat_mode(mode), &out));
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

    bind_tokenizer(m);
    bind_model(m);
    bind_session(m);
    bind_generation(m);
    bind_perf(m);

    m.def("chat_encode", &chat_encode, py::arg("messages_json"), py::arg("mode"), py::arg("drop_thinking"),
          py::arg("reasoning_effort"), py::arg("add_bos"));
    m.def("chat_parse", &chat_parse, py::arg("text"), py::arg("mode"));
}
