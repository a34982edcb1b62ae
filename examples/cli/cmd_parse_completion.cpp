// dsv4 parse-completion: a completion's text on stdin -> the assistant message as JSON on stdout.
#include <cstdio>
#include <string>

#include <dsv4/dsv4.h>

#include "command.h"
#include "stdin_text.h"

namespace {

int run(const cli::Args& args) {
    cli::Flags flags(args);
    const std::string mode = flags.get("--mode", "chat");
    if (!flags.unknown().empty()) return cli::fail("parse-completion: unknown option " + flags.unknown()[0]);
    if (!flags.positional().empty())
        return cli::fail("parse-completion: usage: dsv4 parse-completion --mode chat|thinking < completion.txt");
    int m = 0;
    if (!cli::parse_chat_mode(mode, &m))
        return cli::fail("parse-completion: --mode must be chat or thinking, got '" + mode + "'");

    const std::string input = cli::read_stdin();
    char* json = nullptr;
    const dsv4_status st = dsv4_chat_parse(input.data(), input.size(), dsv4_chat_mode(m), &json);
    if (st != DSV4_STATUS_OK) return cli::fail_status("parse-completion", st);
    std::printf("%s\n", json);
    dsv4_string_free(json);
    return std::fflush(stdout) == 0 ? 0 : cli::fail("parse-completion: cannot write stdout");
}

const bool registered = cli::register_command(
    {"parse-completion", "parse a completion (stdin) into reasoning, content and tool calls (JSON)", run,
     "usage: dsv4 parse-completion [--mode chat|thinking] < completion.txt\n"
     "  --mode chat|thinking   the mode the prompt was rendered in (default chat)\n"});

}  // namespace
