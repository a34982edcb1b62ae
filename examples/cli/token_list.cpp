#include "token_list.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <stdexcept>

#include <dsv4/dsv4.h>

namespace cli {

std::vector<int32_t> parse_token_list(const std::string& spec, const std::string& flag) {
    std::vector<int32_t> ids;
    size_t i = 0;
    while (i < spec.size()) {
        if (spec[i] == ',' || spec[i] == ' ' || spec[i] == '\t' || spec[i] == '\n') {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < spec.size() && spec[j] != ',' && spec[j] != ' ' && spec[j] != '\t' && spec[j] != '\n') ++j;
        const std::string item = spec.substr(i, j - i);
        char* end = nullptr;
        errno = 0;
        const long long v = std::strtoll(item.c_str(), &end, 10);
        if (*end || errno || v < 0 || v > INT32_MAX)
            throw std::invalid_argument("'" + item + "' in " + flag + " is not a token id");
        ids.push_back(int32_t(v));
        i = j;
    }
    return ids;
}

const char* finish_reason_name(int reason) {
    switch (reason) {
        case DSV4_FINISH_NONE:
            return "not finished";
        case DSV4_FINISH_STOP_TOKEN:
            return "stop token";
        case DSV4_FINISH_STOP_STRING:
            return "stop string";
        case DSV4_FINISH_MAX_TOKENS:
            return "max tokens";
        case DSV4_FINISH_CONTEXT_FULL:
            return "context full";
        case DSV4_FINISH_CANCELLED:
            return "cancelled";
    }
    return "unknown";
}

}  // namespace cli
