// Stop strings over streamed text: text that could be the start of a stop string is held back
// until it is known not to be one, so a caller never shows a stop string, even one split across
// several pieces.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dsv4::text {

class StopMatcher {
public:
    // Empty strings are refused (DSV4_STATUS_INVALID_ARGUMENT).
    explicit StopMatcher(std::vector<std::string> stops);

    struct Result {
        std::string text;      // safe to show now
        bool stopped = false;  // a stop string completed; text ends just before it
    };
    // Adds a piece of generated text. After a stop, further pieces yield nothing.
    Result feed(std::string_view piece);
    // Releases held-back text (generation ended without a stop) and starts over.
    std::string flush();

private:
    std::vector<std::string> stops_;
    std::string held_;
    bool stopped_ = false;
};

}  // namespace dsv4::text
