// The strings of DeepSeek-V4's chat format (ARCHITECTURE-V4.md section 5), shared by the prompt
// encoder and the completion parser. Token ids are never hard-coded: the tokenizer resolves these
// strings from tokenizer.json.
#pragma once

namespace dsv4::text::chat {

enum class Mode { Chat, Thinking };

inline constexpr const char* kBos = "<｜begin▁of▁sentence｜>";
inline constexpr const char* kEos = "<｜end▁of▁sentence｜>";
inline constexpr const char* kThinkStart = "<think>";
inline constexpr const char* kThinkEnd = "</think>";
inline constexpr const char* kDsml = "｜DSML｜";
inline constexpr const char* kUser = "<｜User｜>";
inline constexpr const char* kAssistant = "<｜Assistant｜>";
inline constexpr const char* kLatestReminder = "<｜latest_reminder｜>";

// "<｜DSML｜tool_calls>" and friends.
inline constexpr const char* kToolCallsOpen = "<｜DSML｜tool_calls>";
inline constexpr const char* kToolCallsClose = "</｜DSML｜tool_calls>";
inline constexpr const char* kInvokeOpen = "<｜DSML｜invoke";
inline constexpr const char* kInvokeClose = "</｜DSML｜invoke";
inline constexpr const char* kParamOpen = "<｜DSML｜parameter";
inline constexpr const char* kParamClose = "/｜DSML｜parameter";
// An assistant turn's tool calls start after a blank line.
inline constexpr const char* kToolCallsStart = "\n\n<｜DSML｜tool_calls";

}  // namespace dsv4::text::chat
