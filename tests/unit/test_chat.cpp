// DeepSeek-V4 chat format: the official encoding cases byte for byte, completion parsing (round trips
// of every assistant turn in those cases) and the errors for malformed input.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "dsv4/dsv4.h"
#include "error.h"
#include "text/chat_encode.h"
#include "text/chat_parse.h"

using dsv4::text::ojson;
namespace chat = dsv4::text::chat;

namespace {

ojson load_official_cases() {
    const std::string path = std::string(DSV4_CONFORMANCE_DIR) + "/encoding/cases.json";
    std::ifstream f(path, std::ios::binary);
    INFO("conformance file " << path);
    REQUIRE(f.good());  // the official cases must be present: never skip
    std::stringstream ss;
    ss << f.rdbuf();
    ojson cases = ojson::parse(ss.str());
    REQUIRE(cases.is_array());
    REQUIRE(cases.size() >= 4);
    return cases;
}

chat::Mode mode_of(const ojson& c) {
    return c["thinking_mode"] == "thinking" ? chat::Mode::Thinking : chat::Mode::Chat;
}

// The text a model generates for an assistant turn: what the encoder writes after the assistant
// prefix when that turn follows a single user turn.
std::string completion_of(const ojson& assistant, chat::Mode mode) {
    ojson msgs = ojson::array({{{"role", "user"}, {"content", "q"}}, assistant});
    chat::EncodeOptions o;
    o.mode = mode;
    o.add_bos = false;
    const std::string prompt = chat::encode_messages(msgs, o);
    const std::string prefix =
        std::string("<｜User｜>q<｜Assistant｜>") + (mode == chat::Mode::Thinking ? "<think>" : "</think>");
    REQUIRE(prompt.compare(0, prefix.size(), prefix) == 0);
    return prompt.substr(prefix.size());
}

dsv4_status parse_status(const std::string& text, chat::Mode mode, std::string* message = nullptr) {
    try {
        chat::parse_completion(text, mode);
    } catch (const dsv4::Error& e) {
        if (message) *message = e.what();
        return e.status();
    }
    return DSV4_STATUS_OK;
}

const std::string kEos = "<｜end▁of▁sentence｜>";

}  // namespace

TEST_CASE("official encoding cases match byte for byte", "[chat][conformance]") {
    for (const auto& c : load_official_cases()) {
        INFO("case " << c["name"].get<std::string>());
        chat::EncodeOptions o;
        o.mode = mode_of(c);
        CHECK(chat::encode_messages(c["messages"], o) == c["expected_prompt"].get<std::string>());
    }
}

TEST_CASE("official encoding cases through the C API", "[chat][capi]") {
    for (const auto& c : load_official_cases()) {
        INFO("case " << c["name"].get<std::string>());
        dsv4_chat_params p;
        dsv4_chat_params_init(&p);
        p.mode = c["thinking_mode"] == "thinking" ? DSV4_CHAT_MODE_THINKING : DSV4_CHAT_MODE_CHAT;
        char* prompt = nullptr;
        REQUIRE(dsv4_chat_encode(c["messages"].dump().c_str(), &p, &prompt) == DSV4_STATUS_OK);
        CHECK(std::string(prompt) == c["expected_prompt"].get<std::string>());
        dsv4_string_free(prompt);
    }
}

