// libFuzzer target: the safetensors header parser on arbitrary bytes.
#include <cstddef>
#include <cstdint>

#include "error.h"
#include "safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        auto h = dsv4::parse_safetensors_header(data, size, size, "fuzz.safetensors");
        // Every accepted entry must lie inside the input.
        for (const auto& t : h.tensors)
            if (h.data_offset + t.end > size) __builtin_trap();
    } catch (const dsv4::Error&) {
    }
    return 0;
}
