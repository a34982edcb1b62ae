#include "text/added_tokens.h"

#include "text/regex.h"
#include "text/utf8.h"

namespace dsv4::text {

namespace {

// Rust's char::is_whitespace (the White_Space property), which lstrip/rstrip use.
bool is_white_space(uint32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000;
}

// Start of the code point that ends just before byte offset i (i > 0, text valid UTF-8).
size_t prev_char_start(std::string_view text, size_t i) {
    do --i;
    while (i > 0 && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80);
    return i;
}

}  // namespace

void AddedTokenMatcher::Trie::add(const std::string& s, int32_t token_index) {
    if (token_at.empty()) token_at.push_back(-1);
    int32_t node = 0;
    for (unsigned char c : s) {
        const uint64_t key = (uint64_t(node) << 8) | c;
        auto it = edges.find(key);
        if (it == edges.end()) {
            const int32_t child = int32_t(token_at.size());
            token_at.push_back(-1);
            it = edges.emplace(key, child).first;
        }
        node = it->second;
    }
    token_at[size_t(node)] = token_index;
    first_byte[static_cast<unsigned char>(s[0])] = true;
}

AddedTokenMatcher::AddedTokenMatcher(const std::vector<AddedToken>& tokens) : tokens_(tokens) {
    bool any_single_word = false;
    for (size_t i = 0; i < tokens_.size(); ++i) {
        if (tokens_[i].content.empty()) continue;
        (tokens_[i].normalized ? normalized_ : raw_).add(tokens_[i].content, int32_t(i));
        any_single_word |= tokens_[i].single_word;
    }
    // Rust's char::is_alphanumeric: Alphabetic or a numeric category.
    if (any_single_word) word_char_ = std::make_unique<Regex>("[\\p{Alphabetic}\\p{N}]");
}

AddedTokenMatcher::~AddedTokenMatcher() = default;

void AddedTokenMatcher::match(const Trie& trie, std::string_view text, size_t begin, size_t end,
                              std::vector<Segment>& out) const {
    size_t start_offset = begin;  // end of the previous emitted segment
    size_t i = begin;
    while (i < end) {
        if (trie.token_at.empty() || !trie.first_byte[static_cast<unsigned char>(text[i])]) {
            ++i;
            continue;
        }
        // Longest token starting at i.
        int32_t node = 0, best = -1;
        size_t best_end = i;
        for (size_t j = i; j < end; ++j) {
            auto it = trie.edges.find((uint64_t(node) << 8) | static_cast<unsigned char>(text[j]));
            if (it == trie.edges.end()) break;
            node = it->second;
            if (trie.token_at[size_t(node)] >= 0) {
                best = trie.token_at[size_t(node)];
                best_end = j + 1;
            }
        }
        if (best < 0) {
            ++i;
            continue;
        }
        const AddedToken& t = tokens_[size_t(best)];
        size_t a = i, b = best_end;
        if (t.single_word) {
            const bool left_ok = a == begin || !word_char_->matches_at(text, prev_char_start(text, a));
            const bool right_ok = b >= end || !word_char_->matches_at(text, b);
            if (!left_ok || !right_ok) {
                i = best_end;  // the match is consumed and dropped, as Hugging Face's match iterator does
                continue;
            }
        }
        if (t.lstrip) {
            while (a > start_offset) {
                size_t k = prev_char_start(text, a), k2 = k;
                if (!is_white_space(utf8_next(text, k2))) break;
                a = k;
            }
        }
        if (t.rstrip) {
            while (b < end) {
                size_t k = b;
                if (!is_white_space(utf8_next(text, k))) break;
                b = k;
            }
        }
        if (a > start_offset) out.push_back({start_offset, a, -1});
        out.push_back({a, b, t.id});
        start_offset = i = b;
    }
    if (end > start_offset) out.push_back({start_offset, end, -1});
}

std::vector<AddedTokenMatcher::Segment> AddedTokenMatcher::split(std::string_view text) const {
    std::vector<Segment> first, out;
    match(raw_, text, 0, text.size(), first);
    for (const auto& s : first) {
        if (s.id >= 0)
            out.push_back(s);
        else
            match(normalized_, text, s.begin, s.end, out);
    }
    return out;
}

}  // namespace dsv4::text
