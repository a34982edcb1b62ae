// A PCRE2 (JIT, UTF, Unicode properties) regex that follows the Oniguruma semantics Hugging Face
// tokenizer.json patterns are written for: \s and \S mean the Unicode White_Space property.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dsv4::text {

class Regex {
public:
    // Throws dsv4::Error(DSV4_STATUS_FORMAT) with PCRE2's message and offset when it does not compile.
    explicit Regex(const std::string& pattern);
    ~Regex();
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;

    // Appends the [start, end) byte ranges of successive non-overlapping matches in s (leftmost
    // first). s must be valid UTF-8. Safe to call from several threads at once.
    void find_all(std::string_view s, std::vector<std::pair<size_t, size_t>>& out) const;

    // Whether the pattern matches starting exactly at byte offset `at`.
    bool matches_at(std::string_view s, size_t at) const;

    const std::string& pattern() const { return pattern_; }

private:
    std::string pattern_;
    void* code_ = nullptr;  // pcre2_code_8
};

// Oniguruma -> PCRE2 spelling of a pattern (exposed for tests).
std::string onig_to_pcre2(const std::string& pattern);

}  // namespace dsv4::text
