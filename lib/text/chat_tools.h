// Tools in DeepSeek-V4's chat format: the schema section of the system prompt and the DSML markup
// of an assistant turn's tool calls.
#pragma once

#include <string>

#include "text/py_json.h"

namespace dsv4::text::chat {

// The "## Tools" section for OpenAI-style tools ([{"type": "function", "function": {...}}]).
// `index` names the message in errors.
std::string render_tools(const ojson& tools, size_t index);

// "<｜DSML｜tool_calls>...</｜DSML｜tool_calls>" for OpenAI-style tool calls. String arguments are
// written as is (string="true"); every other value as Python-style JSON (string="false").
std::string render_tool_calls(const ojson& tool_calls, size_t index);

}  // namespace dsv4::text::chat