TEST_CASE("every assistant turn of the official cases round-trips through the parser", "[chat][parse]") {
    int turns = 0;
    for (const auto& c : load_official_cases()) {
        const chat::Mode mode = mode_of(c);
        for (const auto& m : c["messages"]) {
            if (m["role"] != "assistant") continue;
            INFO("case " << c["name"].get<std::string>() << " turn " << m.dump());
            const std::string text = completion_of(m, mode);
            const ojson parsed = chat::parse_completion(text, mode);
            CHECK(parsed["role"] == "assistant");
            CHECK(parsed["content"] == m.value("content", ""));
            if (mode == chat::Mode::Thinking) CHECK(parsed["reasoning_content"] == m.value("reasoning_content", ""));
            const ojson want_calls = m.value("tool_calls", ojson::array());
            REQUIRE(parsed["tool_calls"].size() == want_calls.size());
            for (size_t k = 0; k < want_calls.size(); ++k) {
                const auto& got = parsed["tool_calls"][k]["function"];
                const auto& want = want_calls[k]["function"];
                CHECK(got["name"] == want["name"]);
                // Arguments come back in the Python json.dumps form the cases use.
                CHECK(got["arguments"] == want["arguments"]);
            }
            // Encoding the parsed message again gives the same completion text.
            CHECK(completion_of(parsed, mode) == text);
            ++turns;
        }
    }
    CHECK(turns == 8);
}

TEST_CASE("DSML parameter values: string=\"false\" is JSON, string=\"true\" is raw text", "[chat][parse]") {
    const std::string text =
        "\n\n<｜DSML｜tool_calls>\n"
        "<｜DSML｜invoke name=\"f\">\n"
        "<｜DSML｜parameter name=\"n\" string=\"false\">3</｜DSML｜parameter>\n"
        "<｜DSML｜parameter name=\"s\" string=\"true\">3</｜DSML｜parameter>\n"
        "<｜DSML｜parameter name=\"o\" string=\"false\">{\"a\":[1,true,null]}</｜DSML｜parameter>\n"
        "<｜DSML｜parameter name=\"q\" string=\"true\">say \"hi\"\nnow</｜DSML｜parameter>\n"
        "</｜DSML｜invoke>\n"
        "<｜DSML｜invoke name=\"g\">\n\n"
        "</｜DSML｜invoke>\n"
        "</｜DSML｜tool_calls>" +
        kEos;
    const ojson m = chat::parse_completion(text, chat::Mode::Chat);
    CHECK(m["content"] == "");
    REQUIRE(m["tool_calls"].size() == 2);
    CHECK(m["tool_calls"][0]["function"]["name"] == "f");
    CHECK(m["tool_calls"][0]["function"]["arguments"] ==
          "{\"n\": 3, \"s\": \"3\", \"o\": {\"a\": [1, true, null]}, \"q\": \"say \\\"hi\\\"\\nnow\"}");
    CHECK(m["tool_calls"][1]["function"]["name"] == "g");
    CHECK(m["tool_calls"][1]["function"]["arguments"] == "{}");
}

TEST_CASE("thinking completion splits reasoning and content", "[chat][parse]") {
    const ojson m = chat::parse_completion("Let me think.</think>The answer is 4." + kEos, chat::Mode::Thinking);
    CHECK(m["reasoning_content"] == "Let me think.");
    CHECK(m["content"] == "The answer is 4.");
    CHECK(m["tool_calls"].empty());
}

