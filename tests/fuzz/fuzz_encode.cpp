// libFuzzer target: encoding arbitrary bytes with the test fixture's tokenizer
// (DSV4_FUZZ_TOKENIZER, a byte-level BPE with added tokens). Invalid UTF-8 must fail with a
// dsv4::Error; valid text must come back byte for byte from decode, with and without
// special-token parsing (byte-level BPE loses nothing, and an added token decodes to its text).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "error.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::unique_ptr<dsv4::text::Tokenizer> t = dsv4::text::Tokenizer::from_file(DSV4_FUZZ_TOKENIZER);
    const std::string text(reinterpret_cast<const char*>(data), size);
    for (bool special : {false, true}) {
        std::vector<int32_t> ids;
        try {
            ids = t->encode(text, special, false);
        } catch (const dsv4::Error& e) {
            if (e.status() != DSV4_STATUS_INVALID_ARGUMENT) __builtin_trap();
            continue;
        }
        for (int32_t id : ids)
            if (id < 0 || id >= t->vocab_size()) __builtin_trap();
        if (t->decode(ids.data(), ids.size(), false) != text) __builtin_trap();
    }
    return 0;
}
