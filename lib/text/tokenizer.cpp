#include "text/tokenizer.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>

#include "error.h"
#include "text/byte_level.h"
#include "text/stream_decoder.h"
#include "text/utf8.h"

namespace dsv4::text {

namespace {

using Json = nlohmann::json;

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) fail(DSV4_STATUS_IO, "cannot open " + path);
    std::ostringstream ss;
    ss << f.rdbuf();
    if (f.bad()) fail(DSV4_STATUS_IO, "cannot read " + path);
    return ss.str();
}

bool file_exists(const std::string& path) {
    return std::ifstream(path).good();
}

// Whether a component tree (pre_tokenizer, decoder) contains a component of this type.
bool has_type(const Json& j, const std::string& type) {
    if (j.is_object()) {
        auto t = j.find("type");
        if (t != j.end() && t->is_string() && *t == type) return true;
        for (const auto& [k, v] : j.items())
            if (has_type(v, type)) return true;
    } else if (j.is_array()) {
        for (const auto& v : j)
            if (has_type(v, type)) return true;
    }
    return false;
}

// Decoder components whose effect this tokenizer reproduces; anything else is refused.
void check_decoder(const Json& d, const std::string& source) {
    if (d.is_null()) fail(DSV4_STATUS_UNSUPPORTED, source + ": a tokenizer without a decoder is not supported");
    const std::string type = d.value("type", "");
    if (type == "Sequence") {
        for (const auto& s : d.value("decoders", Json::array())) check_decoder(s, source);
        return;
    }
    if (type != "ByteLevel" && type != "ByteFallback" && type != "Fuse")
        fail(DSV4_STATUS_UNSUPPORTED, source + ": decoder type \"" + type + "\" is not supported");
}

void check_normalizer(const Json& n, const std::string& source) {
    if (n.is_null()) return;
    if (n.value("type", "") == "Sequence" && n.value("normalizers", Json::array()).empty()) return;
    fail(DSV4_STATUS_UNSUPPORTED, source + ": normalizer " + n.dump().substr(0, 200) + " is not supported");
}