TEST_CASE("malformed completions fail with a clear error", "[chat][parse]") {
    std::string msg;
    const std::string call_open = "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"f\">\n";
    const std::string call_close = "</｜DSML｜invoke>\n</｜DSML｜tool_calls>" + kEos;

    CHECK(parse_status("no end of reasoning" + kEos, chat::Mode::Thinking, &msg) == DSV4_STATUS_FORMAT);
    CHECK(msg.find("</think>") != std::string::npos);

    CHECK(parse_status("no eos", chat::Mode::Chat, &msg) == DSV4_STATUS_FORMAT);
    CHECK(msg.find("missing") != std::string::npos);

    CHECK(parse_status("a" + kEos + "trailing", chat::Mode::Chat, &msg) == DSV4_STATUS_FORMAT);
    CHECK(msg.find("trailing") != std::string::npos);

    // A string flag other than true/false.
    CHECK(
        parse_status(call_open + "<｜DSML｜parameter name=\"x\" string=\"maybe\">1</｜DSML｜parameter>\n" + call_close,
                     chat::Mode::Chat, &msg) == DSV4_STATUS_FORMAT);
    CHECK(msg.find("string=") != std::string::npos);

    // string="false" with a value that is not JSON.
    CHECK(parse_status(
              call_open + "<｜DSML｜parameter name=\"x\" string=\"false\">not json</｜DSML｜parameter>\n" + call_close,
              chat::Mode::Chat, &msg) == DSV4_STATUS_FORMAT);
    CHECK(msg.find("not JSON") != std::string::npos);
    CHECK(msg.find("\"x\"") != std::string::npos);

    // Duplicate parameter.
    CHECK(parse_status(call_open + "<｜DSML｜parameter name=\"x\" string=\"true\">1</｜DSML｜parameter>\n" +
                           "<｜DSML｜parameter name=\"x\" string=\"true\">2</｜DSML｜parameter>\n" + call_close,
                       chat::Mode::Chat, &msg) == DSV4_STATUS_FORMAT);
    CHECK(msg.find("duplicate") != std::string::npos);

    // Unterminated invoke / block.
    CHECK(parse_status(call_open + "<｜DSML｜parameter name=\"x\" string=\"true\">1</｜DSML｜parameter>\n" + kEos,
                       chat::Mode::Chat, &msg) == DSV4_STATUS_FORMAT);
    CHECK(parse_status("\n\n<｜DSML｜tool_calls>\n" + kEos, chat::Mode::Chat, &msg) == DSV4_STATUS_FORMAT);
    CHECK(msg.find("unterminated") != std::string::npos);

    // Missing newline between parameters.
    CHECK(parse_status(call_open + "<｜DSML｜parameter name=\"x\" string=\"true\">1</｜DSML｜parameter>" + call_close,
                       chat::Mode::Chat, &msg) == DSV4_STATUS_FORMAT);

    // Text after the tool calls.
    CHECK(parse_status(call_open + call_close.substr(0, call_close.size() - kEos.size()) + "extra" + kEos,
                       chat::Mode::Chat, &msg) == DSV4_STATUS_FORMAT);
    CHECK(msg.find("extra") != std::string::npos);

    // Special strings inside the content.
    CHECK(parse_status("a<think>b" + kEos, chat::Mode::Chat, &msg) == DSV4_STATUS_FORMAT);

    // Invalid UTF-8 names the byte offset.
    CHECK(parse_status(std::string("ab\xff") + kEos, chat::Mode::Chat, &msg) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(msg.find("offset 2") != std::string::npos);
}

TEST_CASE("tool results are merged into one user turn in call order", "[chat][encode]") {
    const ojson msgs = ojson::parse(R"([
      {"role": "user", "content": "go"},
      {"role": "assistant", "content": "", "tool_calls": [
        {"id": "a", "type": "function", "function": {"name": "fa", "arguments": "{}"}},
        {"id": "b", "type": "function", "function": {"name": "fb", "arguments": "{\"k\": [1, 2.5]}"}}]},
      {"role": "tool", "tool_call_id": "b", "content": "B"},
      {"role": "tool", "tool_call_id": "a", "content": "A"},
      {"role": "user", "content": "thanks"}
    ])");
    chat::EncodeOptions o;
    o.mode = chat::Mode::Chat;
    const std::string want =
        "<｜begin▁of▁sentence｜><｜User｜>go<｜Assistant｜></think>\n\n<｜DSML｜tool_calls>\n"
        "<｜DSML｜invoke name=\"fa\">\n\n</｜DSML｜invoke>\n"
        "<｜DSML｜invoke name=\"fb\">\n<｜DSML｜parameter name=\"k\" string=\"false\">[1, 2.5]</｜DSML｜parameter>\n"
        "</｜DSML｜invoke>\n</｜DSML｜tool_calls><｜end▁of▁sentence｜>"
        "<｜User｜><tool_result>A</tool_result>\n\n<tool_result>B</tool_result>\n\nthanks<｜Assistant｜></think>";
    CHECK(chat::encode_messages(msgs, o) == want);
}

