// libFuzzer target: tokenizer.json on arbitrary text, and after a NUL byte, if there is one,
// tokenizer_config.json. A pair that loads must encode a sample (ids within the vocabulary)
// and decode those ids; every failure is a dsv4::Error.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "error.h"
#include "text/tokenizer.h"

namespace {
// ASCII words, digits, punctuation, whitespace runs, a Chinese phrase, an emoji and the
// spellings of special tokens, so that every pre-tokenizer rule and added token gets text.
constexpr const char* kSample =
    "Hello, world! 12345 x=3.14;\n\n\tdef f(a):  return a  \xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c "
    "\xf0\x9f\x98\x80 <|bos|><tool_call><think>\xef\xbd\x9c\xe2\x96\x81";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    const size_t nul = input.find('\0');
    const std::string doc = input.substr(0, nul), config = nul == std::string::npos ? "" : input.substr(nul + 1);
    std::unique_ptr<dsv4::text::Tokenizer> t;
    try {
        t = dsv4::text::Tokenizer::from_json(doc, config, "fuzz.json");
    } catch (const dsv4::Error&) {
        return 0;
    }
    for (bool special : {false, true}) {
        std::vector<int32_t> ids;
        try {
            ids = t->encode(kSample, special, true);
        } catch (const dsv4::Error&) {
            continue;
        }
        for (int32_t id : ids)
            if (id < 0 || id >= t->vocab_size()) __builtin_trap();
        try {
            (void)t->decode(ids.data(), ids.size(), false);
        } catch (const dsv4::Error&) {
        }
    }
    return 0;
}
