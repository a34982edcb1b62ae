#include "generate/text_stream.h"

namespace dsv4::generate {

TextStream::TextStream(const text::Tokenizer& tokenizer, bool skip_special, std::vector<std::string> stop_strings)
    : tok_(tokenizer), decoder_(tokenizer, skip_special), stops_(std::move(stop_strings)) {}

TextStream::Piece TextStream::feed(int32_t token) {
    Piece out;
    if (!tok_.token_string(token)) return out;
    auto r = stops_.feed(decoder_.feed(token));
    out.text = std::move(r.text);
    out.stopped = r.stopped;
    return out;
}

std::string TextStream::finish() {
    auto r = stops_.feed(decoder_.flush());
    // A stop string can only complete in flushed text made of U+FFFD; it still ends the text.
    if (r.stopped) {
        stops_.flush();
        return r.text;
    }
    return r.text + stops_.flush();
}

}  // namespace dsv4::generate
