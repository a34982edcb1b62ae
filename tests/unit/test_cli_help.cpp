// Every command of the dsv4 program answers --help (and -h) with its usage.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"

TEST_CASE("every dsv4 command answers --help and -h with its usage", "[cli]") {
    // The commands as `dsv4 --help` lists them: "  NAME   summary" lines.
    auto list = testing_support::run_cli("--help");
    REQUIRE(list.exit_code == 0);
    std::vector<std::string> names;
    std::istringstream lines(list.out);
    std::string line;
    bool in_commands = false;
    while (std::getline(lines, line)) {
        if (line == "commands:") {
            in_commands = true;
            continue;
        }
        if (!in_commands || line.rfind("  ", 0) != 0 || line.rfind("  dsv4", 0) == 0) continue;
        std::istringstream words(line);
        std::string name;
        words >> name;
        names.push_back(name);
    }
    REQUIRE(names.size() >= 10);
    for (const auto& name : names)
        for (const char* flag : {"--help", "-h"}) {
            CAPTURE(name, flag);
            auto r = testing_support::run_cli(name + " " + flag);
            CHECK(r.exit_code == 0);
            CHECK(r.out.rfind("usage: dsv4 " + name, 0) == 0);
        }
}
