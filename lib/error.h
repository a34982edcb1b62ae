// Internal error type of the dsv4 core. Every failure inside the library is a
// dsv4::Error carrying the public status code; the C layer (bindings/c)
// catches it and turns it into a status plus the thread-local message.
#pragma once

#include <stdexcept>
#include <string>

#include "dsv4/dsv4.h"

namespace dsv4 {

class Error : public std::runtime_error {
public:
    Error(dsv4_status status, const std::string& message)
        : std::runtime_error(message), status_(status) {}
    dsv4_status status() const { return status_; }

private:
    dsv4_status status_;
};

[[noreturn]] inline void fail(dsv4_status status, const std::string& message) {
    throw Error(status, message);
}

// Sets / reads the calling thread's last-error message.
void set_last_error(const std::string& message);
const char* last_error();

}  // namespace dsv4
