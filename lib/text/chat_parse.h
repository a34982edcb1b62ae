// A DeepSeek-V4 completion (the text generated after the assistant prefix, EOS included) -> an
// OpenAI-style assistant message: {"role", "content", "reasoning_content", "tool_calls"}.
#pragma once

#include <string_view>

#include "text/chat_format.h"
#include "text/py_json.h"

namespace dsv4::text::chat {

// In thinking mode the completion starts inside the reasoning (the prompt ended with <think>).
// Tool-call arguments come back as a JSON object text: string="true" parameter values become JSON
// strings, string="false" values must be JSON and are kept as that JSON value.
// Throws dsv4::Error(DSV4_STATUS_FORMAT) with the byte offset for malformed text or DSML.
ojson parse_completion(std::string_view text, Mode mode);

}  // namespace dsv4::text::chat
