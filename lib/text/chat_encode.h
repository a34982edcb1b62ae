// Messages (OpenAI-style JSON) -> DeepSeek-V4 prompt text.
#pragma once

#include <string>

#include "text/chat_format.h"
#include "text/py_json.h"

namespace dsv4::text::chat {

struct EncodeOptions {
    Mode mode = Mode::Chat;
    // Drop the reasoning of assistant turns before the last user turn (and developer turns there).
    // Forced off when any message carries tools, as the reference encoder does.
    bool drop_thinking = true;
    // "" (none), "high" (adds nothing) or "max" (prefixes the thinking prompt with an effort notice).
    std::string reasoning_effort;
    bool add_bos = true;
};

// Throws dsv4::Error(DSV4_STATUS_INVALID_ARGUMENT) naming the message index and field at fault.
std::string encode_messages(const ojson& messages, const EncodeOptions& options);

}  // namespace dsv4::text::chat
