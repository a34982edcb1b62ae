#include "text/bpe.h"

#include <cstdio>
#include <queue>

#include "error.h"
#include "text/byte_level.h"
#include "text/utf8.h"

namespace dsv4::text {

namespace {

using Json = nlohmann::json;

int32_t lookup(const std::unordered_map<std::string, int32_t>& vocab, const std::string& token) {
    auto it = vocab.find(token);
    return it == vocab.end() ? -1 : it->second;
}

}  // namespace

Bpe::Bpe(const Json& model, const std::unordered_map<std::string, int32_t>& vocab) : vocab_(vocab) {
    auto get_bool = [&](const char* key) {
        auto it = model.find(key);
        return it != model.end() && it->is_boolean() && it->get<bool>();
    };
    byte_fallback_ = get_bool("byte_fallback");
    fuse_unk_ = get_bool("fuse_unk");
    ignore_merges_ = get_bool("ignore_merges");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
        auto it = model.find(key);
        if (it != model.end() && !it->is_null() && !(it->is_string() && it->get<std::string>().empty()))
            fail(DSV4_STATUS_UNSUPPORTED, std::string("tokenizer.json: BPE ") + key + " is not supported");
    }
    auto dropout = model.find("dropout");
    if (dropout != model.end() && !dropout->is_null() && dropout->get<double>() > 0)
        fail(DSV4_STATUS_UNSUPPORTED,
             "tokenizer.json: BPE dropout is not supported (encoding would not be deterministic)");
    auto unk = model.find("unk_token");
    if (unk != model.end() && unk->is_string()) {
        unk_id_ = lookup(vocab, unk->get<std::string>());
        if (unk_id_ < 0)
            fail(DSV4_STATUS_FORMAT, "tokenizer.json: BPE unk_token " + unk->dump() + " is not in the vocab");
    }

    for (int b = 0; b < 256; ++b) {
        std::string stand_in;
        utf8_append(stand_in, byte_to_codepoint(uint8_t(b)));
        byte_id_[b] = lookup(vocab, stand_in);
        // A byte missing from the vocab falls back to <0xXX> tokens for the UTF-8 bytes of its
        // stand-in character (what Hugging Face does for a character absent from the vocab).
        if (byte_id_[b] < 0 && byte_fallback_) {
            std::vector<int32_t> ids;
            for (unsigned char u : stand_in) {
                char name[8];
                std::snprintf(name, sizeof name, "<0x%02X>", unsigned(u));
                const int32_t id = lookup(vocab, name);
                if (id < 0) {
                    ids.clear();
                    break;
                }
                ids.push_back(id);
            }
            fallback_ids_[b] = std::move(ids);
        }
    }

    const Json& merges = model.value("merges", Json::array());
    merges_.reserve(merges.size() * 2);
    int32_t rank = 0;
    for (const auto& m : merges) {
        std::string left, right;
        if (m.is_string()) {
            // Legacy form "a b": byte-level tokens never contain a plain space.
            const std::string& s = m.get_ref<const std::string&>();
            const size_t sp = s.find(' ');
            if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
                fail(DSV4_STATUS_FORMAT,
                     "tokenizer.json: merge " + std::to_string(rank) + " \"" + s + "\" is not two tokens");
            left = s.substr(0, sp);
            right = s.substr(sp + 1);
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
            left = m[0].get<std::string>();
            right = m[1].get<std::string>();
        } else {
            fail(DSV4_STATUS_FORMAT,
                 "tokenizer.json: merge " + std::to_string(rank) + " is neither \"a b\" nor [a, b]");
        }
        const int32_t a = lookup(vocab, left), b = lookup(vocab, right), ab = lookup(vocab, left + right);
        if (a < 0 || b < 0 || ab < 0)
            fail(DSV4_STATUS_FORMAT, "tokenizer.json: merge " + std::to_string(rank) + " (" + left + " " + right +
                                         ") uses a token that is not in the vocab");
        merges_.insert_or_assign(pair_key(a, b), Merge{rank, ab});  // a repeated pair: the last wins, as in HF
        ++rank;
    }
}

void Bpe::encode_word(std::string_view bytes, std::vector<int32_t>& out) const {
    if (bytes.empty()) return;
    const bool cacheable = bytes.size() <= kCacheMaxWordBytes;
    if (cacheable) {
        std::lock_guard<std::mutex> lock(cache_mutex_);
        auto it = cache_.find(std::string(bytes));
        if (it != cache_.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    std::vector<int32_t> ids;
    merge_word(bytes, ids);
    out.insert(out.end(), ids.begin(), ids.end());
    if (cacheable) {
        std::lock_guard<std::mutex> lock(cache_mutex_);
        if (cache_.size() < kCacheMaxEntries) cache_.emplace(std::string(bytes), std::move(ids));
    }
}

void Bpe::merge_word(std::string_view bytes, std::vector<int32_t>& out) const {
    if (ignore_merges_) {
        const int32_t whole = lookup(vocab_, bytes_to_byte_level(bytes));
        if (whole >= 0) {
            out.push_back(whole);
            return;
        }
    }

    // Symbols form a doubly linked list; merged-away symbols are marked dead.
    struct Symbol {
        int32_t id;
        int32_t prev, next;
        bool alive;
    };
    std::vector<Symbol> sym;
    sym.reserve(bytes.size());
    bool last_was_unk = false;
    for (unsigned char b : bytes) {
        if (byte_id_[b] >= 0) {
            sym.push_back({byte_id_[b], 0, 0, true});
            last_was_unk = false;
        } else if (!fallback_ids_[b].empty()) {
            for (int32_t id : fallback_ids_[b]) sym.push_back({id, 0, 0, true});
            last_was_unk = false;
        } else if (unk_id_ >= 0) {
            if (!(fuse_unk_ && last_was_unk)) sym.push_back({unk_id_, 0, 0, true});
            last_was_unk = true;
        }
        // Without an unk token an unknown byte is dropped, as Hugging Face does.
    }
    const int32_t n = int32_t(sym.size());
    for (int32_t i = 0; i < n; ++i) {
        sym[size_t(i)].prev = i - 1;
        sym[size_t(i)].next = i + 1 < n ? i + 1 : -1;
    }

    struct Candidate {
        int32_t rank, pos, id;
        bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
    auto consider = [&](int32_t pos) {
        const Symbol& l = sym[size_t(pos)];
        if (l.next < 0) return;
        auto it = merges_.find(pair_key(l.id, sym[size_t(l.next)].id));
        if (it != merges_.end()) queue.push({it->second.rank, pos, it->second.id});
    };
    for (int32_t i = 0; i + 1 < n; ++i) consider(i);

    while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        Symbol& l = sym[size_t(c.pos)];
        if (!l.alive || l.next < 0) continue;
        Symbol& r = sym[size_t(l.next)];
        // Stale entries (a neighbour changed since it was queued) no longer name this pair's merge.
        auto it = merges_.find(pair_key(l.id, r.id));
        if (it == merges_.end() || it->second.id != c.id) continue;
        l.id = c.id;
        r.alive = false;
        l.next = r.next;
        if (l.next >= 0) sym[size_t(l.next)].prev = c.pos;
        if (l.prev >= 0) consider(l.prev);
        consider(c.pos);
    }
    for (int32_t i = 0; i >= 0 && i < n; i = sym[size_t(i)].next) out.push_back(sym[size_t(i)].id);
}

}  // namespace dsv4::text
