#include "stdin_text.h"

#include <cstdio>
#include <stdexcept>

#include <dsv4/dsv4.h>

namespace cli {

std::string read_stdin() {
    std::string s;
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) s.append(buf, n);
    if (std::ferror(stdin)) throw std::runtime_error("cannot read stdin");
    return s;
}

bool parse_chat_mode(const std::string& mode, int* out_mode) {
    if (mode == "chat")
        *out_mode = DSV4_CHAT_MODE_CHAT;
    else if (mode == "thinking")
        *out_mode = DSV4_CHAT_MODE_THINKING;
    else
        return false;
    return true;
}

}  // namespace cli