TEST_CASE("drop_thinking, keep-thinking and reasoning effort", "[chat][encode]") {
    const ojson msgs = ojson::parse(R"([
      {"role": "user", "content": "1+1?"},
      {"role": "assistant", "reasoning_content": "add", "content": "2"},
      {"role": "user", "content": "2+2?"}
    ])");
    chat::EncodeOptions o;
    o.mode = chat::Mode::Thinking;
    CHECK(chat::encode_messages(msgs, o) ==
          "<｜begin▁of▁sentence｜><｜User｜>1+1?<｜Assistant｜></"
          "think>2<｜end▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜><think>");
    o.drop_thinking = false;
    CHECK(chat::encode_messages(msgs, o) ==
          "<｜begin▁of▁sentence｜><｜User｜>1+1?<｜Assistant｜><think>add</"
          "think>2<｜end▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜><think>");
    o.drop_thinking = true;
    o.reasoning_effort = "max";
    const std::string with_effort = chat::encode_messages(msgs, o);
    CHECK(with_effort.rfind("<｜begin▁of▁sentence｜>Reasoning Effort: Absolute maximum", 0) == 0);
    CHECK(with_effort.find("unchecked.\n\n<｜User｜>1+1?") != std::string::npos);
    // Chat mode ignores the effort.
    o.mode = chat::Mode::Chat;
    CHECK(chat::encode_messages(msgs, o).find("Reasoning Effort") == std::string::npos);
}

TEST_CASE("bad messages are rejected naming the message", "[chat][encode]") {
    chat::EncodeOptions o;
    auto status_of = [&](const char* json, std::string* msg) {
        try {
            chat::encode_messages(ojson::parse(json), o);
        } catch (const dsv4::Error& e) {
            *msg = e.what();
            return e.status();
        }
        return DSV4_STATUS_OK;
    };
    std::string msg;
    CHECK(status_of(R"([{"role": "user", "content": "a"}, {"role": "robot", "content": "b"}])", &msg) ==
          DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(msg.find("messages[1]") != std::string::npos);
    CHECK(msg.find("robot") != std::string::npos);
    CHECK(status_of(R"([{"role": "developer", "content": ""}])", &msg) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(msg.find("messages[0]") != std::string::npos);
    CHECK(status_of(R"([{"role": "user", "content": 5}])", &msg) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(status_of(R"({"role": "user"})", &msg) == DSV4_STATUS_INVALID_ARGUMENT);
    o.reasoning_effort = "extreme";
    CHECK(status_of(R"([])", &msg) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(msg.find("extreme") != std::string::npos);
}

TEST_CASE("chat C API checks its arguments", "[chat][capi]") {
    char* out = nullptr;
    CHECK(dsv4_chat_encode(nullptr, nullptr, &out) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_last_error()).find("messages_json") != std::string::npos);
    CHECK(dsv4_chat_encode("[", nullptr, &out) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(out == nullptr);
    dsv4_chat_params p;
    dsv4_chat_params_init(&p);
    p.struct_size = 3;
    CHECK(dsv4_chat_encode("[]", &p, &out) == DSV4_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(dsv4_last_error()).find("struct_size") != std::string::npos);
    CHECK(dsv4_chat_parse("x", 1, dsv4_chat_mode(7), &out) == DSV4_STATUS_INVALID_ARGUMENT);
    const std::string text = "hi" + kEos;
    REQUIRE(dsv4_chat_parse(text.data(), text.size(), DSV4_CHAT_MODE_CHAT, &out) == DSV4_STATUS_OK);
    CHECK(ojson::parse(out)["content"] == "hi");
    dsv4_string_free(out);
    dsv4_string_free(nullptr);
}