// "<0xAB>" -> 0xAB, or -1.
int fallback_byte(const std::string& t) {
    if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
    int v = 0;
    for (int k = 3; k < 5; ++k) {
        const char c = t[size_t(k)];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

// tokenizer_config.json names special tokens as a string or an AddedToken object.
std::string config_token(const Json& config, const char* key) {
    auto it = config.find(key);
    if (it == config.end()) return "";
    if (it->is_string()) return *it;
    if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) return (*it)["content"];
    return "";
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_file(const std::string& path) {
    const std::string text = read_file(path);
    const size_t slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
    const std::string config_path = dir + "/tokenizer_config.json";
    const std::string config = file_exists(config_path) ? read_file(config_path) : "";
    return from_json(text, config, path);
}

std::unique_ptr<Tokenizer> Tokenizer::from_json(const std::string& text, const std::string& config_text,
                                                const std::string& source) {
    // The checks below name what they expect; a field of another JSON type than the one read
    // (an object where a string belongs, say) surfaces as nlohmann's type error, which
    // becomes a FORMAT error naming the file here (found by tests/fuzz/fuzz_tokenizer.cpp).
    try {
        return parse(text, config_text, source);
    } catch (const nlohmann::json::exception& e) {
        fail(DSV4_STATUS_FORMAT, source + ": a field has an unexpected JSON type or value (" + e.what() + ")");
    }
}

std::unique_ptr<Tokenizer> Tokenizer::parse(const std::string& text, const std::string& config_text,
                                            const std::string& source) {
    Json j = Json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) fail(DSV4_STATUS_FORMAT, source + ": not a JSON object");
    const Json& model = j.value("model", Json::object());
    if (model.value("type", "BPE") != "BPE" || !model.contains("vocab") || !model["vocab"].is_object())
        fail(DSV4_STATUS_UNSUPPORTED, source + ": only BPE models with a vocab object are supported");
    check_normalizer(j.value("normalizer", Json()), source);
    const Json& pre = j.value("pre_tokenizer", Json());
    // BPE runs on bytes, which is only right for a byte-level vocabulary.
    if (!has_type(pre, "ByteLevel"))
        fail(DSV4_STATUS_UNSUPPORTED,
             source + ": only byte-level tokenizers (a ByteLevel pre_tokenizer) are supported");
    const Json& decoder = j.value("decoder", Json());
    check_decoder(decoder, source);
    const bool decode_fallback = has_type(decoder, "ByteFallback");

    std::unique_ptr<Tokenizer> t(new Tokenizer());
    int32_t max_id = -1;
    for (const auto& [token, id] : model["vocab"].items()) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
            fail(DSV4_STATUS_FORMAT, source + ": vocab entry \"" + token + "\" has no valid id");
        t->vocab_[token] = id.get<int32_t>();
        max_id = std::max(max_id, id.get<int32_t>());
    }
    std::vector<AddedToken> added;
    for (const auto& a : j.value("added_tokens", Json::array())) {
        AddedToken at;
        if (!a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") || !a["content"].is_string())
            fail(DSV4_STATUS_FORMAT, source + ": an added token needs an integer id and a string content");
        at.id = a["id"].get<int32_t>();
        if (at.id < 0) fail(DSV4_STATUS_FORMAT, source + ": added token " + a["content"].dump() + " has a negative id");
        at.content = a["content"].get<std::string>();
        at.special = a.value("special", false);
        at.normalized = a.value("normalized", !at.special);
        at.lstrip = a.value("lstrip", false);
        at.rstrip = a.value("rstrip", false);
        at.single_word = a.value("single_word", false);
        max_id = std::max(max_id, at.id);
        added.push_back(std::move(at));
    }

    // Ids may leave gaps (unused ids decode to nothing), but a table sized by one huge id
    // would take gigabytes for a file of a few bytes.
    const size_t n_listed = model["vocab"].size() + added.size();
    if (max_id >= 0 && size_t(max_id) >= n_listed + kMaxIdGap)
        fail(DSV4_STATUS_FORMAT, source + ": token id " + std::to_string(max_id) + " is more than " +
                                     std::to_string(kMaxIdGap) + " beyond the " + std::to_string(n_listed) +
                                     " tokens the file lists");
    t->tokens_.assign(size_t(max_id + 1), std::string());
    t->pieces_.assign(size_t(max_id + 1), Piece());
    for (const auto& [token, id] : t->vocab_) {
        t->tokens_[size_t(id)] = token;
        Piece& p = t->pieces_[size_t(id)];
        const int fb = decode_fallback ? fallback_byte(token) : -1;
        p.kind = fb >= 0 ? Piece::FallbackByte : Piece::Bytes;
        p.bytes = fb >= 0 ? std::string(1, char(fb)) : byte_level_to_bytes(token);
    }
    t->by_text_ = t->vocab_;
    for (const auto& at : added) {
        t->tokens_[size_t(at.id)] = at.content;
        Piece& p = t->pieces_[size_t(at.id)];
        p.kind = Piece::Bytes;
        p.bytes = at.content;  // added tokens decode to their content as is
        p.special = at.special;
        t->by_text_[at.content] = at.id;
    }

    t->bpe_ = std::make_unique<Bpe>(model, t->vocab_);
    t->pre_ = PreTokenizer::from_json(pre);
    t->added_ = std::make_unique<AddedTokenMatcher>(added);

    if (!config_text.empty()) {
        Json config = Json::parse(config_text, nullptr, false);
        if (config.is_discarded()) fail(DSV4_STATUS_FORMAT, source + ": tokenizer_config.json is not valid JSON");
        for (auto [key, slot] :
             {std::pair<const char*, int32_t*>{"bos_token", &t->bos_id_}, {"eos_token", &t->eos_id_}}) {
            const std::string name = config_token(config, key);
            if (name.empty()) continue;
            auto id = t->token_id(name);
            if (!id)
                fail(DSV4_STATUS_FORMAT,
                     source + ": tokenizer_config.json " + key + " \"" + name + "\" is not a token");
            *slot = *id;
        }
    }
    return t;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special, bool add_bos) const {
    utf8_require_valid(text, "text");
    std::vector<int32_t> ids;
    if (add_bos) {
        if (bos_id_ < 0)
            fail(DSV4_STATUS_INVALID_ARGUMENT,
                 "this tokenizer has no BOS token (no bos_token in tokenizer_config.json)");
        ids.push_back(bos_id_);
    }
    std::vector<AddedTokenMatcher::Segment> segments;
    if (parse_special)
        segments = added_->split(text);
    else if (!text.empty())
        segments.push_back({0, text.size(), -1});
    ids.reserve(ids.size() + text.size() / 3);
    std::vector<std::string> pieces;
    for (const auto& s : segments) {
        if (s.id >= 0) {
            ids.push_back(s.id);
            continue;
        }
        pieces.clear();
        pieces.emplace_back(text.substr(s.begin, s.end - s.begin));
        pre_->split(pieces);
        for (const auto& p : pieces) bpe_->encode_word(p, ids);
    }
    return ids;
}

std::string Tokenizer::decode(const int32_t* ids, size_t n, bool skip_special) const {
    ByteAssembler assembler(*this, skip_special);
    std::string out;
    for (size_t i = 0; i < n; ++i) assembler.push(ids[i], out);
    assembler.finish(out);
    return out;
}

const std::string* Tokenizer::token_string(int32_t id) const {
    if (id < 0 || size_t(id) >= tokens_.size() || pieces_[size_t(id)].kind == Piece::None) return nullptr;
    return &tokens_[size_t(id)];
}

std::optional<int32_t> Tokenizer::token_id(std::string_view s) const {
    auto it = by_text_.find(std::string(s));
    if (it == by_text_.end()) return std::nullopt;
    return it->second;
}

bool Tokenizer::is_special(int32_t id) const {
    return id >= 0 && size_t(id) < pieces_.size() && pieces_[size_t(id)].special;
}

const Tokenizer::Piece& Tokenizer::piece(int32_t id) const {
    static const Piece none;
    if (id < 0 || size_t(id) >= pieces_.size()) return none;
    return pieces_[size_t(id)];
}

}  // namespace dsv4::text
