// UTF-8 helpers shared by the tokenizer, the streaming decoder and the chat code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dsv4::text {

// Length of the sequence a lead byte announces (1-4), or 0 for a byte that cannot start one.
inline int utf8_sequence_length(unsigned char lead) {
    if (lead < 0x80) return 1;
    if (lead >= 0xC2 && lead <= 0xDF) return 2;
    if (lead >= 0xE0 && lead <= 0xEF) return 3;
    if (lead >= 0xF0 && lead <= 0xF4) return 4;
    return 0;
}

// Outcome of reading one sequence at s[i]: its length when complete and valid, 0 when invalid, and
// -1 when the bytes present are a valid but incomplete prefix (more bytes could complete it).
int utf8_check_sequence(std::string_view s, size_t i);

// Byte offset of the first invalid UTF-8 sequence (truncated sequences included), or npos if valid.
size_t utf8_find_invalid(std::string_view s);

// Throws DSV4_STATUS_INVALID_ARGUMENT naming `what` and the byte offset when s is not valid UTF-8.
void utf8_require_valid(std::string_view s, const char* what);

// Appends the UTF-8 encoding of code point cp (cp < 0x110000, not a surrogate).
void utf8_append(std::string& out, uint32_t cp);

// Decodes the valid sequence at s[i] (caller has validated) and advances i past it.
uint32_t utf8_next(std::string_view s, size_t& i);

}  // namespace dsv4::text
