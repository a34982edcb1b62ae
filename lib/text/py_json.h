// JSON text exactly as Python's json.dumps(value, ensure_ascii=False) writes it: ", " and ": "
// separators, keys in insertion order, non-ASCII characters unescaped. DeepSeek's chat format
// embeds tool schemas and tool-call arguments in this form, so the prompt bytes depend on it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace dsv4::text {

using ojson = nlohmann::ordered_json;

std::string python_json_dumps(const ojson& value);

}  // namespace dsv4::text
