// libFuzzer target: the config.json parser on arbitrary text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config.h"
#include "error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        dsv4::ModelConfig c = dsv4::parse_config(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
        // Accepted configs are self-consistent.
        if (int(c.compress_ratios.size()) != c.n_total_blocks()) __builtin_trap();
    } catch (const dsv4::Error&) {
    }
    return 0;
}
