// GPT-2's byte-level alphabet: every byte has a printable stand-in character, and byte-level BPE
// vocabularies are written in those characters (a space is "Ġ").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dsv4::text {

// The code point standing for byte b.
uint32_t byte_to_codepoint(uint8_t b);

// The byte a code point stands for, or -1 when it is not in the alphabet.
int codepoint_to_byte(uint32_t cp);

// Raw bytes -> byte-level characters (UTF-8).
std::string bytes_to_byte_level(std::string_view bytes);

// Byte-level characters -> raw bytes. Characters outside the alphabet are kept as their UTF-8
// bytes, as the Hugging Face ByteLevel decoder does. `s` must be valid UTF-8.
std::string byte_level_to_bytes(std::string_view s);

}  // namespace dsv4::text
