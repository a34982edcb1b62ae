#include "text/pretokenizer.h"

#include <algorithm>
#include <utility>

#include "error.h"
#include "text/regex.h"

namespace dsv4::text {

namespace {

using Json = nlohmann::json;
using Ranges = std::vector<std::pair<size_t, size_t>>;

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

Behavior parse_behavior(const std::string& b) {
    if (b == "Removed") return Behavior::Removed;
    if (b == "Isolated") return Behavior::Isolated;
    if (b == "MergedWithPrevious") return Behavior::MergedWithPrevious;
    if (b == "MergedWithNext") return Behavior::MergedWithNext;
    if (b == "Contiguous") return Behavior::Contiguous;
    fail(DSV4_STATUS_UNSUPPORTED, "tokenizer.json: Split behavior \"" + b + "\" is not supported");
}

// Splits one piece given the ranges a pattern matched, following the Hugging Face rules: the text
// becomes alternating (gap, match) spans, combined according to the behavior; empty spans vanish.
void split_by_matches(const std::string& piece, const Ranges& matches, Behavior behavior, bool invert,
                      std::vector<std::string>& out) {
    struct Span {
        size_t a, b;
        bool is_match;
    };
    std::vector<Span> spans;
    size_t prev = 0;
    for (const auto& [a, b] : matches) {
        if (a > prev) spans.push_back({prev, a, false});
        spans.push_back({a, b, true});
        prev = b;
    }
    if (prev < piece.size()) spans.push_back({prev, piece.size(), false});
    if (invert)
        for (auto& s : spans) s.is_match = !s.is_match;

    std::vector<std::pair<size_t, size_t>> parts;
    switch (behavior) {
        case Behavior::Isolated:
            for (const auto& s : spans) parts.emplace_back(s.a, s.b);
            break;
        case Behavior::Removed:
            for (const auto& s : spans)
                if (!s.is_match) parts.emplace_back(s.a, s.b);
            break;
        case Behavior::MergedWithPrevious: {
            // A match joins the span before it (unless that span is itself a match).
            bool prev_match = false;
            for (const auto& s : spans) {
                if (s.is_match && !prev_match && !parts.empty())
                    parts.back().second = s.b;
                else
                    parts.emplace_back(s.a, s.b);
                prev_match = s.is_match;
            }
            break;
        }
        case Behavior::MergedWithNext: {
            // The mirror image: walk backwards, a match joins the span after it.
            bool next_match = false;
            for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
                if (it->is_match && !next_match && !parts.empty())
                    parts.back().first = it->a;
                else
                    parts.emplace_back(it->a, it->b);
                next_match = it->is_match;
            }
            std::reverse(parts.begin(), parts.end());
            break;
        }
        case Behavior::Contiguous: {
            // Consecutive spans of the same kind join.
            bool prev_match = false;
            for (const auto& s : spans) {
                if (s.is_match == prev_match && !parts.empty())
                    parts.back().second = s.b;
                else
                    parts.emplace_back(s.a, s.b);
                prev_match = s.is_match;
            }
            break;
        }
    }
    for (const auto& [a, b] : parts)
        if (b > a) out.emplace_back(piece.substr(a, b - a));
}

class Sequence : public PreTokenizer {
public:
    explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
    void split(std::vector<std::string>& pieces) const override {
        for (const auto& s : steps_) s->split(pieces);
    }

private:
    std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

class RegexSplit : public PreTokenizer {
public:
    RegexSplit(const std::string& pattern, Behavior behavior, bool invert)
        : regex_(pattern), behavior_(behavior), invert_(invert) {}
    void split(std::vector<std::string>& pieces) const override {
        std::vector<std::string> out;
        out.reserve(pieces.size() * 2);
        Ranges matches;
        for (const auto& p : pieces) {
            matches.clear();
            regex_.find_all(p, matches);
            split_by_matches(p, matches, behavior_, invert_, out);
        }
        pieces.swap(out);
    }

private:
    Regex regex_;
    Behavior behavior_;
    bool invert_;
};

class StringSplit : public PreTokenizer {
public:
    StringSplit(std::string needle, Behavior behavior, bool invert)
        : needle_(std::move(needle)), behavior_(behavior), invert_(invert) {}
    void split(std::vector<std::string>& pieces) const override {
        std::vector<std::string> out;
        Ranges matches;
        for (const auto& p : pieces) {
            matches.clear();
            if (!needle_.empty())
                for (size_t at = p.find(needle_); at != std::string::npos; at = p.find(needle_, at + needle_.size()))
                    matches.emplace_back(at, at + needle_.size());
            split_by_matches(p, matches, behavior_, invert_, out);
        }
        pieces.swap(out);
    }

private:
    std::string needle_;
    Behavior behavior_;
    bool invert_;
};

// ByteLevel's own splitting (GPT-2's pattern, part of that component's definition) and its optional
// prefix space; the byte-to-character mapping itself is left to the BPE model.
class ByteLevel : public PreTokenizer {
public:
    ByteLevel(bool add_prefix_space, bool use_regex) : add_prefix_space_(add_prefix_space) {
        if (use_regex)
            regex_ = std::make_unique<Regex>(
                "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");
    }
    void split(std::vector<std::string>& pieces) const override {
        if (add_prefix_space_)
            for (auto& p : pieces)
                if (p.empty() || p[0] != ' ') p.insert(p.begin(), ' ');
        if (!regex_) return;
        std::vector<std::string> out;
        Ranges matches;
        for (const auto& p : pieces) {
            matches.clear();
            regex_->find_all(p, matches);
            split_by_matches(p, matches, Behavior::Isolated, false, out);
        }
        pieces.swap(out);
    }

private:
    bool add_prefix_space_;
    std::unique_ptr<Regex> regex_;
};

class Identity : public PreTokenizer {
public:
    void split(std::vector<std::string>&) const override {}
};

bool flag(const Json& j, const char* key, bool dflt) {
    auto it = j.find(key);
    return it != j.end() && it->is_boolean() ? it->get<bool>() : dflt;
}

}  // namespace

std::unique_ptr<PreTokenizer> PreTokenizer::from_json(const Json& j) {
    if (j.is_null()) return std::make_unique<Identity>();
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
        fail(DSV4_STATUS_FORMAT, "tokenizer.json: a pre_tokenizer needs a \"type\"");
    const std::string type = j["type"];
    if (type == "Sequence") {
        std::vector<std::unique_ptr<PreTokenizer>> steps;
        for (const auto& s : j.value("pretokenizers", Json::array())) steps.push_back(from_json(s));
        return std::make_unique<Sequence>(std::move(steps));
    }
    if (type == "Split") {
        const Json& pat = j.value("pattern", Json::object());
        const Behavior b = parse_behavior(j.value("behavior", std::string("Isolated")));
        const bool invert = flag(j, "invert", false);
        if (pat.contains("Regex") && pat["Regex"].is_string())
            return std::make_unique<RegexSplit>(pat["Regex"], b, invert);
        if (pat.contains("String") && pat["String"].is_string())
            return std::make_unique<StringSplit>(pat["String"], b, invert);
        fail(DSV4_STATUS_FORMAT, "tokenizer.json: a Split pre_tokenizer needs a Regex or String pattern");
    }
    if (type == "ByteLevel")
        return std::make_unique<ByteLevel>(flag(j, "add_prefix_space", false), flag(j, "use_regex", true));
    fail(DSV4_STATUS_UNSUPPORTED, "tokenizer.json: pre_tokenizer type \"" + type + "\" is not supported");
}

}  // namespace dsv4::text
