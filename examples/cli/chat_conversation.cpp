#include "chat_conversation.h"

namespace cli {

namespace {
// DeepSeek-V4's end of an assistant turn: the chat format's text for EOS, whatever the tokenizer.
constexpr const char* kEos =
    "<\xEF\xBD\x9C"
    "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>";
constexpr const char* kEndThink = "</think>";
}  // namespace

Conversation::Conversation(dsv4_chat_mode mode, const std::string& system) : mode_(mode) {
    if (!system.empty()) messages_.push_back({{"role", "system"}, {"content", system}});
}

void Conversation::add_user(const std::string& text) {
    messages_.push_back({{"role", "user"}, {"content", text}});
}

void Conversation::pop() {
    if (!messages_.empty()) messages_.erase(messages_.end() - 1);
}

void Conversation::add_answer(const std::string& completion, bool ended_with_eos) {
    const std::string full = completion + (ended_with_eos ? kEos : "");
    char* parsed = nullptr;
    if (dsv4_chat_parse(full.data(), full.size(), mode_, &parsed) == DSV4_STATUS_OK) {
        nlohmann::json msg = nlohmann::json::parse(parsed, nullptr, false);
        dsv4_string_free(parsed);
        if (msg.is_object()) {
            messages_.push_back(std::move(msg));
            return;
        }
    }
    nlohmann::json msg = {{"role", "assistant"}, {"content", completion}};
    if (mode_ == DSV4_CHAT_MODE_THINKING) {
        // Thinking answers start inside the reasoning.
        const size_t end = completion.find(kEndThink);
        msg["reasoning_content"] = completion.substr(0, end);
        msg["content"] = end == std::string::npos ? "" : completion.substr(end + std::string(kEndThink).size());
    }
    messages_.push_back(std::move(msg));
}

dsv4_status Conversation::prompt(std::string* out) const {
    dsv4_chat_params p;
    dsv4_chat_params_init(&p);
    p.mode = mode_;
    char* text = nullptr;
    // Replacement characters keep invalid UTF-8 typed by the user from failing the whole turn.
    const std::string json = messages_.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    const dsv4_status st = dsv4_chat_encode(json.c_str(), &p, &text);
    if (st != DSV4_STATUS_OK) return st;
    *out = text;
    dsv4_string_free(text);
    return DSV4_STATUS_OK;
}

}  // namespace cli
