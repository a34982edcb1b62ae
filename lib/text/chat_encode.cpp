#include "text/chat_encode.h"

#include <algorithm>
#include <map>

#include "error.h"
#include "text/chat_tools.h"
#include "text/utf8.h"

namespace dsv4::text::chat {

namespace {

const char* const kReasoningEffortMax =
    "Reasoning Effort: Absolute maximum with no shortcuts permitted.\n"
    "You MUST be very thorough in your thinking and comprehensively decompose the problem to resolve the root cause, "
    "rigorously stress-testing your logic against all potential paths, edge cases, and adversarial scenarios.\n"
    "Explicitly write out your entire deliberation process, documenting every intermediate step, considered "
    "alternative, and rejected hypothesis to ensure absolutely no assumption is left unchecked.\n\n";

// Special tokens of the internal classification tasks a user turn may request.
const std::map<std::string, std::string>& task_tokens() {
    static const std::map<std::string, std::string> t = {
        {"action", "<｜action｜>"}, {"query", "<｜query｜>"}, {"authority", "<｜authority｜>"},
        {"domain", "<｜domain｜>"}, {"title", "<｜title｜>"}, {"read_url", "<｜read_url｜>"}};
    return t;
}

[[noreturn]] void bad(size_t index, const std::string& what) {
    fail(DSV4_STATUS_INVALID_ARGUMENT, "messages[" + std::to_string(index) + "]: " + what);
}

// Python truthiness of an optional field; the reference encoder tests fields this way throughout.
bool truthy(const ojson& m, const char* key) {
    auto it = m.find(key);
    if (it == m.end() || it->is_null()) return false;
    if (it->is_boolean()) return it->get<bool>();
    if (it->is_string()) return !it->get_ref<const std::string&>().empty();
    if (it->is_array() || it->is_object()) return !it->empty();
    if (it->is_number()) return it->get<double>() != 0;
    return true;
}

bool has_task(const ojson& m) {
    auto it = m.find("task");
    return it != m.end() && !it->is_null();
}

std::string role_of(const ojson& m) {
    auto it = m.find("role");
    return it != m.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Text of a content value: null -> "", a string, or a list of {"type": "text"} parts.
std::string text_of(const ojson& v, size_t index, const std::string& field) {
    if (v.is_null()) return "";
    if (v.is_string()) return v.get<std::string>();
    if (v.is_array()) {
        std::string s;
        for (const auto& part : v) {
            if (!part.is_object() || !part.contains("type") || part["type"] != "text")
                bad(index, field + ": only {\"type\": \"text\"} content parts are supported");
            const auto t = part.find("text");
            if (t != part.end() && !t->is_null()) {
                if (!t->is_string()) bad(index, field + ": a text part's \"text\" must be a string");
                s += t->get<std::string>();
            }
        }
        return s;
    }
    bad(index, field + " must be a string, null or a list of text parts");
}

std::string field_text(const ojson& m, const char* key, size_t index) {
    auto it = m.find(key);
    return it == m.end() ? std::string() : text_of(*it, index, key);
}

// Index of the original message each merged message came from, for error messages.
size_t origin(const ojson& m) { return m.value("_index", size_t(0)); }

// The format has no tool role: tool results become <tool_result> blocks of a user turn, and
// consecutive user turns (the first without a task) merge into one, their parts joined by blank lines.
ojson merge_tool_messages(const ojson& messages) {
    ojson merged = ojson::array();
    for (size_t i = 0; i < messages.size(); ++i) {
        const ojson& msg = messages[i];
        if (!msg.is_object()) bad(i, "a message must be a JSON object");
        const std::string role = role_of(msg);
        const bool prev_is_block_user =
            !merged.empty() && role_of(merged.back()) == "user" && merged.back().contains("content_blocks");
        if (role == "tool") {
            const auto id = msg.find("tool_call_id");
            ojson block = {{"type", "tool_result"},
                           {"tool_use_id", id != msg.end() && id->is_string() ? *id : ojson("")},
                           {"content", msg.contains("content") ? msg["content"] : ojson("")},
                           {"_index", i}};
            if (prev_is_block_user)
                merged.back()["content_blocks"].push_back(std::move(block));
            else
                merged.push_back(
                    {{"role", "user"}, {"content_blocks", ojson::array({std::move(block)})}, {"_index", i}});
        } else if (role == "user") {
            ojson block = {{"type", "text"}, {"text", field_text(msg, "content", i)}};
            if (prev_is_block_user && !has_task(merged.back())) {
                merged.back()["content_blocks"].push_back(std::move(block));
            } else {
                ojson m = {{"role", "user"}, {"content_blocks", ojson::array({std::move(block)})}, {"_index", i}};
                for (const char* key : {"task", "wo_eos", "mask"})
                    if (msg.contains(key)) m[key] = msg[key];
                merged.push_back(std::move(m));
            }
        } else {
            ojson m = msg;
            m["_index"] = i;
            merged.push_back(std::move(m));
        }
    }
    return merged;
}

std::string tool_call_id(const ojson& tc) {
    if (!tc.is_object()) return "";
    auto id = tc.find("id");
    if (id != tc.end() && id->is_string() && !id->get_ref<const std::string&>().empty()) return id->get<std::string>();
    auto fn = tc.find("function");
    if (fn != tc.end() && fn->is_object()) {
        auto fid = fn->find("id");
        if (fid != fn->end() && fid->is_string()) return fid->get<std::string>();
    }
    return "";
}

// Tool results of one user turn follow the order of the calls in the preceding assistant turn
// (unknown ids sort first, ties keep their order).
void sort_tool_results_by_call_order(ojson& messages) {
    std::map<std::string, size_t> order;
    for (auto& msg : messages) {
        const std::string role = role_of(msg);
        if (role == "assistant" && truthy(msg, "tool_calls") && msg["tool_calls"].is_array()) {
            order.clear();
            size_t k = 0;
            for (const auto& tc : msg["tool_calls"]) {
                const std::string id = tool_call_id(tc);
                if (!id.empty()) order[id] = k;
                ++k;
            }
        } else if (role == "user" && truthy(msg, "content_blocks")) {
            auto& blocks = msg["content_blocks"];
            std::vector<ojson> results;
            for (const auto& b : blocks)
                if (b["type"] == "tool_result") results.push_back(b);
            if (results.size() < 2 || order.empty()) continue;
            auto rank = [&](const ojson& b) {
                auto it = order.find(b["tool_use_id"].get<std::string>());
                return it == order.end() ? size_t(0) : it->second;
            };
            std::stable_sort(results.begin(), results.end(),
                             [&](const ojson& a, const ojson& b) { return rank(a) < rank(b); });
            size_t r = 0;
            for (auto& b : blocks)
                if (b["type"] == "tool_result") b = results[r++];
        }
    }
}

long find_last_user_index(const ojson& messages) {
    for (long i = long(messages.size()) - 1; i >= 0; --i) {
        const std::string role = role_of(messages[size_t(i)]);
        if (role == "user" || role == "developer") return i;
    }
    return -1;
}

// Before the last user turn: assistant turns lose their reasoning, developer turns are dropped.
ojson drop_thinking_messages(const ojson& messages) {
    const long last_user = find_last_user_index(messages);
    ojson out = ojson::array();
    for (size_t i = 0; i < messages.size(); ++i) {
        const std::string role = role_of(messages[i]);
        if (role == "user" || role == "system" || role == "tool" || role == "latest_reminder" ||
            role == "direct_search_results" || long(i) >= last_user) {
            out.push_back(messages[i]);
        } else if (role == "assistant") {
            ojson m = messages[i];
            m.erase("reasoning_content");
            out.push_back(std::move(m));
        }
    }
    return out;
}

std::string render_user_blocks(const ojson& blocks, size_t index) {
    std::string out;
    bool first = true;
    for (const auto& b : blocks) {
        if (!first) out += "\n\n";
        first = false;
        if (b["type"] == "text") {
            out += b["text"].get<std::string>();
            continue;
        }
        // A tool result: a string, or a list of parts whose text parts are joined by blank lines.
        const ojson& c = b["content"];
        const size_t at = b.value("_index", index);
        std::string text;
        if (c.is_null()) {
            text = "";
        } else if (c.is_string()) {
            text = c.get<std::string>();
        } else if (c.is_array()) {
            bool first_part = true;
            for (const auto& part : c) {
                if (!first_part) text += "\n\n";
                first_part = false;
                if (!part.is_object()) bad(at, "content: a tool result part must be an object");
                const std::string type =
                    part.contains("type") && part["type"].is_string() ? part["type"].get<std::string>() : "";
                if (type == "text")
                    text += field_text(part, "text", at);
                else
                    text += "[Unsupported " + type + "]";
            }
        } else {
            bad(at, "content of a tool message must be a string, null or a list of parts");
        }
        out += "<tool_result>" + text + "</tool_result>";
    }
    return out;
}

std::string render_response_format(const ojson& m) {
    return "\n\n## Response Format:\n\nYou MUST strictly adhere to the following schema to reply:\n" +
           python_json_dumps(m["response_format"]);
}

std::string render_message(size_t index, const ojson& messages, Mode mode, bool drop_thinking,
                           const std::string& effort) {
    const ojson& msg = messages[index];
    const size_t at = origin(msg);
    const long last_user = find_last_user_index(messages);
    const std::string role = role_of(msg);
    std::string prompt;

    if (index == 0 && mode == Mode::Thinking && effort == "max") prompt += kReasoningEffortMax;

    if (role == "system") {
        prompt += field_text(msg, "content", at);
        if (truthy(msg, "tools")) prompt += "\n\n" + render_tools(msg["tools"], at);
        if (truthy(msg, "response_format")) prompt += render_response_format(msg);
    } else if (role == "developer") {
        const std::string content = field_text(msg, "content", at);
        if (content.empty()) bad(at, "a developer message needs non-empty content");
        prompt += kUser + content;
        if (truthy(msg, "tools")) prompt += "\n\n" + render_tools(msg["tools"], at);
        if (truthy(msg, "response_format")) prompt += render_response_format(msg);
    } else if (role == "user") {
        prompt += kUser;
        if (truthy(msg, "content_blocks"))
            prompt += render_user_blocks(msg["content_blocks"], at);
        else
            prompt += field_text(msg, "content", at);
    } else if (role == "latest_reminder") {
        prompt += kLatestReminder + field_text(msg, "content", at);
    } else if (role == "assistant") {
        std::string tool_calls;
        if (truthy(msg, "tool_calls")) tool_calls = "\n\n" + render_tool_calls(msg["tool_calls"], at);
        // An assistant turn answering a task request carries no reasoning.
        const bool prev_has_task = index > 0 && has_task(messages[index - 1]);
        std::string thinking;
        if (mode == Mode::Thinking && !prev_has_task && (!drop_thinking || long(index) > last_user))
            thinking = field_text(msg, "reasoning_content", at) + kThinkEnd;
        prompt += thinking + field_text(msg, "content", at) + tool_calls;
        if (!truthy(msg, "wo_eos")) prompt += kEos;
    } else if (role.empty()) {
        bad(at, "missing \"role\"");
    } else {
        bad(at, "unknown role \"" + role + "\" (expected system, user, assistant, tool, developer or latest_reminder)");
    }

    // What follows the turn: nothing when another non-assistant turn comes next; otherwise the
    // assistant prefix (or a task token) that starts the model's reply.
    if (index + 1 < messages.size()) {
        const std::string next = role_of(messages[index + 1]);
        if (next != "assistant" && next != "latest_reminder") return prompt;
    }
    if (has_task(msg)) {
        const auto& t = msg["task"];
        auto it = t.is_string() ? task_tokens().find(t.get<std::string>()) : task_tokens().end();
        if (it == task_tokens().end())
            bad(at, "unknown task " + t.dump() + " (expected action, query, authority, domain, title or read_url)");
        if (it->first != "action") {
            prompt += it->second;
        } else {
            prompt += kAssistant;
            prompt += mode == Mode::Thinking ? kThinkStart : kThinkEnd;
            prompt += it->second;
        }
    } else if (role == "user" || role == "developer") {
        prompt += kAssistant;
        const bool think = mode == Mode::Thinking && (!drop_thinking || long(index) >= last_user);
        prompt += think ? kThinkStart : kThinkEnd;
    }
    return prompt;
}

}  // namespace

std::string encode_messages(const ojson& messages, const EncodeOptions& options) {
    if (!messages.is_array()) fail(DSV4_STATUS_INVALID_ARGUMENT, "messages must be a JSON array of message objects");
    if (!options.reasoning_effort.empty() && options.reasoning_effort != "max" && options.reasoning_effort != "high")
        fail(DSV4_STATUS_INVALID_ARGUMENT,
             "reasoning_effort \"" + options.reasoning_effort + "\" is not one of \"max\", \"high\" or empty");

    ojson full = merge_tool_messages(messages);
    sort_tool_results_by_call_order(full);

    bool drop = options.drop_thinking;
    for (const auto& m : full)
        if (truthy(m, "tools")) drop = false;
    if (options.mode == Mode::Thinking && drop) full = drop_thinking_messages(full);

    std::string prompt = options.add_bos ? kBos : "";
    for (size_t i = 0; i < full.size(); ++i)
        prompt += render_message(i, full, options.mode, drop, options.reasoning_effort);
    return prompt;
}

}  // namespace dsv4::text::chat
