// Version, status and string functions of the C ABI.
#include <cstdlib>

#include "dsv4/dsv4.h"
#include "error.h"
#include "guard.h"

extern "C" {

DSV4_API const char* dsv4_version(void) {
    return DSV4_VERSION_STRING;
}

DSV4_API int dsv4_version_number(void) {
    return DSV4_VERSION_MAJOR * 10000 + DSV4_VERSION_MINOR * 100 + DSV4_VERSION_PATCH;
}

DSV4_API int dsv4_abi_version(void) {
    return DSV4_ABI_VERSION;
}

DSV4_API const char* dsv4_status_string(dsv4_status status) {
    switch (dsv4::enum_as_int(status)) {
        case DSV4_STATUS_OK:
            return "ok";
        case DSV4_STATUS_INVALID_ARGUMENT:
            return "invalid argument";
        case DSV4_STATUS_IO:
            return "i/o error";
        case DSV4_STATUS_FORMAT:
            return "format error";
        case DSV4_STATUS_UNSUPPORTED:
            return "unsupported";
        case DSV4_STATUS_OUT_OF_MEMORY:
            return "out of memory";
        case DSV4_STATUS_CONTEXT_FULL:
            return "context full";
        case DSV4_STATUS_CANCELLED:
            return "cancelled";
        case DSV4_STATUS_BACKEND:
            return "backend error";
        case DSV4_STATUS_INTERNAL:
            return "internal error";
    }
    return "unknown status";
}

DSV4_API const char* dsv4_last_error(void) {
    return dsv4::last_error();
}

DSV4_API void dsv4_string_free(char* str) {
    std::free(str);
}

}  // extern "C"
