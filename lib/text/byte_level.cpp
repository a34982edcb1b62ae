#include "text/byte_level.h"

#include <array>

#include "text/utf8.h"

namespace dsv4::text {

namespace {

struct Tables {
    std::array<uint32_t, 256> to_cp{};
    std::array<int16_t, 512> to_byte{};  // every stand-in is below U+0200

    Tables() {
        to_byte.fill(-1);
        // Printable Latin-1 bytes stand for themselves; the rest map, in byte order, to U+0100 on.
        auto printable = [](int b) {
            return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        };
        uint32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            to_cp[size_t(b)] = printable(b) ? uint32_t(b) : next++;
            to_byte[to_cp[size_t(b)]] = int16_t(b);
        }
    }
};

const Tables& tables() {
    static const Tables t;
    return t;
}

}  // namespace

uint32_t byte_to_codepoint(uint8_t b) { return tables().to_cp[b]; }

int codepoint_to_byte(uint32_t cp) { return cp < 512 ? tables().to_byte[cp] : -1; }

std::string bytes_to_byte_level(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char b : bytes) utf8_append(out, byte_to_codepoint(b));
    return out;
}

std::string byte_level_to_bytes(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const size_t start = i;
        const uint32_t cp = utf8_next(s, i);
        const int b = codepoint_to_byte(cp);
        if (b >= 0)
            out.push_back(char(b));
        else
            out.append(s.substr(start, i - start));
    }
    return out;
}

}  // namespace dsv4::text
