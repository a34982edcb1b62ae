// Reading all of stdin as bytes (binary-safe), for the text commands.
#pragma once

#include <string>

namespace cli {

std::string read_stdin();

// Parses "--mode chat|thinking" into the C enum value; returns false for anything else.
bool parse_chat_mode(const std::string& mode, int* out_mode);

}  // namespace cli
