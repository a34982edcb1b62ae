// Added tokens (special or not) are matched in the text before anything else and never split:
// leftmost match first, the longest one at that position, as Hugging Face's AddedVocabulary does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dsv4::text {

class Regex;

struct AddedToken {
    int32_t id = -1;
    std::string content;
    bool special = false;
    bool normalized = false;
    bool lstrip = false;
    bool rstrip = false;
    bool single_word = false;
};

class AddedTokenMatcher {
public:
    explicit AddedTokenMatcher(const std::vector<AddedToken>& tokens);
    ~AddedTokenMatcher();

    struct Segment {
        size_t begin, end;  // byte range in the text
        int32_t id;         // the added token, or -1 for ordinary text
    };
    // Splits (valid UTF-8) text into added tokens and the ordinary text between them. As in Hugging
    // Face, tokens with normalized=false are matched first, then normalized ones in what remains
    // (the normalizer is the identity here).
    std::vector<Segment> split(std::string_view text) const;

private:
    struct Trie {
        std::unordered_map<uint64_t, int32_t> edges;  // (node << 8 | byte) -> child node
        std::vector<int32_t> token_at;                // node -> index into tokens_, or -1
        bool first_byte[256] = {};
        void add(const std::string& s, int32_t token_index);
    };
    void match(const Trie& trie, std::string_view text, size_t begin, size_t end, std::vector<Segment>& out) const;

    std::vector<AddedToken> tokens_;
    Trie raw_, normalized_;
    std::unique_ptr<Regex> word_char_;  // for single_word tokens
};

}  // namespace dsv4::text
