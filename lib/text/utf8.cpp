#include "text/utf8.h"

#include <cstdio>

#include "error.h"

namespace dsv4::text {

int utf8_check_sequence(std::string_view s, size_t i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    const int len = utf8_sequence_length(b0);
    if (len == 0) return 0;
    if (len == 1) return 1;
    for (int k = 1; k < len; ++k) {
        if (i + size_t(k) >= s.size()) return -1;
        const auto b = static_cast<unsigned char>(s[i + size_t(k)]);
        // The second byte's range depends on the lead byte: it excludes overlong forms, surrogates
        // (ED A0..BF) and code points above U+10FFFF.
        unsigned char lo = 0x80, hi = 0xBF;
        if (k == 1) {
            if (b0 == 0xE0)
                lo = 0xA0;
            else if (b0 == 0xED)
                hi = 0x9F;
            else if (b0 == 0xF0)
                lo = 0x90;
            else if (b0 == 0xF4)
                hi = 0x8F;
        }
        if (b < lo || b > hi) return 0;
    }
    return len;
}

size_t utf8_find_invalid(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        // Fast path for ASCII runs.
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        const int n = utf8_check_sequence(s, i);
        if (n <= 0) return i;
        i += size_t(n);
    }
    return std::string_view::npos;
}

void utf8_require_valid(std::string_view s, const char* what) {
    const size_t bad = utf8_find_invalid(s);
    if (bad == std::string_view::npos) return;
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(s[bad])));
    fail(DSV4_STATUS_INVALID_ARGUMENT, std::string(what) +
                                           " is not valid UTF-8: invalid or truncated sequence at byte offset " +
                                           std::to_string(bad) + " (byte " + hex + ")");
}

void utf8_append(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(char(cp));
    } else if (cp < 0x800) {
        out.push_back(char(0xC0 | (cp >> 6)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(char(0xE0 | (cp >> 12)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(char(0xF0 | (cp >> 18)));
        out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    }
}

uint32_t utf8_next(std::string_view s, size_t& i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    const int len = utf8_sequence_length(b0);
    uint32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1Fu) : len == 3 ? (b0 & 0x0Fu) : (b0 & 0x07u);
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + size_t(k)]) & 0x3Fu);
    i += size_t(len > 0 ? len : 1);
    return cp;
}

}  // namespace dsv4::text
