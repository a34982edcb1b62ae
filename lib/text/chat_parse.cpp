#include "text/chat_parse.h"

#include <vector>

#include "error.h"
#include "text/utf8.h"

namespace dsv4::text::chat {

namespace {

[[noreturn]] void malformed(size_t offset, const std::string& what) {
    fail(DSV4_STATUS_FORMAT, "malformed completion at byte " + std::to_string(offset) + ": " + what);
}

// Quotes a fragment of the completion for an error message, shortened.
std::string quote(std::string_view s) {
    const size_t max = 80;
    std::string q = ojson(std::string(s.substr(0, max))).dump(-1, ' ', false, ojson::error_handler_t::replace);
    return s.size() > max ? q + "..." : q;
}

struct Cursor {
    std::string_view text;
    size_t pos = 0;

    struct Hit {
        std::string_view before;  // text from the cursor up to the stop string (or the end)
        int stop = -1;            // index of the stop string found first, -1 when none
        size_t at = 0;            // offset of that stop string
    };

    // Reads up to the earliest of `stops` and moves past it (to the end when none occurs).
    Hit read_until(std::initializer_list<std::string_view> stops) {
        Hit h;
        size_t best = std::string_view::npos;
        int k = 0;
        for (auto s : stops) {
            const size_t p = text.find(s, pos);
            if (p != std::string_view::npos && p < best) {
                best = p;
                h.stop = k;
            }
            ++k;
        }
        h.at = best == std::string_view::npos ? text.size() : best;
        h.before = text.substr(pos, h.at - pos);
        pos = h.stop < 0 ? text.size() : h.at + (stops.begin() + h.stop)->size();
        return h;
    }
};

// ` name="NAME">` followed by a newline (a blank line when the invoke has no parameters).
std::string parse_invoke_name(std::string_view s, size_t offset) {
    size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    const std::string_view open = "name=\"";
    if (s.substr(i, open.size()) != open) malformed(offset, "expected name=\"...\" in an invoke, got " + quote(s));
    std::string_view rest = s.substr(i + open.size());
    std::string_view close = "\">\n";
    if (rest.size() >= 4 && rest.substr(rest.size() - 4) == "\">\n\n")
        rest.remove_suffix(4);
    else if (rest.size() >= 3 && rest.substr(rest.size() - 3) == close)
        rest.remove_suffix(3);
    else
        malformed(offset, "an invoke's name must end with \">\" and a newline, got " + quote(s));
    return std::string(rest);
}

struct Param {
    std::string name;
    bool is_string = false;
    std::string value;
};

// ` name="NAME" string="true|false">VALUE<` (the text between a parameter's open and close marks).
Param parse_param(std::string_view s, size_t offset) {
    const std::string_view open = " name=\"";
    if (s.substr(0, open.size()) != open || s.empty() || s.back() != '<')
        malformed(offset, "expected ` name=\"...\" string=\"true|false\">VALUE` in a parameter, got " + quote(s));
    const std::string_view body = s.substr(open.size(), s.size() - open.size() - 1);
    // The name ends at the first `" string="true">` or `" string="false">`.
    for (size_t p = body.find("\" string=\""); p != std::string_view::npos; p = body.find("\" string=\"", p + 1)) {
        const std::string_view after = body.substr(p + 10);
        for (bool is_str : {true, false}) {
            const std::string_view flag = is_str ? "true\">" : "false\">";
            if (after.substr(0, flag.size()) == flag)
                return Param{std::string(body.substr(0, p)), is_str, std::string(after.substr(flag.size()))};
        }
    }
    malformed(offset, "a parameter needs string=\"true\" or string=\"false\", got " + quote(s));
}

ojson parse_tool_calls(Cursor& c) {
    ojson calls = ojson::array();
    const std::string invoke_open = std::string("<") + kDsml + "invoke";
    const std::string invoke_close = std::string("</") + kDsml + "invoke";
    const std::string param_open = std::string("<") + kDsml + "parameter";
    const std::string param_close = std::string("/") + kDsml + "parameter";
    const std::string block_close = std::string("</") + kDsml + "tool_calls>";
    for (;;) {
        const size_t start = c.pos;
        auto h = c.read_until({invoke_open, block_close});
        if (h.stop < 0) malformed(start, "unterminated tool calls (missing " + block_close + ")");
        if (h.before != ">\n")
            malformed(start, "expected \">\" and a newline before an invoke, got " + quote(h.before));
        if (h.stop == 1) break;

        const size_t name_at = c.pos;
        h = c.read_until({param_open, invoke_close});
        if (h.stop < 0) malformed(name_at, "unterminated invoke (missing " + invoke_close + ">)");
        const std::string name = parse_invoke_name(h.before, name_at);

        std::vector<Param> params;
        while (h.stop == 0) {
            const size_t param_at = c.pos;
            auto p = c.read_until({param_close});
            if (p.stop < 0) malformed(param_at, "unterminated parameter (missing <" + param_close + ">)");
            Param param = parse_param(p.before, param_at);
            for (const auto& q : params)
                if (q.name == param.name) malformed(param_at, "duplicate parameter \"" + param.name + "\"");
            params.push_back(std::move(param));
            const size_t after_at = c.pos;
            h = c.read_until({param_open, invoke_close});
            if (h.before != ">\n")
                malformed(after_at, "expected \">\" and a newline after a parameter, got " + quote(h.before));
            if (h.stop < 0) malformed(after_at, "unterminated invoke (missing " + invoke_close + ">)");
        }

        // Arguments as JSON object text, in the same form the encoder reads back.
        std::string arg_text = "{";
        for (size_t k = 0; k < params.size(); ++k) {
            const Param& p = params[k];
            utf8_require_valid(p.value, ("tool call \"" + name + "\" parameter \"" + p.name + "\"").c_str());
            ojson v;
            if (p.is_string) {
                v = p.value;
            } else {
                v = ojson::parse(p.value, nullptr, false);
                if (v.is_discarded())
                    fail(DSV4_STATUS_FORMAT,
                         "malformed completion: tool call \"" + name + "\" parameter \"" + p.name +
                             "\" has string=\"false\" but its value is not JSON: " + quote(p.value));
            }
            if (k) arg_text += ", ";
            arg_text += python_json_dumps(ojson(p.name)) + ": " + python_json_dumps(v);
        }
        arg_text += "}";
        calls.push_back({{"type", "function"}, {"function", {{"name", name}, {"arguments", arg_text}}}});
    }
    return calls;
}

}  // namespace

ojson parse_completion(std::string_view text, Mode mode) {
    utf8_require_valid(text, "completion");
    Cursor c{text};
    std::string reasoning, content;
    ojson tool_calls = ojson::array();

    if (mode == Mode::Thinking) {
        auto h = c.read_until({kThinkEnd, kToolCallsStart});
        if (h.stop != 0) malformed(h.at, std::string("the reasoning does not end with ") + kThinkEnd);
        reasoning = std::string(h.before);
    }
    auto h = c.read_until({kEos, kToolCallsStart});
    content = std::string(h.before);
    if (h.stop == 1) {
        tool_calls = parse_tool_calls(c);
        const size_t after = c.pos;
        auto e = c.read_until({kEos});
        if (!e.before.empty()) malformed(after, "unexpected text after the tool calls: " + quote(e.before));
        if (e.stop < 0) malformed(text.size(), std::string("missing ") + kEos + " after the tool calls");
    } else if (h.stop < 0) {
        malformed(text.size(), std::string("missing ") + kEos + " at the end of the completion");
    }
    if (c.pos != text.size())
        malformed(c.pos, "unexpected text after " + std::string(kEos) + ": " + quote(text.substr(c.pos)));

    for (const char* sp : {kBos, kEos, kThinkStart, kThinkEnd, kDsml}) {
        if (content.find(sp) != std::string::npos)
            fail(DSV4_STATUS_FORMAT, std::string("malformed completion: special string ") + sp + " inside the content");
        if (reasoning.find(sp) != std::string::npos)
            fail(DSV4_STATUS_FORMAT,
                 std::string("malformed completion: special string ") + sp + " inside the reasoning");
    }
    return {{"role", "assistant"}, {"content", content}, {"reasoning_content", reasoning}, {"tool_calls", tool_calls}};
}

}  // namespace dsv4::text::chat
