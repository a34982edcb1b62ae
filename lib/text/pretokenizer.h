// The pre-tokenizer of a tokenizer.json: splits text into the pieces BPE encodes one by one.
// Supported: Sequence, Split (Regex or String pattern, every behavior, invert) and ByteLevel.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace dsv4::text {

class PreTokenizer {
public:
    virtual ~PreTokenizer() = default;
    // Replaces `pieces` by their splits. Pieces are raw UTF-8 bytes (the byte-level mapping happens
    // in the BPE model, which works on bytes).
    virtual void split(std::vector<std::string>& pieces) const = 0;

    // Builds from the "pre_tokenizer" object; null gives the identity. Throws DSV4_STATUS_UNSUPPORTED
    // for types it does not implement, DSV4_STATUS_FORMAT for malformed ones.
    static std::unique_ptr<PreTokenizer> from_json(const nlohmann::json& j);
};

}  // namespace dsv4::text
