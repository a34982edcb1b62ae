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

// The integer a C caller passed as an enum. In C every int is a value of an
// enum type; in C++ a value outside the enumerators' range is not, and
// reading it as the enum type is undefined behaviour (UBSan: "not a valid
// value for type"). So enum arguments and members are read as their bytes.
template <class E>
int enum_as_int(const E& e) {
    static_assert(sizeof(E) == sizeof(int), "the C enums are int-sized");
    int v;
    std::memcpy(&v, &e, sizeof v);
    return v;
}

// Fails with DSV4_STATUS_INVALID_ARGUMENT naming the argument when p is NULL.
template <class T>
void require_arg(const T* p, const char* function, const char* argument) {
    if (!p) fail(DSV4_STATUS_INVALID_ARGUMENT, std::string(function) + ": argument '" + argument + "' is NULL");
}

// The size the caller set in an output struct's struct_size (1..sizeof(T)):
// the prefix the library fills. Anything else fails naming the argument.
template <class T>
size_t out_struct_size(const T* out, const std::string& function, const char* argument, const char* type) {
    if (out->struct_size == 0 || out->struct_size > sizeof(T))
        fail(DSV4_STATUS_INVALID_ARGUMENT,
             function + ": " + argument + "->struct_size must be set to sizeof(" + type + ")");
    return out->struct_size;
}

// Copies the caller's params over p (which holds the defaults) when given:
// the first struct_size bytes, so members an older caller does not know keep
// their defaults. struct_size must lie between min_size (the struct of the
// first release) and sizeof(T).
template <class T>
void copy_params(const T* params, size_t min_size, T& p, const std::string& function, const char* init_function) {
    if (!params) return;
    if (params->struct_size < min_size || params->struct_size > sizeof(T))
        fail(DSV4_STATUS_INVALID_ARGUMENT, function + ": params->struct_size " + std::to_string(params->struct_size) +
                                               " is not a known size (call " + init_function + ")");
    std::memcpy(&p, params, params->struct_size);
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
