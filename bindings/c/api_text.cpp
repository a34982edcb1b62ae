// Tokenizer and streaming detokenizer functions of the C ABI.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "guard.h"
#include "handles_text.h"

using namespace dsv4;

namespace {

void check_flags(uint32_t flags, uint32_t known, const char* function) {
    if (flags & ~known)
        fail(
            DSV4_STATUS_INVALID_ARGUMENT, std::string(function) + ": unknown bits in flags 0x" + [&] {
                char b[16];
                std::snprintf(b, sizeof b, "%X", flags);
                return std::string(b);
            }());
}

}  // namespace

extern "C" {

DSV4_API dsv4_status dsv4_tokenizer_open(const char* path, dsv4_tokenizer** out) {
    return guarded([&] {
        require_arg(path, "dsv4_tokenizer_open", "tokenizer_json_path");
        require_arg(out, "dsv4_tokenizer_open", "out_tokenizer");
        *out = nullptr;
        auto h = std::make_unique<dsv4_tokenizer>();
        h->tokenizer = text::Tokenizer::from_file(path);
        *out = h.release();
    });
}

DSV4_API dsv4_status dsv4_tokenizer_open_dir(const char* dir, dsv4_tokenizer** out) {
    return guarded([&] {
        require_arg(dir, "dsv4_tokenizer_open_dir", "model_dir");
        require_arg(out, "dsv4_tokenizer_open_dir", "out_tokenizer");
        *out = nullptr;
        std::string path = dir;
        if (!path.empty() && path.back() != '/') path += '/';
        auto h = std::make_unique<dsv4_tokenizer>();
        h->tokenizer = text::Tokenizer::from_file(path + "tokenizer.json");
        *out = h.release();
    });
}

DSV4_API void dsv4_tokenizer_free(dsv4_tokenizer* tokenizer) {
    delete tokenizer;
}

DSV4_API dsv4_status dsv4_tokenizer_encode(const dsv4_tokenizer* tok, const char* text, size_t len, uint32_t flags,
                                           int32_t** out_tokens, size_t* out_n) {
    return guarded([&] {
        require_arg(tok, "dsv4_tokenizer_encode", "tokenizer");
        if (len) require_arg(text, "dsv4_tokenizer_encode", "text");
        require_arg(out_tokens, "dsv4_tokenizer_encode", "out_tokens");
        require_arg(out_n, "dsv4_tokenizer_encode", "out_n_tokens");
        *out_tokens = nullptr;
        *out_n = 0;
        check_flags(flags, DSV4_TOKENIZE_PARSE_SPECIAL | DSV4_TOKENIZE_ADD_BOS, "dsv4_tokenizer_encode");
        const std::vector<int32_t> ids =
            tok->tokenizer->encode(std::string_view(text ? text : "", len), flags & DSV4_TOKENIZE_PARSE_SPECIAL,
                                   flags & DSV4_TOKENIZE_ADD_BOS);
        // At least one element so that an empty result is still a pointer to free.
        auto* p = static_cast<int32_t*>(std::malloc(std::max<size_t>(ids.size(), 1) * sizeof(int32_t)));
        if (!p) throw std::bad_alloc();
        if (!ids.empty()) std::memcpy(p, ids.data(), ids.size() * sizeof(int32_t));
        *out_tokens = p;
        *out_n = ids.size();
    });
}

DSV4_API void dsv4_tokens_free(int32_t* tokens) {
    std::free(tokens);
}

DSV4_API dsv4_status dsv4_tokenizer_decode(const dsv4_tokenizer* tok, const int32_t* tokens, size_t n, uint32_t flags,
                                           char** out_text, size_t* out_len) {
    return guarded([&] {
        require_arg(tok, "dsv4_tokenizer_decode", "tokenizer");
        if (n) require_arg(tokens, "dsv4_tokenizer_decode", "tokens");
        require_arg(out_text, "dsv4_tokenizer_decode", "out_text");
        *out_text = nullptr;
        if (out_len) *out_len = 0;
        check_flags(flags, DSV4_DETOKENIZE_SKIP_SPECIAL, "dsv4_tokenizer_decode");
        text::StreamDecoder d(*tok->tokenizer, flags & DSV4_DETOKENIZE_SKIP_SPECIAL);
        std::string s;
        for (size_t i = 0; i < n; ++i) {
            try {
                s += d.feed(tokens[i]);
            } catch (const Error& e) {
                fail(e.status(), "dsv4_tokenizer_decode: tokens[" + std::to_string(i) + "]: " + e.what());
            }
        }
        s += d.flush();
        *out_text = to_c_string(s);
        if (out_len) *out_len = s.size();
    });
}

DSV4_API int32_t dsv4_tokenizer_vocab_size(const dsv4_tokenizer* tok) {
    return tok ? tok->tokenizer->vocab_size() : 0;
}

DSV4_API const char* dsv4_tokenizer_token_string(const dsv4_tokenizer* tok, int32_t token) {
    if (!tok) return nullptr;
    const std::string* s = tok->tokenizer->token_string(token);
    return s ? s->c_str() : nullptr;
}

DSV4_API dsv4_status dsv4_tokenizer_token_id(const dsv4_tokenizer* tok, const char* token_string, int32_t* out_token) {
    return guarded([&] {
        require_arg(tok, "dsv4_tokenizer_token_id", "tokenizer");
        require_arg(token_string, "dsv4_tokenizer_token_id", "token_string");
        require_arg(out_token, "dsv4_tokenizer_token_id", "out_token");
        auto id = tok->tokenizer->token_id(token_string);
        if (!id)
            fail(DSV4_STATUS_INVALID_ARGUMENT,
                 std::string("dsv4_tokenizer_token_id: token_string \"") + token_string + "\" is not a token");
        *out_token = *id;
    });
}

DSV4_API bool dsv4_tokenizer_is_special(const dsv4_tokenizer* tok, int32_t token) {
    return tok && tok->tokenizer->is_special(token);
}

DSV4_API int32_t dsv4_tokenizer_bos(const dsv4_tokenizer* tok) {
    return tok ? tok->tokenizer->bos_id() : -1;
}
DSV4_API int32_t dsv4_tokenizer_eos(const dsv4_tokenizer* tok) {
    return tok ? tok->tokenizer->eos_id() : -1;
}

DSV4_API dsv4_status dsv4_detokenizer_create(const dsv4_tokenizer* tok, uint32_t flags, dsv4_detokenizer** out) {
    return guarded([&] {
        require_arg(tok, "dsv4_detokenizer_create", "tokenizer");
        require_arg(out, "dsv4_detokenizer_create", "out_detokenizer");
        *out = nullptr;
        check_flags(flags, DSV4_DETOKENIZE_SKIP_SPECIAL, "dsv4_detokenizer_create");
        *out = new dsv4_detokenizer{text::StreamDecoder(*tok->tokenizer, flags & DSV4_DETOKENIZE_SKIP_SPECIAL), {}};
    });
}

DSV4_API dsv4_status dsv4_detokenizer_feed(dsv4_detokenizer* d, int32_t token, const char** out_text, size_t* out_len) {
    return guarded([&] {
        require_arg(d, "dsv4_detokenizer_feed", "detokenizer");
        require_arg(out_text, "dsv4_detokenizer_feed", "out_text");
        d->last = d->decoder.feed(token);
        *out_text = d->last.c_str();
        if (out_len) *out_len = d->last.size();
    });
}

DSV4_API dsv4_status dsv4_detokenizer_flush(dsv4_detokenizer* d, const char** out_text, size_t* out_len) {
    return guarded([&] {
        require_arg(d, "dsv4_detokenizer_flush", "detokenizer");
        require_arg(out_text, "dsv4_detokenizer_flush", "out_text");
        d->last = d->decoder.flush();
        *out_text = d->last.c_str();
        if (out_len) *out_len = d->last.size();
    });
}

DSV4_API void dsv4_detokenizer_free(dsv4_detokenizer* d) {
    delete d;
}

}  // extern "C"
