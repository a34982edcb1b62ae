// Token ids -> text, incrementally. Text is released only in whole UTF-8 characters: a token that
// ends inside a multi-byte character is held back until the character completes, so a stream never
// shows a broken sequence. Bytes that can never form a character become U+FFFD, per maximal
// invalid subpart (as Rust's String::from_utf8_lossy and hence Hugging Face's decode do).
#pragma once

#include <cstdint>
#include <string>

namespace dsv4::text {

class Tokenizer;

// Raw bytes of a token sequence: concatenated token bytes, with <0xXX> byte-fallback tokens
// gathered into characters and mapped back through the byte-level alphabet.
class ByteAssembler {
public:
    ByteAssembler(const Tokenizer& tokenizer, bool skip_special) : tok_(tokenizer), skip_special_(skip_special) {}
    // Appends the bytes id contributes to `out` (fallback bytes may wait for the next tokens).
    void push(int32_t id, std::string& out);
    // Resolves waiting fallback bytes (incomplete ones become U+FFFD).
    void finish(std::string& out);

private:
    void resolve_fallback(bool force, std::string& out);
    const Tokenizer& tok_;
    bool skip_special_;
    std::string fallback_;  // bytes of <0xXX> tokens not yet forming a character
};

class StreamDecoder {
public:
    StreamDecoder(const Tokenizer& tokenizer, bool skip_special) : bytes_(tokenizer, skip_special) {}
    // The text that became complete with this token (possibly empty).
    std::string feed(int32_t id);
    // Everything still held back, with unfinished sequences as U+FFFD; the decoder is then empty.
    std::string flush();
    void reset();

private:
    std::string take_complete(bool final);
    ByteAssembler bytes_;
    std::string pending_;  // bytes not yet released
};

// Longest prefix of s[i..] that could start a valid sequence but is invalid: the span one U+FFFD
// replaces (at least one byte).
size_t utf8_invalid_span(const std::string& s, size_t i);

}  // namespace dsv4::text
