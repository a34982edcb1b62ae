#include "text/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "error.h"
#include "text/utf8.h"

namespace dsv4::text {

namespace {

std::string pcre2_message(int code) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(code, buf, sizeof buf);
    return reinterpret_cast<const char*>(buf);
}

// Per-thread match state, shared by every pattern: one match data block (only the whole-match
// offsets are used) and a JIT stack big enough for long runs of whitespace.
struct Scratch {
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    pcre2_match_context* context = pcre2_match_context_create(nullptr);
    pcre2_jit_stack* stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
    Scratch() {
        if (!data || !context || !stack) throw std::bad_alloc();
        pcre2_jit_stack_assign(context, nullptr, stack);
    }
    ~Scratch() {
        pcre2_jit_stack_free(stack);
        pcre2_match_context_free(context);
        pcre2_match_data_free(data);
    }
};

Scratch& scratch() {
    thread_local Scratch s;
    return s;
}

}  // namespace

std::string onig_to_pcre2(const std::string& pattern) {
    std::string out;
    out.reserve(pattern.size() + 32);
    for (size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c != '\\' || i + 1 >= pattern.size()) {
            out += c;
            continue;
        }
        const char e = pattern[++i];
        // PCRE2's \s (with UCP) also matches U+180E, which Oniguruma's does not; the White_Space
        // property is exactly Oniguruma's set, and works inside classes as well as outside.
        if (e == 's')
            out += "\\p{White_Space}";
        else if (e == 'S')
            out += "\\P{White_Space}";
        else {
            out += '\\';
            out += e;
        }
    }
    return out;
}

Regex::Regex(const std::string& pattern) : pattern_(pattern) {
    const std::string translated = onig_to_pcre2(pattern);
    pcre2_compile_context* cc = pcre2_compile_context_create(nullptr);
    if (!cc) throw std::bad_alloc();
    pcre2_set_newline(cc, PCRE2_NEWLINE_LF);  // Oniguruma's line anchors know only \n
    int err = 0;
    PCRE2_SIZE err_offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                                     PCRE2_UTF | PCRE2_UCP, &err, &err_offset, cc);
    pcre2_compile_context_free(cc);
    if (!code)
        fail(DSV4_STATUS_FORMAT, "regex " + pattern + " does not compile: " + pcre2_message(err) + " at offset " +
                                     std::to_string(err_offset) + " of " + translated);
    // JIT is a speed-up only: without it pcre2_match interprets the same pattern.
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    code_ = code;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

void Regex::find_all(std::string_view s, std::vector<std::pair<size_t, size_t>>& out) const {
    Scratch& sc = scratch();
    auto* code = static_cast<pcre2_code*>(code_);
    size_t pos = 0;
    while (pos <= s.size()) {
        const int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), pos, PCRE2_NO_UTF_CHECK,
                                   sc.data, sc.context);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) fail(DSV4_STATUS_INTERNAL, "regex " + pattern_ + " failed: " + pcre2_message(rc));
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(sc.data);
        out.emplace_back(size_t(ov[0]), size_t(ov[1]));
        if (ov[1] > ov[0]) {
            pos = ov[1];
        } else {
            // An empty match: the next search starts one character further, as Oniguruma's does.
            if (ov[0] >= s.size()) break;
            const int n = utf8_sequence_length(static_cast<unsigned char>(s[ov[0]]));
            pos = ov[0] + size_t(n > 0 ? n : 1);
        }
    }
}

bool Regex::matches_at(std::string_view s, size_t at) const {
    Scratch& sc = scratch();
    const int rc = pcre2_match(static_cast<pcre2_code*>(code_), reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), at,
                               PCRE2_NO_UTF_CHECK | PCRE2_ANCHORED, sc.data, sc.context);
    if (rc == PCRE2_ERROR_NOMATCH) return false;
    if (rc < 0) fail(DSV4_STATUS_INTERNAL, "regex " + pattern_ + " failed: " + pcre2_message(rc));
    return true;
}

}  // namespace dsv4::text
