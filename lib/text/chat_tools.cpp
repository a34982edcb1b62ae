#include "text/chat_tools.h"

#include "error.h"
#include "text/chat_format.h"

namespace dsv4::text::chat {

namespace {

const char* const kToolsHeader =
    "## Tools\n\n"
    "You have access to a set of tools to help answer the user's question. You can invoke tools by writing a "
    "\"<｜DSML｜tool_calls>\" block like the following:\n\n"
    "<｜DSML｜tool_calls>\n"
    "<｜DSML｜invoke name=\"$TOOL_NAME\">\n"
    "<｜DSML｜parameter name=\"$PARAMETER_NAME\" string=\"true|false\">$PARAMETER_VALUE</｜DSML｜parameter>\n"
    "...\n"
    "</｜DSML｜invoke>\n"
    "<｜DSML｜invoke name=\"$TOOL_NAME2\">\n"
    "...\n"
    "</｜DSML｜invoke>\n"
    "</｜DSML｜tool_calls>\n\n"
    "String parameters should be specified as is and set `string=\"true\"`. For all other types (numbers, booleans, "
    "arrays, objects), pass the value in JSON format and set `string=\"false\"`.\n\n"
    "If thinking_mode is enabled (triggered by <think>), you MUST output your complete reasoning inside "
    "<think>...</think> BEFORE any tool calls or final response.\n\n"
    "Otherwise, output directly after </think> with tool calls or final response.\n\n"
    "### Available Tool Schemas\n\n";

const char* const kToolsFooter =
    "\n\nYou MUST strictly follow the above defined tool name and parameter schemas to invoke tool calls.\n";

[[noreturn]] void bad(size_t index, const std::string& what) {
    fail(DSV4_STATUS_INVALID_ARGUMENT, "messages[" + std::to_string(index) + "]: " + what);
}

const ojson& function_of(const ojson& entry, size_t index, const char* field, size_t k) {
    const std::string where = std::string(field) + "[" + std::to_string(k) + "]";
    if (!entry.is_object()) bad(index, where + " must be an object");
    auto fn = entry.find("function");
    if (fn == entry.end() || !fn->is_object()) bad(index, where + " has no \"function\" object");
    return *fn;
}

}  // namespace

std::string render_tools(const ojson& tools, size_t index) {
    if (!tools.is_array()) bad(index, "tools must be an array");
    std::string out = kToolsHeader;
    for (size_t k = 0; k < tools.size(); ++k) {
        if (k) out += '\n';
        out += python_json_dumps(function_of(tools[k], index, "tools", k));
    }
    return out + kToolsFooter;
}

std::string render_tool_calls(const ojson& tool_calls, size_t index) {
    if (!tool_calls.is_array()) bad(index, "tool_calls must be an array");
    std::string out = std::string("<") + kDsml + "tool_calls>\n";
    for (size_t k = 0; k < tool_calls.size(); ++k) {
        const ojson& fn = function_of(tool_calls[k], index, "tool_calls", k);
        const std::string where = "tool_calls[" + std::to_string(k) + "].function";
        auto name = fn.find("name");
        if (name == fn.end() || !name->is_string()) bad(index, where + ".name must be a string");
        // Arguments are a JSON object text; text that does not parse is passed as one string
        // parameter named "arguments", as the reference encoder does. An object is accepted as is.
        ojson args;
        auto a = fn.find("arguments");
        if (a == fn.end() || a->is_null()) {
            args = ojson::object();
        } else if (a->is_object()) {
            args = *a;
        } else if (a->is_string()) {
            args = ojson::parse(a->get<std::string>(), nullptr, false);
            if (args.is_discarded()) args = ojson{{"arguments", *a}};
        } else {
            bad(index, where + ".arguments must be a JSON string or an object");
        }
        if (!args.is_object()) bad(index, where + ".arguments must encode a JSON object, got " + args.dump());

        if (k) out += '\n';
        out += std::string("<") + kDsml + "invoke name=\"" + name->get<std::string>() + "\">\n";
        bool first = true;
        for (auto it = args.begin(); it != args.end(); ++it) {
            if (!first) out += '\n';
            first = false;
            const bool is_str = it.value().is_string();
            out += std::string("<") + kDsml + "parameter name=\"" + it.key() + "\" string=\"" +
                   (is_str ? "true" : "false") + "\">" +
                   (is_str ? it.value().get<std::string>() : python_json_dumps(it.value())) + "</" + kDsml +
                   "parameter>";
        }
        out += std::string("\n</") + kDsml + "invoke>";
    }
    return out + "\n</" + kDsml + "tool_calls>";
}

}  // namespace dsv4::text::chat
