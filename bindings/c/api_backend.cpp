// Backend listing of the C ABI.
#include "backend.h"
#include "dsv4/dsv4.h"

extern "C" {

DSV4_API const char* dsv4_backend_name(int index) {
    const auto& list = dsv4::all_backends();
    if (index < 0 || size_t(index) >= list.size()) return nullptr;
    return list[size_t(index)]->name();
}

}  // extern "C"
