// libFuzzer target: the chat encoder on arbitrary JSON messages and the completion parser on
// arbitrary text, in both modes. Every failure must be a dsv4::Error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "error.h"
#include "text/chat_encode.h"
#include "text/chat_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    using dsv4::text::chat::Mode;
    for (Mode mode : {Mode::Chat, Mode::Thinking}) {
        try {
            (void)dsv4::text::chat::parse_completion(text, mode);
        } catch (const dsv4::Error&) {
        }
    }
    dsv4::text::ojson messages;
    try {
        messages = dsv4::text::ojson::parse(text);
    } catch (const nlohmann::json::exception&) {
        return 0;  // not JSON: the harness's parse, not the library's
    }
    for (Mode mode : {Mode::Chat, Mode::Thinking})
        for (bool drop : {true, false}) {
            dsv4::text::chat::EncodeOptions o;
            o.mode = mode;
            o.drop_thinking = drop;
            o.reasoning_effort = drop ? "" : "max";
            try {
                (void)dsv4::text::chat::encode_messages(messages, o);
            } catch (const dsv4::Error&) {
            }
        }
    return 0;
}
