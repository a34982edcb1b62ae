// Byte-level BPE: a word's bytes start as single-byte tokens and adjacent pairs merge, lowest merge
// rank first (leftmost on ties), exactly as the Hugging Face BPE model does.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace dsv4::text {

class Bpe {
public:
    // `model` is tokenizer.json's "model" object (type "BPE"); `vocab` maps its token strings
    // (byte-level characters) to ids. Throws DSV4_STATUS_FORMAT for merges naming unknown tokens.
    Bpe(const nlohmann::json& model, const std::unordered_map<std::string, int32_t>& vocab);

    // Appends the ids of one pre-tokenized piece (raw bytes). Thread-safe.
    void encode_word(std::string_view bytes, std::vector<int32_t>& out) const;

    bool byte_fallback() const { return byte_fallback_; }

private:
    void merge_word(std::string_view bytes, std::vector<int32_t>& out) const;

    struct Merge {
        int32_t rank;
        int32_t id;
    };
    static uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }

    const std::unordered_map<std::string, int32_t>& vocab_;
    std::unordered_map<uint64_t, Merge> merges_;
    int32_t byte_id_[256];                    // the single-byte token of each byte, -1 if absent
    std::vector<int32_t> fallback_ids_[256];  // <0xXX> tokens standing for a byte absent from the vocab
    int32_t unk_id_ = -1;
    bool byte_fallback_ = false;
    bool fuse_unk_ = false;
    bool ignore_merges_ = false;

    // Repeated words (most of any text) skip the merge loop.
    static constexpr size_t kCacheMaxEntries = 1 << 16;
    static constexpr size_t kCacheMaxWordBytes = 64;
    mutable std::mutex cache_mutex_;
    mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace dsv4::text
