// dsv4 encode-chat: a JSON array of messages on stdin -> the DeepSeek-V4 prompt text on stdout,
// byte for byte (no trailing newline).
#include <cstdio>
#include <string>

#include <dsv4/dsv4.h>

#include "command.h"
#include "stdin_text.h"

namespace {

int run(const cli::Args& args) {
    cli::Flags flags(args);
    const std::string mode = flags.get("--mode", "chat");
    const bool keep_thinking = flags.has("--keep-thinking");
    const bool no_bos = flags.has("--no-bos");
    const std::string effort = flags.get("--reasoning-effort", "");
    if (!flags.unknown().empty()) return cli::fail("encode-chat: unknown option " + flags.unknown()[0]);
    if (!flags.positional().empty())
        return cli::fail(
            "encode-chat: usage: dsv4 encode-chat --mode chat|thinking [--keep-thinking] "
            "[--reasoning-effort max|high] [--no-bos] < messages.json");

    dsv4_chat_params params;
    dsv4_chat_params_init(&params);
    int m = 0;
    if (!cli::parse_chat_mode(mode, &m))
        return cli::fail("encode-chat: --mode must be chat or thinking, got '" + mode + "'");
    params.mode = dsv4_chat_mode(m);
    params.drop_thinking = !keep_thinking;
    params.add_bos = !no_bos;
    params.reasoning_effort = effort.empty() ? nullptr : effort.c_str();

    const std::string input = cli::read_stdin();
    char* prompt = nullptr;
    const dsv4_status st = dsv4_chat_encode(input.c_str(), &params, &prompt);
    if (st != DSV4_STATUS_OK) return cli::fail_status("encode-chat", st);
    const std::string out(prompt);
    dsv4_string_free(prompt);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : cli::fail("encode-chat: cannot write stdout");
}

const bool registered =
    cli::register_command({"encode-chat", "render a JSON array of chat messages (stdin) as a prompt", run,
                           "usage: dsv4 encode-chat [options] < messages.json\n"
                           "  --mode chat|thinking   how the assistant turn opens (default chat)\n"
                           "  --keep-thinking        keep the reasoning of earlier assistant turns\n"
                           "  --reasoning-effort max|high\n"
                           "  --no-bos               do not start with the BOS token\n"});

}  // namespace
