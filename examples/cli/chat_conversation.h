// The messages of a `dsv4 chat` conversation and the prompt they render to (dsv4_chat_encode).
// Every turn re-renders the whole conversation; the engine then reuses the session's prefix.
#pragma once

#include <string>

#include <dsv4/dsv4.h>
#include <nlohmann/json.hpp>

namespace cli {

class Conversation {
public:
    Conversation(dsv4_chat_mode mode, const std::string& system);

    void add_user(const std::string& text);
    // Drops the last message (a user turn whose answer never started).
    void pop();
    // The assistant's answer from the generated text. `ended_with_eos`: generation stopped at the
    // EOS token (which the text leaves out). An answer that does not parse (cut off by Ctrl-C or
    // max tokens) is kept as plain text.
    void add_answer(const std::string& completion, bool ended_with_eos);
    // The prompt text for the next answer.
    dsv4_status prompt(std::string* out) const;

private:
    dsv4_chat_mode mode_;
    nlohmann::json messages_ = nlohmann::json::array();
};

}  // namespace cli
