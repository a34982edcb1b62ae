// Generated token ids -> the text a caller may show right away: whole UTF-8 characters only, and
// nothing that could still turn out to be the start of a stop string.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "text/stop_matcher.h"
#include "text/stream_decoder.h"
#include "text/tokenizer.h"

namespace dsv4::generate {

class TextStream {
public:
    // Throws DSV4_STATUS_INVALID_ARGUMENT for an empty stop string.
    TextStream(const text::Tokenizer& tokenizer, bool skip_special, std::vector<std::string> stop_strings);

    struct Piece {
        std::string text;      // safe to show now
        bool stopped = false;  // a stop string completed: text ends just before it
    };
    // Adds one generated token. An id the tokenizer has no token for (models often have a few
    // more ids than their tokenizer) contributes no text, as Hugging Face's decode skips it.
    Piece feed(int32_t token);
    // Generation ended without a stop string: everything held back (an unfinished character
    // becomes U+FFFD).
    std::string finish();

private:
    const text::Tokenizer& tok_;
    text::StreamDecoder decoder_;
    text::StopMatcher stops_;
};

}  // namespace dsv4::generate
