#include "text/stream_decoder.h"

#include "error.h"
#include "text/byte_level.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

namespace dsv4::text {

namespace {
const char* const kReplacement = "\xEF\xBF\xBD";  // U+FFFD
}

size_t utf8_invalid_span(const std::string& s, size_t i) {
    const int len = utf8_sequence_length(static_cast<unsigned char>(s[i]));
    if (len <= 1) return 1;
    // Grow while the bytes still form a valid prefix of some sequence.
    size_t k = 1;
    while (k < size_t(len) && i + k < s.size()) {
        const int r = utf8_check_sequence(std::string_view(s).substr(i, k + 1), 0);
        if (r == 0) break;
        ++k;
    }
    return k;
}

void ByteAssembler::push(int32_t id, std::string& out) {
    const Tokenizer::Piece& p = tok_.piece(id);
    if (p.kind == Tokenizer::Piece::None)
        fail(DSV4_STATUS_INVALID_ARGUMENT, "token id " + std::to_string(id) + " is not in the vocabulary (size " +
                                               std::to_string(tok_.vocab_size()) + ")");
    if (p.special && skip_special_) return;
    if (p.kind == Tokenizer::Piece::FallbackByte) {
        fallback_ += p.bytes;
        resolve_fallback(false, out);
        return;
    }
    resolve_fallback(true, out);
    out += p.bytes;
}

void ByteAssembler::finish(std::string& out) { resolve_fallback(true, out); }

void ByteAssembler::resolve_fallback(bool force, std::string& out) {
    size_t i = 0;
    while (i < fallback_.size()) {
        const int r = utf8_check_sequence(fallback_, i);
        if (r > 0) {
            // A whole character of fallback bytes stands for one byte-level character.
            size_t j = i;
            const uint32_t cp = utf8_next(fallback_, j);
            const int b = codepoint_to_byte(cp);
            if (b >= 0)
                out.push_back(char(b));
            else
                out.append(fallback_, i, size_t(r));
            i += size_t(r);
        } else if (r < 0 && !force) {
            break;  // may complete with the next <0xXX> token
        } else {
            out += kReplacement;
            i += utf8_invalid_span(fallback_, i);
        }
    }
    fallback_.erase(0, i);
}

std::string StreamDecoder::take_complete(bool final) {
    std::string out;
    size_t i = 0;
    while (i < pending_.size()) {
        const auto c = static_cast<unsigned char>(pending_[i]);
        if (c < 0x80) {
            out.push_back(char(c));
            ++i;
            continue;
        }
        const int r = utf8_check_sequence(pending_, i);
        if (r > 0) {
            out.append(pending_, i, size_t(r));
            i += size_t(r);
        } else if (r < 0 && !final) {
            break;  // an unfinished character: hold it back
        } else {
            out += kReplacement;
            i += utf8_invalid_span(pending_, i);
        }
    }
    pending_.erase(0, i);
    return out;
}

std::string StreamDecoder::feed(int32_t id) {
    bytes_.push(id, pending_);
    return take_complete(false);
}

std::string StreamDecoder::flush() {
    bytes_.finish(pending_);
    return take_complete(true);
}

void StreamDecoder::reset() {
    std::string discard;
    bytes_.finish(discard);
    pending_.clear();
}

}  // namespace dsv4::text
