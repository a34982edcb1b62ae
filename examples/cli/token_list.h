// Token ids given on the command line ("5,17,230" or "5 17 230").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cli {

// Throws std::invalid_argument naming the item that is not an id.
std::vector<int32_t> parse_token_list(const std::string& spec, const std::string& flag);

// A dsv4_finish_reason as words ("stop token", "max tokens", ...).
const char* finish_reason_name(int reason);

}  // namespace cli
