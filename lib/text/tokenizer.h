// A Hugging Face tokenizer.json (byte-level BPE, as DeepSeek ships) with encode, decode and
// token lookups. Immutable after loading; every method may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/added_tokens.h"
#include "text/bpe.h"
#include "text/pretokenizer.h"

namespace dsv4::text {

class Tokenizer {
public:
    // Reads tokenizer.json, and tokenizer_config.json from the same directory when present (it names
    // the BOS and EOS tokens). Throws DSV4_STATUS_IO / FORMAT / UNSUPPORTED naming the file.
    static std::unique_ptr<Tokenizer> from_file(const std::string& tokenizer_json_path);
    // From the two documents' text (config may be empty); `source` names them in errors.
    static std::unique_ptr<Tokenizer> from_json(const std::string& tokenizer_json, const std::string& config_json,
                                                const std::string& source);

    // Encodes UTF-8 text. With parse_special, added tokens written in the text become their ids (as
    // Hugging Face always does); without it the text is all ordinary text. Invalid UTF-8 fails with
    // DSV4_STATUS_INVALID_ARGUMENT naming the byte offset.
    std::vector<int32_t> encode(std::string_view text, bool parse_special, bool add_bos) const;

    // Bytes of the ids (may end inside a UTF-8 sequence: use StreamDecoder for display text).
    // Unknown ids fail with DSV4_STATUS_INVALID_ARGUMENT.
    std::string decode(const int32_t* ids, size_t n, bool skip_special) const;

    int32_t vocab_size() const { return int32_t(tokens_.size()); }
    // The token's string as tokenizer.json writes it (byte-level characters), or nullptr.
    const std::string* token_string(int32_t id) const;
    std::optional<int32_t> token_id(std::string_view token_string) const;
    bool is_special(int32_t id) const;
    int32_t bos_id() const { return bos_id_; }
    int32_t eos_id() const { return eos_id_; }

    // What decoding one token contributes, for the streaming decoder.
    struct Piece {
        enum Kind : uint8_t { None, Bytes, FallbackByte } kind = None;
        bool special = false;
        std::string bytes;  // Bytes: the raw bytes; FallbackByte: the one byte of a <0xXX> token
    };
    const Piece& piece(int32_t id) const;

    // How far the largest id may lie beyond the number of tokens listed (FORMAT error past it).
    static constexpr size_t kMaxIdGap = 65536;

private:
    Tokenizer() = default;
    static std::unique_ptr<Tokenizer> parse(const std::string& tokenizer_json, const std::string& config_json,
                                            const std::string& source);

    std::vector<std::string> tokens_;                   // id -> tokenizer.json string ("" for unused ids)
    std::vector<Piece> pieces_;                         // id -> decoded contribution
    std::unordered_map<std::string, int32_t> vocab_;    // model vocab: token string -> id
    std::unordered_map<std::string, int32_t> by_text_;  // model vocab and added tokens
    std::unique_ptr<Bpe> bpe_;
    std::unique_ptr<PreTokenizer> pre_;
    std::unique_ptr<AddedTokenMatcher> added_;
    int32_t bos_id_ = -1;
    int32_t eos_id_ = -1;
};

}  // namespace dsv4::text
