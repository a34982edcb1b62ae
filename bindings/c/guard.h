// The boundary between the C ABI and the C++ core: run a body, turn every
// exception into a status code and the thread-local message. Nothing thrown
// inside the library ever crosses extern "C".
#pragma once

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "error.h"

namespace dsv4 {

template <class Body>
dsv4_status guarded(Body&& body) noexcept {
    try {
        body();
        return DSV4_STATUS_OK;
    } catch (const Error& e) {
        set_last_error(e.what());
        return e.status();
    } catch (const std::bad_alloc&) {
        set_last_error("out of memory");
        return DSV4_STATUS_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        set_last_error(std::string("internal error: ") + e.what());
        return DSV4_STATUS_INTERNAL;
    } catch (...) {
        set_last_error("internal error: unknown exception");
        return DSV4_STATUS_INTERNAL;
    }
}

// Fails with DSV4_STATUS_INVALID_ARGUMENT naming the argument when p is NULL.
template <class T>
void require_arg(const T* p, const char* function, const char* argument) {
    if (!p) fail(DSV4_STATUS_INVALID_ARGUMENT, std::string(function) + ": argument '" + argument + "' is NULL");
}

// Copies s into a malloc'd NUL-terminated string for the caller, freed with
// dsv4_string_free.
inline char* to_c_string(const std::string& s) {
    char* p = static_cast<char*>(std::malloc(s.size() + 1));
    if (!p) throw std::bad_alloc();
    std::memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return p;
}

}  // namespace dsv4
