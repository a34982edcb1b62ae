// Chat-format functions of the C ABI: messages -> prompt, completion -> message.
#include <cstdlib>
#include <cstring>
#include <string>

#include "guard.h"
#include "text/chat_encode.h"
#include "text/chat_parse.h"

using namespace dsv4;

namespace {

// mode: the caller's dsv4_chat_mode as an integer (enum_as_int).
text::chat::Mode to_mode(int mode, const char* function) {
    if (mode == DSV4_CHAT_MODE_CHAT) return text::chat::Mode::Chat;
    if (mode == DSV4_CHAT_MODE_THINKING) return text::chat::Mode::Thinking;
    fail(DSV4_STATUS_INVALID_ARGUMENT, std::string(function) + ": mode " + std::to_string(mode) +
                                           " is not DSV4_CHAT_MODE_CHAT or DSV4_CHAT_MODE_THINKING");
}

}  // namespace

extern "C" {

DSV4_API void dsv4_chat_params_init(dsv4_chat_params* p) {
    if (!p) return;
    std::memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->mode = DSV4_CHAT_MODE_CHAT;
    p->drop_thinking = true;
    p->reasoning_effort = nullptr;
    p->add_bos = true;
}

DSV4_API dsv4_status dsv4_chat_encode(const char* messages_json, const dsv4_chat_params* params, char** out_prompt) {
    return guarded([&] {
        require_arg(messages_json, "dsv4_chat_encode", "messages_json");
        require_arg(out_prompt, "dsv4_chat_encode", "out_prompt");
        *out_prompt = nullptr;
        dsv4_chat_params p;
        dsv4_chat_params_init(&p);
        copy_params(params, offsetof(dsv4_chat_params, add_bos) + sizeof(bool), p, "dsv4_chat_encode",
                    "dsv4_chat_params_init");
        text::chat::EncodeOptions o;
        o.mode = to_mode(enum_as_int(p.mode), "dsv4_chat_encode");
        o.drop_thinking = p.drop_thinking;
        o.reasoning_effort = p.reasoning_effort ? p.reasoning_effort : "";
        o.add_bos = p.add_bos;
        text::ojson messages = text::ojson::parse(messages_json, nullptr, false);
        if (messages.is_discarded())
            fail(DSV4_STATUS_INVALID_ARGUMENT, "dsv4_chat_encode: messages_json is not valid JSON (or not UTF-8)");
        *out_prompt = to_c_string(text::chat::encode_messages(messages, o));
    });
}

DSV4_API dsv4_status dsv4_chat_parse(const char* completion, size_t len, dsv4_chat_mode mode, char** out_message_json) {
    return guarded([&] {
        if (len) require_arg(completion, "dsv4_chat_parse", "completion");
        require_arg(out_message_json, "dsv4_chat_parse", "out_message_json");
        *out_message_json = nullptr;
        const text::chat::Mode m = to_mode(enum_as_int(mode), "dsv4_chat_parse");
        const text::ojson msg = text::chat::parse_completion(std::string_view(completion ? completion : "", len), m);
        *out_message_json = to_c_string(msg.dump(-1, ' ', false, text::ojson::error_handler_t::strict));
    });
}

}  // extern "C"
