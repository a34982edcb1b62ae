// dsv4: the command-line program. Each sub-command lives in its own file
// (cmd_*.cpp) and registers itself; this file only dispatches.
#include <cstdio>
#include <cstring>
#include <exception>

#include <dsv4/dsv4.h>

#include "command.h"

static void usage() {
    std::printf("usage: dsv4 <command> [options]\n\ncommands:\n");
    for (const auto& c : cli::commands()) std::printf("  %-18s %s\n", c.name, c.summary);
    std::printf("\n  dsv4 --version      print the library version\n");
}

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        usage();
        return argc < 2 ? 1 : 0;
    }
    if (!std::strcmp(argv[1], "--version")) {
        std::printf("dsv4 %s (ABI %d)\n", dsv4_version(), dsv4_abi_version());
        return 0;
    }
    for (const auto& c : cli::commands()) {
        if (std::strcmp(c.name, argv[1]) != 0) continue;
        cli::Args args(argv + 2, argv + argc);
        if (c.usage)
            for (const auto& a : args)
                if (a == "--help" || a == "-h") {
                    std::printf("%s", c.usage);
                    return 0;
                }
        try {
            return c.run(args);
        } catch (const std::exception& e) {
            return cli::fail(e.what());
        }
    }
    std::fprintf(stderr, "dsv4: unknown command '%s'\n", argv[1]);
    usage();
    return 2;
}
